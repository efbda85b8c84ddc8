// The production build (`npm run build`): src/ compiled to dist/ by tsc, the approval console's files
// copied beside the compiled API, and the workflow bundle pre-built into dist/workflow-bundle.js so a
// production worker starts without webpack (Temporal's advice for production).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from './paths.js';

const run = promisify(execFile);
const DIST = path.join(PROJECT_ROOT, 'dist');
/** The file name the worker looks for beside dist/worker.js (src/worker.ts: prebuiltWorkflowBundle). */
const BUNDLE_FILE = 'workflow-bundle.js';

async function compile(): Promise<void> {
  // A stale dist could hold modules whose source is gone: start clean.
  await fs.rm(DIST, { recursive: true, force: true });
  const tsc = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', path.join(PROJECT_ROOT, 'tsconfig.build.json')], {
    cwd: PROJECT_ROOT,
  });
}

async function copyConsoleAssets(): Promise<void> {
  // tsc copies no static files, and src/api/console.ts reads them relative to its own module.
  await fs.cp(path.join(PROJECT_ROOT, 'src', 'api', 'console'), path.join(DIST, 'api', 'console'), {
    recursive: true,
  });
}

async function bundleWorkflows(): Promise<number> {
  // Bundled from the compiled JavaScript: the bundle holds exactly the code the image ships.
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(DIST, 'workflows', 'index.js'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  await fs.writeFile(path.join(DIST, BUNDLE_FILE), code);
  return code.length;
}

async function main(): Promise<void> {
  const started = Date.now();
  await compile();
  await copyConsoleAssets();
  const bytes = await bundleWorkflows();
  console.log(
    `[build] dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s (workflow bundle ${(bytes / 1024).toFixed(0)} KiB)`,
  );
}

main().catch((err) => {
  const output = (err as { stdout?: string }).stdout;
  console.error(`[build] failed: ${output || (err instanceof Error ? err.message : err)}`);
  process.exit(1);
});
