// The settings table is the one place a setting is declared: the generated page and .env.example match
// it, every variable src reads and every variable the compose files use is in it, the compose files pass
// each variable to the services it names with the default it names, and no module repeats a default.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderedFiles } from '../../scripts/docs-config.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { parseDuration } from '../../src/domain/duration.js';
import { SETTINGS, type SettingRow } from '../../src/domain/settings-table.js';
import { readComposeFiles } from '../support/compose-files.js';

const ROWS: readonly SettingRow[] = SETTINGS;
const BY_NAME = new Map(ROWS.map((row) => [row.name, row]));
const ROOT = new URL('../../', import.meta.url);
/** Where the table and its zod schema live: they hold the defaults, everyone else imports them. */
const TABLE_FILES = ['src/domain/settings-table.ts', 'src/settings-schema.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return /\.(ts|js)$/.test(entry.name) ? [file] : [];
  });
}
/** The console's browser script shows the dev server's Web UI until /console/settings.json answers. */
const BROWSER_FALLBACKS = ['src/api/console/console.js'];
/** Where a default may not be repeated: src, but the table and what cannot import it. */
const SRC = sourceFiles('src').filter(
  (file) => !TABLE_FILES.includes(file) && !BROWSER_FALLBACKS.includes(file),
);
const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

const sorted = (items: Iterable<string>) => [...new Set(items)].sort();

describe('the settings table', () => {
  it('declares each variable once, with a one-line doc', () => {
    expect(ROWS.length).toBe(BY_NAME.size);
    for (const row of ROWS) {
      expect(row.doc, row.name).toMatch(/^[^\n]+$/);
      // What config.ts reads goes somewhere in MedicConfig.
      if (row.parser) expect(row.fills?.length, `${row.name}: the config paths it fills`).toBeGreaterThan(0);
    }
  });

  it('wrote docs/operations/configuration.md and .env.example as they are', () => {
    for (const [file, text] of Object.entries(renderedFiles())) {
      const target = path.join(PROJECT_ROOT, file);
      const current = existsSync(target) ? readFileSync(target, 'utf8') : '(missing)';
      expect
        .soft(current, `${file} is not what the settings table writes: run npm run docs:config`)
        .toBe(text);
    }
  });

  it('holds every variable src reads from the environment', () => {
    const read_ = /(?:process\.env|\benv)(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g;
    const missing = SRC.flatMap((file) =>
      [...read(file).matchAll(read_)]
        .map((m) => (m[1] ?? m[2]) as string)
        .filter((name) => !BY_NAME.has(name))
        .map((name) => `${name} (${file})`),
    );
    expect(missing, 'add these to src/domain/settings-table.ts').toEqual([]);
  });

  it('names, for each variable read outside config.ts, modules that do read it', () => {
    for (const row of ROWS)
      for (const file of row.readBy ?? []) expect(read(file), `${row.name} in ${file}`).toContain(row.name);
  });
});

describe('the compose files and the settings table', () => {
  const files = readComposeFiles(ROOT);
  const uses = files.flatMap((f) => f.uses);

  it('holds every variable the compose files use', () => {
    expect(sorted(uses.map((u) => u.name).filter((name) => !BY_NAME.has(name)))).toEqual([]);
  });

  it('names the services each variable is passed to', () => {
    for (const row of ROWS) {
      const services = uses.filter((u) => u.name === row.name).map((u) => u.service);
      expect(sorted(services), `${row.name}: the services whose definition uses it`).toEqual(
        sorted(row.services ?? []),
      );
    }
  });

  it('gives the default the compose files give', () => {
    for (const use of uses) {
      const row = BY_NAME.get(use.name);
      if (!row) continue;
      const expected = row.composeDefault ?? row.default ?? '';
      expect(use.default, `${use.file}, ${use.service}: \${${use.name}:-...}`).toBe(expected);
    }
  });

  it('names the variables docker-compose.yml sets to values of its own, and to what', () => {
    const base = files.find((f) => f.file === 'docker-compose.yml');
    const found = new Map<string, { services: string[]; values: string[] }>();
    for (const [service, environment] of base?.environment ?? [])
      for (const [name, value] of environment) {
        if (!BY_NAME.has(name) || new RegExp(`^\\$\\{${name}(:-[^}]*)?\\}$`).test(value)) continue;
        const seen = found.get(name) ?? { services: [], values: [] };
        found.set(name, { services: [...seen.services, service], values: [...seen.values, value] });
      }
    for (const row of ROWS) {
      const set = found.get(row.name);
      expect(
        set ? { services: sorted(set.services), values: sorted(set.values) } : undefined,
        `${row.name}: composeSets`,
      ).toEqual(
        row.composeSets
          ? { services: sorted(row.composeSets.services), values: [row.composeSets.value] }
          : undefined,
      );
    }
  });
});

/** Not settings: no variable sets them, so they are not in the table (why, for each). */
const NOT_SETTINGS: Record<string, string> = {
  DEFAULT_REPLAY_CACHE_ENTRIES: 'the bound of the webhook replay cache',
  DEFAULT_TOLERANCE_MS: "a webhook signature's allowed clock skew",
  DEFAULT_EVIDENCE_TIMEOUT_MS: 'the time box of one piece of evidence',
  DEFAULT_PROTECTED_CONTAINERS: 'the built-in names; MEDIC_PROTECTED_CONTAINERS adds to them',
  DEFAULT_WORKER_HEALTH_FILE:
    "MEDIC_WORKER_HEALTH_FILE's default needs os.tmpdir(), which the pure table cannot ask",
  DEFAULT_HISTORY_EVENTS_LIMIT: 'the history length past which a waiting incident continues as new',
  DEFAULT_LOG_LINES: 'the log lines the engine watch asks the engine for',
  DEFAULT_HTTP_ACTION_TIMEOUT_MS: "the time box of a declared HTTP action (the activity's own bound)",
  DEFAULT_EXEC_ACTION_TIMEOUT_MS: "the time box of a declared command (the activity's own bound)",
};
/** Defaults still repeated, each checked equal to the table until its module imports it. */
const KNOWN_REPEATS: Record<string, () => number> = {};

/** Literals that look like a setting's default next to its config path's name, and are not it. */
const NOT_REPEATS = [
  {
    file: 'src/workflows/watcher.ts',
    text: 'backoffCoefficient: 2',
    why: "the watcher activity's retry policy, not the health checks' (MEDIC_HEALTH_BACKOFF)",
  },
  {
    file: 'src/config.ts',
    text: 'or MEDIC_HOST=127.0.0.1',
    why: 'the advice names loopback, not the default',
  },
];

/** The number a literal such as `10_000` or `2 * 60 * 1000` stands for; undefined for anything else. */
function numberOf(text: string): number | undefined {
  if (!/^\d[\d_.]*(\s*\*\s*\d[\d_.]*)*$/.test(text.trim())) return undefined;
  return text.split('*').reduce((product, factor) => product * Number(factor.trim().replace(/_/g, '')), 1);
}

/** A row's default as the literals a module could repeat it with. */
function defaultLiterals(row: SettingRow): { text: string; number?: number } | undefined {
  if (!row.parser || !row.default) return undefined;
  if (row.parser === 'int' || row.parser === 'number')
    return { text: row.default, number: Number(row.default) };
  if (row.parser === 'duration') return { text: row.default, number: parseDuration(row.default) };
  return { text: row.default };
}

describe('defaults', () => {
  it('are not repeated in DEFAULT_* constants: those take them from the table', () => {
    const declaration = /(?:export\s+)?const\s+(DEFAULT_[A-Z0-9_]+)\b[^=]*=\s*([\s\S]*?);\n/g;
    const repeated: string[] = [];
    for (const file of SRC)
      for (const [, name, value] of read(file).matchAll(declaration) as Iterable<string[]>) {
        if (/\bdefault(Text|Number|Ms|List)\(/.test(value as string) || NOT_SETTINGS[name as string])
          continue;
        const known = KNOWN_REPEATS[name as string];
        if (known) expect(numberOf(value as string), `${name} (${file})`).toBe(known());
        else repeated.push(`${name} (${file})`);
      }
    expect(repeated, 'take these from src/domain/settings-table.ts, or list them in NOT_SETTINGS').toEqual(
      [],
    );
  });

  it('are not repeated as literal fallbacks or fields next to a variable or its config path', () => {
    const repeated: string[] = [];
    for (const row of ROWS) {
      const literals = defaultLiterals(row);
      if (!literals) continue;
      const leaves = (row.fills ?? []).map((p) => p.split('.').at(-1) as string);
      // `NAME || '3000'`, `leaf ?? 10_000`, `leaf: 2000`, `leaf = 300_000`; comparisons are not defaults.
      const near = new RegExp(
        `\\b(?:${[row.name, ...leaves].join('|')})\\b\\)?\\s*(?:\\?\\?|\\|\\||:|(?<![=!<>])=(?!=))\\s*(['"][^'"]*['"]|\\d[\\d_.]*(?:\\s*\\*\\s*\\d[\\d_.]*)*)`,
        'g',
      );
      for (const file of SRC)
        for (const [number, line] of read(file).split('\n').entries())
          for (const [, literal] of line.matchAll(near) as Iterable<string[]>) {
            const text = (literal as string).replace(/^['"`]|['"`]$/g, '');
            const same =
              text === literals.text || (literals.number !== undefined && numberOf(text) === literals.number);
            if (same && !NOT_REPEATS.some((r) => r.file === file && line.includes(r.text)))
              repeated.push(`${file}:${number + 1}: ${row.name}'s default in "${line.trim()}"`);
          }
    }
    expect(repeated, 'take these from src/domain/settings-table.ts').toEqual([]);
  });

  it('that are distinctive text (a URL, an address, a model) are quoted in src only in the table', () => {
    const distinctive = ROWS.filter(
      (row) => row.parser && row.default && /[.:/=,]/.test(row.default) && !/^[\d.]+$/.test(row.default),
    );
    const quoted = (text: string) => new RegExp(`(['"])${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\1`);
    const repeated = SRC.flatMap((file) =>
      distinctive
        .filter((row) => quoted(row.default as string).test(read(file)))
        .map((row) => `${row.name}'s default in ${file}`),
    );
    expect(repeated, 'take these from src/domain/settings-table.ts').toEqual([]);
  });
});
