// Secrets in alerts, through the API and a real worker on the dev server: no trace of them in the
// workflow history (payloads decoded), the API's answers, the report, the logs or the runbook.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import type { RunbookStore } from '../../src/activities/runbook.js';
import { createApp, DEFAULT_INGEST } from '../../src/api/app.js';
import type { IncidentState } from '../../src/domain/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type ServedApp, serveApp } from '../support/api.js';
import {
  buildActivities,
  captureLogger,
  signedRequest,
  superviseDemoApp,
  tempRunbook,
  testSettings,
} from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import {
  connectDevServer,
  type DevServerConnection,
  startWorker,
  uniqueTaskQueue,
} from '../support/temporal.js';

const CONNECTION = 'postgres://app:S3cretPassw0rd@db:5432/app';
const TOKEN_LETTERS = 'KqWmZrTxVbNpLsHdJfGcYeUaQoXiRwEtBnMz';
const TOKEN = `ghp_${TOKEN_LETTERS}`;
const WEBHOOK_SECRET = 'secrets-test-webhook-secret-0123';
const SENDER = { name: 'am', token: 'secrets-test-am-token-0123456789' };
const SVC = `secrets-svc-${process.pid}`;

let temporal: DevServerConnection;
let supervisor: ProcessSupervisor;
let worker: { stop(): Promise<void> };
let api: ServedApp;
let runbook: RunbookStore;
/** The worker's and the API's log lines, as they are written. */
let logLines: Array<Array<Record<string, unknown>>>;

beforeAll(async () => {
  temporal = await connectDevServer();
  ({ supervisor } = await superviseDemoApp({ name: SVC }));
  const taskQueue = uniqueTaskQueue('secrets');
  runbook = tempRunbook();
  const built = buildActivities(supervisor, runbook);
  const apiLog = captureLogger();
  logLines = [built.logLines, apiLog.lines];
  worker = await startWorker({
    connection: temporal.nativeConnection,
    taskQueue,
    activities: built.activities,
  });
  api = await serveApp(
    createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: WEBHOOK_SECRET,
        approverTokens: [],
        incident: testSettings(),
        ingest: { ...DEFAULT_INGEST, alertmanagerTokens: [SENDER] },
      },
      logger: apiLog.logger,
    }),
  );
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await supervisor?.stopAll();
  await temporal?.close();
});

/** The history as text, every payload's bytes decoded (JSON payloads are UTF-8). */
async function historyText(workflowId: string): Promise<string> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  // The history's own toJSON writes a payload's bytes (`data`) as base64.
  return JSON.stringify(history, (key, value) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8');
    return value;
  });
}

function expectNoTrace(where: string, text: string): void {
  expect(text, where).not.toMatch(/cretpassw/i);
  expect(text.toLowerCase(), where).not.toContain(TOKEN_LETTERS.toLowerCase());
}

const awaitState = (workflowId: string, done: (s: IncidentState) => boolean) =>
  waitFor(
    `${workflowId} to settle`,
    async () => {
      const s = (await temporal.client.workflow.getHandle(workflowId).query(statusQuery)) as IncidentState;
      return done(s) ? s : undefined;
    },
    { timeoutMs: 45_000 },
  );

async function get(path: string): Promise<string> {
  const res = await fetch(`${api.base}${path}`);
  expect(res.status, path).toBe(200);
  return res.text();
}

describe('secrets never stored (through the API and Temporal)', () => {
  it('a webhook with secrets in its logs leaves no trace in history, answers, report, logs or runbook', async () => {
    const body = {
      incident_id: `deploy-${TOKEN}`,
      container_name: SVC,
      alert_type: 'memory-leak',
      severity: 'medium',
      logs: [
        `connecting to ${CONNECTION} with ${TOKEN}`,
        `{"level":"error","msg":"memory usage above threshold; pool ${CONNECTION} token ${TOKEN}"}`,
      ],
      timestamp: new Date().toISOString(),
    };
    const res = await fetch(`${api.base}/webhooks/alert`, signedRequest(WEBHOOK_SECRET, body));
    expect(res.status).toBe(202);
    const { workflowId } = (await res.json()) as { workflowId: string };
    // Diagnosed, restarted, verified and learned: every place the alert's text could travel.
    const resolved = await awaitState(workflowId, (s) => s.status === 'RESOLVED' && !!s.runbookEntryId);

    const history = await historyText(workflowId);
    expect(history).toContain('memory usage above threshold'); // the payloads were decoded
    expectNoTrace('workflow history', history);
    expect(resolved.diagnosis?.errorSignature).toContain('[redacted]');
    expectNoTrace('GET /incidents/:id', await get(`/incidents/${workflowId}`));
    expectNoTrace('the report', await get(`/incidents/${workflowId}/report`));
    expectNoTrace('GET /incidents', await get('/incidents?limit=50'));
    expectNoTrace('runbook.json', readFileSync(runbook.filePath, 'utf8'));
    expectNoTrace('the logs', JSON.stringify(logLines));
  });

  it('an Alertmanager alert with secrets in its labels and annotations leaves no trace', async () => {
    const res = await fetch(`${api.base}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SENDER.token}` },
      body: JSON.stringify({
        version: '4',
        groupKey: 'k',
        status: 'firing',
        receiver: 'medic',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'DbDown', container: CONNECTION, severity: 'low' },
            annotations: { summary: `down: ${CONNECTION}`, description: TOKEN },
            startsAt: new Date().toISOString(),
            fingerprint: TOKEN,
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const { alerts } = (await res.json()) as { alerts: Array<{ workflowId: string }> };
    const workflowId = alerts[0]?.workflowId ?? '';
    const handle = temporal.client.workflow.getHandle(workflowId);
    try {
      await awaitState(workflowId, (s) => s.status === 'ESCALATED');
      expectNoTrace('workflow history', await historyText(workflowId));
      expectNoTrace('GET /incidents/:id', await get(`/incidents/${workflowId}`));
      expectNoTrace('the report', await get(`/incidents/${workflowId}/report`));
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });
});
