// Connections to the servers global-setup started, and workers for a test's own task queue.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { MedicActivities } from '../../src/activities/index.js';
import { createMedicWorker } from '../../src/worker.js';

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
}): Promise<{ worker: Worker; stop(): Promise<void> }> {
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
