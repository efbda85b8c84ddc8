// The Temporal server stopped (or killed with SIGKILL) and started again on the same database in the middle of an incident that
// waits for a person, with a worker and Medic's API connected throughout: nothing is lost. While the
// server is down a decision through the API answers 503 within MEDIC_DECISION_TIMEOUT (the approver can
// retry); once it is back, the same decision is taken and the incident completes, restarting the target once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, startTemporalDevServer } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import { createApp } from '../../src/api/app.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type ServedApp, serveApp } from '../support/api.js';
import {
  alertFor,
  buildActivities,
  captureLogger,
  superviseDemoApp,
  testSettings,
} from '../support/medic.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';
import { startWorker, uniqueTaskQueue } from '../support/temporal.js';

const APPROVER = { name: 'olga', token: 'olga-approver-token-0123456789' };
const DECISION_TIMEOUT_MS = 2000;
const settings = testSettings();
let cli: string;
let port: number;
let dbFile: string;
let server: DevServer | undefined;
let connection: Connection;
let nativeConnection: NativeConnection;
let supervisor: ProcessSupervisor;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let api: ServedApp;
let target: string;
let taskQueue: string;

const startServer = async () => {
  server = await startTemporalDevServer({ cliPath: cli, port, dbFile });
};

beforeAll(async () => {
  cli = await ensureTool(TEMPORAL_CLI);
  port = await portForAnotherProcess();
  dbFile = path.join(mkdtempSync(path.join(tmpdir(), 'medic-restart-')), 'temporal.db');
  await startServer();
  const address = `127.0.0.1:${port}`;
  connection = await Connection.connect({ address });
  nativeConnection = await NativeConnection.connect({ address });
  target = `restart-${Date.now()}`;
  ({ supervisor } = await superviseDemoApp({ name: target }));
  taskQueue = uniqueTaskQueue('server-restart');
  worker = await startWorker({
    connection: nativeConnection,
    taskQueue,
    activities: buildActivities(supervisor, undefined, undefined, settings).activities,
  });
  const client = new Client({ connection, namespace: 'default' });
  api = await serveApp(
    createApp({
      client,
      config: {
        temporal: { address, namespace: 'default', taskQueue },
        webhookSecret: 'server-restart-secret-0123456789',
        approverTokens: [APPROVER],
        incident: settings,
        api: { host: '127.0.0.1', port: 0, decisionTimeoutMs: DECISION_TIMEOUT_MS },
      },
      logger: captureLogger().logger,
    }),
  );
}, 120_000);

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await supervisor?.stopAll();
  await connection?.close();
  await nativeConnection?.close();
  await server?.stop();
});

const approve = (workflowId: string) =>
  fetch(`${api.base}/incidents/${encodeURIComponent(workflowId)}/approve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${APPROVER.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ comment: 'after the outage' }),
    // The test's own patience, far above the decision timeout: the API must answer, not hang.
    signal: AbortSignal.timeout(30_000),
  });

describe('the Temporal server restarted on the same database mid-incident', () => {
  // Stopped, and killed as a crash would (the SQLite file in write-ahead-log mode: SQLITE_PRAGMAS).
  it.each([
    ['stopped (SIGTERM)', 'stop', 'hang'],
    ['killed (SIGKILL)', 'kill', 'crash'],
  ] as const)(
    '%s: answers a decision 503 while it is down, then takes it and completes the incident',
    async (_how, end, alertType) => {
      const client = new Client({ connection, namespace: 'default' });
      const gateway = new IncidentGateway(client, taskQueue, settings);
      const { workflowId } = await gateway.openOrJoin(alertFor(target, { alertType, severity: 'critical' }));
      const handle = client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
      await waitFor(
        'awaiting approval',
        async () => (await handle.query(statusQuery)).status === 'AWAITING_APPROVAL',
        {
          timeoutMs: 30_000,
        },
      );
      const startedBefore = (await supervisor.inspect(target))?.startedAt;

      await server?.[end]();
      server = undefined;
      const asked = Date.now();
      const during = await approve(workflowId);
      const answeredMs = Date.now() - asked;
      const body = (await during.json()) as { error?: { code: string; message: string } };
      expect(during.status).toBe(503);
      expect(body.error?.message).toBeTruthy();
      console.log(
        `[server restart, ${end}] decision while the server was down: ${during.status} ${body.error?.code} after ${answeredMs} ms (MEDIC_DECISION_TIMEOUT ${DECISION_TIMEOUT_MS} ms)`,
      );

      await startServer();
      const after = await waitFor(
        'the decision taken once the server is back',
        async () => {
          const res = await approve(workflowId);
          return res.status === 200 ? res : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      expect(await after.json()).toMatchObject({ workflowId, decision: 'approve', by: APPROVER.name });
      const result = await handle.result();
      expect(result.status).toBe('RESOLVED');
      expect(result.actions.map((a) => a.outcome)).toEqual(['restarted']);
      expect((await supervisor.inspect(target))?.startedAt).not.toBe(startedBefore);
    },
    180_000,
  );
});
