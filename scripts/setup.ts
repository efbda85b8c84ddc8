// `npm run setup`: installs the Temporal CLI and the time-skipping test server into .tools/ when
// they are not already configured (TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH) or on PATH.
// Idempotent and quick when everything is present. Does not touch system packages.
import { findEngine } from './engine.js';
import { ensureTool, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from './tools.js';

const log = (line: string) => console.log(`[setup] ${line}`);

const cli = await ensureTool(TEMPORAL_CLI, log);
log(`Temporal CLI: ${cli}`);
const testServer = await ensureTool(TEMPORAL_TEST_SERVER, log);
log(`Temporal test server: ${testServer}`);
const engine = await findEngine({ startPodman: false, log });
if (engine) {
  log(`container engine: ${engine.product} at ${engine.dockerHost}`);
} else {
  log('container engine: none running (npm start and the tests start Podman if it is installed;');
  log('  `npm run setup:engine` installs Podman with apt; without an engine the demo app runs as a process)');
}
