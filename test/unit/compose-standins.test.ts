// The compose stand-ins copy binaries into images: only a real executable may go in (a pip or pyenv shim
// first on PATH is a script that exits 127 there), and an image's tag changes with the binaries it holds,
// so a stand-in built from other files is never reused.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, standinTag } from '../../scripts/compose-standins.js';
import { ensureElfTool, findTool, isElfExecutable, TEMPORAL_CLI } from '../../scripts/tools.js';

const SHIM = `#!/usr/bin/env bash
# pyenv's shim: runs whichever temporal the selected Python version installed
exec "$(pyenv root)/libexec/pyenv" exec "temporal" "$@"
`;

let dir = '';
let saved: { PATH?: string; TEMPORAL_CLI_PATH?: string };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'medic-standins-'));
  saved = { PATH: process.env.PATH, TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH };
});
afterAll(() => {
  process.env.PATH = saved.PATH;
  if (saved.TEMPORAL_CLI_PATH === undefined) delete process.env.TEMPORAL_CLI_PATH;
  else process.env.TEMPORAL_CLI_PATH = saved.TEMPORAL_CLI_PATH;
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string, mode = 0o755): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

describe('the binaries a stand-in copies', () => {
  it('takes an ELF executable, links followed, and never a script', () => {
    expect(isElfExecutable(process.execPath)).toBe(true);
    const link = path.join(dir, 'node-link');
    symlinkSync(process.execPath, link);
    expect(isElfExecutable(link)).toBe(true);
    const shim = write('temporal-shim', SHIM);
    expect(isElfExecutable(shim)).toBe(false);
    const shimLink = path.join(dir, 'shim-link');
    symlinkSync(shim, shimLink);
    expect(isElfExecutable(shimLink)).toBe(false);
    // An ELF file that may not be executed is no executable either.
    const copy = path.join(dir, 'node-copy');
    copyFileSync(process.execPath, copy);
    chmodSync(copy, 0o644);
    expect(isElfExecutable(copy)).toBe(false);
  });

  it('passes over a Temporal CLI shim first on PATH for the pinned binary in .tools', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    write('bin/temporal', SHIM);
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.PATH = `${bin}${path.delimiter}${saved.PATH ?? ''}`;
    // What the CLI's users get: the first on PATH.
    expect(findTool(TEMPORAL_CLI)).toBe(path.join(bin, 'temporal'));
    // What goes into an image: a real binary, not the shim.
    const lines: string[] = [];
    const chosen = await ensureElfTool(TEMPORAL_CLI, (line) => lines.push(line));
    expect(chosen).not.toBe(path.join(bin, 'temporal'));
    expect(isElfExecutable(chosen)).toBe(true);
    expect(chosen).toMatch(/\.tools\/py\/temporal-cli\/bin\/temporal$/);
    expect(lines.join('\n')).toMatch(/not an executable binary/);
  }, 120_000);
});

describe("a stand-in's tag", () => {
  it('changes with the content of the binaries it holds, and only with it', async () => {
    const server = write('server', 'binary one');
    const cli = write('cli', 'cli one');
    const first = await standinTag('1.32.2', [server, cli]);
    expect(first).toMatch(/^1\.32\.2-[0-9a-f]{12}$/);
    expect(await standinTag('1.32.2', [server, cli])).toBe(first);
    write('cli', 'cli two');
    const second = await standinTag('1.32.2', [server, cli]);
    expect(second).not.toBe(first);
    // A folder's files count too (the schema).
    const folder = path.join(dir, 'schema');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'v1.sql'), 'create table a');
    const before = await contentHash([folder]);
    writeFileSync(path.join(folder, 'v2.sql'), 'create table b');
    expect(await contentHash([folder])).not.toBe(before);
  });
});
