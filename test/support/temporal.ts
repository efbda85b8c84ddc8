// Connections to the servers global-setup started, and workers for a test's own task queue.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import type { MedicActivities } from '../../src/activities/index.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { createMedicWorker, type MedicWorker } from '../../src/worker.js';

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface DevServerConnection {
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

export async function connectDevServer(): Promise<DevServerConnection> {
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace: 'default' }),
    nativeConnection,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/**
 * The run's dev server for the calling test file: connects before its tests, closes after them.
 * Use the returned connection inside hooks and tests (it is not connected yet at import time).
 */
export function devServerForFile(): DevServerConnection {
  let connected: DevServerConnection | undefined;
  beforeAll(async () => {
    connected = await connectDevServer();
  });
  afterAll(async () => {
    await connected?.close();
  });
  const current = () => {
    if (!connected) throw new Error('the dev server connects in beforeAll: use it in hooks and tests');
    return connected;
  };
  return {
    get client() {
      return current().client;
    },
    get nativeConnection() {
      return current().nativeConnection;
    },
    close: () => current().close(),
  };
}

/**
 * A time-skipping environment on the one test server global-setup started. The SDK exposes this
 * only as the (private) `create` with server type `existing`, which is what createFromExistingServer
 * calls, minus time skipping; the SDK version is pinned.
 */
export async function connectTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const create = (
    TestWorkflowEnvironment as unknown as {
      create(opts: unknown): Promise<TestWorkflowEnvironment>;
    }
  ).create.bind(TestWorkflowEnvironment);
  return create({
    server: { type: 'existing' },
    address: inject('timeSkippingAddress'),
    namespace: 'default',
    supportsTimeSkipping: true,
  });
}

export async function startWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  activities: MedicActivities;
}): Promise<{ worker: MedicWorker; stop(): Promise<void> }> {
  const worker = await createMedicWorker({
    connection: options.connection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    activities: options.activities,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * A worker on `taskQueue` and the gateway that opens incidents there, for the length of `body`; the worker
 * stops afterwards, then `supervisor` (the demo processes it acts on) stops all it runs, whatever happened.
 * `settings` are the gateway's, as the API would pass them; the worker's are those its activities were
 * built with (a test may make the two differ).
 */
export async function withIncidentWorker<T>(
  temporal: Pick<DevServerConnection, 'client' | 'nativeConnection'>,
  options: {
    taskQueue: string;
    activities: MedicActivities;
    settings: IncidentSettings;
    supervisor?: ProcessSupervisor;
  },
  body: (gateway: IncidentGateway) => Promise<T>,
): Promise<T> {
  try {
    const worker = await startWorker({
      connection: temporal.nativeConnection,
      taskQueue: options.taskQueue,
      activities: options.activities,
    });
    try {
      return await body(new IncidentGateway(temporal.client, options.taskQueue, options.settings));
    } finally {
      await worker.stop();
    }
  } finally {
    await options.supervisor?.stopAll();
  }
}
