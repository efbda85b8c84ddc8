// A host worker as its own process (`npm run start:worker` with MEDIC_WORKER_ROLE=host), so a test can kill it
// with SIGKILL or SIGTERM and start another; the central worker and the API in the test's process; and an
// in-process worker's run/stop pair. Used by the two-host test and the worker chaos test.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { loadConfig, type MedicConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { connectClient } from '../../src/temporal/connection.js';
import { createMedicWorker, type MedicWorker, medicWorkerActivities } from '../../src/worker.js';
import { waitFor } from '../support/ports.js';
import { uniqueTaskQueue } from '../support/temporal.js';

/** Runs an in-process worker; the function returned stops it and waits for it. */
export function runWorker(worker: MedicWorker): () => Promise<void> {
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}

/** Starts a host worker process for `hostName` on the engine at `dockerHost`; resolves once it polls. */
export async function startHostWorkerProcess(options: {
  env: NodeJS.ProcessEnv;
  hostName: string;
  dockerHost: string;
}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...options.env,
      MEDIC_WORKER_ROLE: 'host',
      MEDIC_HOST_NAME: options.hostName,
      DOCKER_HOST: options.dockerHost,
      // Its "worker running" line says it polls.
      MEDIC_LOG_LEVEL: 'info',
      MEDIC_WORKER_HEALTH_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'medic-host-worker-')), 'health'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitFor(
    `the ${options.hostName} host worker to run`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the ${options.hostName} host worker exited: ${output}`);
      return output.includes('"worker running"') ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return child;
}

/** Resolves with the exit code (or signal) once the process has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/**
 * The environment of a Medic split into central and host workers, for one test file: its own task queue and
 * runbook, quick health checks, no cooldown, recurrence or engine watcher, and no model (Ollama refuses).
 */
export function splitMedicEnv(
  name: string,
  ollamaUrl: string,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    MEDIC_PORT: '0',
    MEDIC_TASK_QUEUE: uniqueTaskQueue(name),
    MEDIC_RUNBOOK_PATH: path.join(mkdtempSync(path.join(tmpdir(), `medic-${name}-`)), 'runbook.json'),
    MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
    MEDIC_RESTART_STOP_TIMEOUT: '5s',
    MEDIC_RECURRENCE_WINDOW: '0s',
    MEDIC_GUARD_COOLDOWN: '0s',
    MEDIC_WATCHER: 'off',
    MEDIC_LOG_LEVEL: 'warn',
    GEMINI_API_KEY: '',
    OLLAMA_HOST: ollamaUrl,
    ...extra,
  };
}

export interface CentralMedic {
  config: MedicConfig;
  client: Client;
  connection: NativeConnection;
  apiUrl: string;
}

/** The central worker (workflows, diagnosis, notifications, the runbook's single writer) and the API, in this process. */
export async function startCentralMedic(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  stops: Array<() => Promise<void>>,
): Promise<CentralMedic> {
  const config = loadConfig({ ...env, MEDIC_WORKER_ROLE: 'central' });
  const client = await connectClient(config.temporal);
  stops.push(() => client.connection.close());
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  stops.push(() => connection.close());
  const central = await createMedicWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    role: 'central',
    workflowBundlePath: inject('workflowBundlePath'),
    activities: medicWorkerActivities({ config, client, logger, runbookPath: config.runbookPath }),
  });
  stops.push(runWorker(central));
  const api = await startApi({ client, config, logger });
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        api.close(() => resolve());
        api.closeAllConnections();
      }),
  );
  return { config, client, connection, apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}` };
}
