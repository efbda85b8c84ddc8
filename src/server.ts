// The API process: `npm run start:api`. scripts/local-stack.ts and the tests start the same app in-process.
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { createApp } from './api/app.js';
import { loadConfig, type MedicConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { connectClient } from './temporal/connection.js';

export interface ApiServer extends Server {
  /** Sends the coalesced alerts still held in memory; call it after close, before closing the client. */
  drainIngest(): Promise<void>;
}

/** Listens and resolves with the server once it accepts connections. */
export function startApi(deps: { client: Client; config: MedicConfig; logger: Logger }): Promise<ApiServer> {
  const app = createApp(deps);
  return new Promise((resolve, reject) => {
    const server = app.listen(deps.config.api.port, deps.config.api.host, () =>
      resolve(Object.assign(server, { drainIngest: () => app.drainIngest() })),
    );
    server.once('error', reject);
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'api', level: config.logLevel });
  const client = await connectClient(config.temporal);
  const server = await startApi({ client, config, logger });
  logger.info({ address: server.address() }, 'api listening');
  const stop = () => {
    server.close();
    void server
      .drainIngest()
      .then(() => client.connection.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
