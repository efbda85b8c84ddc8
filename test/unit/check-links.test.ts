// The documentation's link check (npm run check:links) over small trees written for each test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorsOf, checkLinks, slugOf } from '../../scripts/check-links.js';

const roots: string[] = [];

/** A temporary repository holding the given files (path -> content). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'medic-links-'));
  roots.push(root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const GOOD = {
  'README.md': [
    '# Medic',
    'See [the docs](docs/README.md), [the guard](docs/concepts/guardrails.md#a-guard-per-target),',
    '[the code](src/guard.ts) and [Temporal](https://temporal.io).',
    '```sh',
    'echo "[not a link](nowhere.md)"',
    '```',
    'Inline code is not a link either: `[x](missing.md)`.',
  ].join('\n'),
  'docs/README.md': [
    '# Docs',
    '- [Guardrails](concepts/guardrails.md)',
    '- [Configuration](operations/configuration.md#medic_host-medic_port)',
    '- [Back to the top](../README.md#medic)',
  ].join('\n'),
  'docs/concepts/guardrails.md': [
    '# Guardrails',
    '## A guard per target',
    '## Limits',
    '## Limits',
    'The [second one](#limits-1) and [config](../operations/configuration.md).',
  ].join('\n'),
  'docs/operations/configuration.md': '# Configuration\n\n### `MEDIC_HOST`, `MEDIC_PORT`\n',
  'src/guard.ts': 'export {};\n',
};

describe('the link check', () => {
  it('finds nothing wrong in a tree whose links and anchors all resolve', () => {
    expect(checkLinks(tree(GOOD))).toEqual([]);
  });

  it('reports a link to a missing file and an anchor no heading has, with file and line', () => {
    const root = tree({
      ...GOOD,
      'docs/concepts/guardrails.md': [
        '# Guardrails',
        '## A guard per target',
        'The [budget](budgets.md) and [limits](#limits).',
      ].join('\n'),
    });
    expect(checkLinks(root)).toEqual([
      { file: 'docs/concepts/guardrails.md', line: 3, link: 'budgets.md', reason: 'no such file' },
      {
        file: 'docs/concepts/guardrails.md',
        line: 3,
        link: '#limits',
        reason: 'no heading with anchor #limits in docs/concepts/guardrails.md',
      },
    ]);
  });

  it('reports an anchor missing in another page and a page the index does not link', () => {
    const root = tree({
      ...GOOD,
      'README.md': '# Medic\n[x](docs/concepts/guardrails.md#cooldowns)\n',
      'docs/concepts/storms.md': '# Storms\n',
    });
    expect(checkLinks(root)).toEqual([
      {
        file: 'README.md',
        line: 2,
        link: 'docs/concepts/guardrails.md#cooldowns',
        reason: 'no heading with anchor #cooldowns in docs/concepts/guardrails.md',
      },
      { file: 'docs/concepts/storms.md', line: 0, link: '', reason: 'not linked from docs/README.md' },
    ]);
  });
});

describe("GitHub's heading anchors", () => {
  it('lowercases, drops punctuation except - and _, and turns spaces into -', () => {
    expect(slugOf('Scaling, and what each process needs')).toBe('scaling-and-what-each-process-needs');
    expect(slugOf('`GET /stats?since=24h`')).toBe('get-statssince24h');
    expect(slugOf('Time to recover (MTTR)')).toBe('time-to-recover-mttr');
    expect(slugOf('[The rule](x.md) for MEDIC_HOST')).toBe('the-rule-for-medic_host');
  });

  it('numbers repeated headings -1, -2', () => {
    expect([...anchorsOf('# A\n## Run\n## Run\n## Run\n')]).toEqual(['a', 'run', 'run-1', 'run-2']);
  });

  it('reads setext headings and ignores headings in fenced code', () => {
    expect([...anchorsOf('Title\n=====\n```\n# not a heading\n```\nPart two\n---\n')]).toEqual([
      'title',
      'part-two',
    ]);
  });
});
