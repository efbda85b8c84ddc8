// Alertmanager notifications through the API to running incidents: the recorded firing-then-resolved
// payload opens and closes the right incidents, storms keep exact counts, and the allowlist turns
// every target Medic may not touch into an escalated incident without an action.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import { createApp, DEFAULT_INGEST } from '../../src/api/app.js';
import type { IncidentState } from '../../src/domain/types.js';
import { alertSignal, statusQuery } from '../../src/workflows/messages.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { buildActivities, captureLogger, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const SENDER = { name: 'am-prod', token: 'am-incidents-token-0123456789abc' };
const RUN = `${process.pid}`;
const SHOP = `shop-api-${RUN}`;
const BILLING = `billing-db-${RUN}`;
const UNMANAGED = `unmanaged-${RUN}`;

const temporal = devServerForFile();
let supervisor: ProcessSupervisor;
let worker: { stop(): Promise<void> };
let api: ServedApp;
let base: string;
let taskQueue: string;

/** The recorded notification, with this run's container names. */
function fixture(name: 'firing' | 'resolved'): string {
  return readFileSync(new URL(`../fixtures/alertmanager/${name}.json`, import.meta.url), 'utf8')
    .replaceAll('shop-api', SHOP)
    .replaceAll('billing-db', BILLING);
}

const post = async (body: string | object) => {
  const res = await fetch(`${base}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SENDER.token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { alerts: Array<{ workflowId: string; outcome: string }> },
  };
};

const state = (workflowId: string) =>
  temporal.client.workflow.getHandle(workflowId).query(statusQuery) as Promise<IncidentState>;

const awaitStatus = (workflowId: string, status: IncidentState['status']) =>
  waitFor(
    `${workflowId} to reach ${status}`,
    async () => {
      const s = await state(workflowId);
      return s.status === status ? s : undefined;
    },
    { timeoutMs: 45_000 },
  );

beforeAll(async () => {
  ({ supervisor } = await superviseDemoApp({ name: SHOP }));
  // A running process without the managed label.
  supervisor.start({
    name: UNMANAGED,
    command: process.execPath,
    args: ['-e', 'setInterval(() => {}, 1 << 30)'],
    labels: { team: 'someone-else' },
  });
  taskQueue = uniqueTaskQueue('am-incidents');
  worker = await startWorker({
    connection: temporal.nativeConnection,
    taskQueue,
    activities: buildActivities(supervisor).activities,
  });
  const app = createApp({
    client: temporal.client,
    config: {
      temporal: { address: 'unused', namespace: 'default', taskQueue },
      webhookSecret: 'am-incidents-webhook-secret-0123',
      approverTokens: [],
      incident: testSettings(),
      ingest: {
        ...DEFAULT_INGEST,
        alertmanagerTokens: [SENDER],
        coalesceWindowMs: 100,
        coalesceMaxWindowMs: 400,
      },
    },
    logger: captureLogger().logger,
  });
  api = await serveApp(app);
  base = api.base;
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await supervisor?.stopAll();
});

describe('a recorded Alertmanager notification', () => {
  it('opens the right incidents when firing, keeps storm counts exact, and closes them when resolved', async () => {
    const shopId = `incident:local:${SHOP}:high-memory-usage`;
    const billingId = `incident:local:${BILLING}:high-memory-usage`;

    const firing = await post(fixture('firing'));
    expect(firing.status).toBe(200);
    expect(Object.fromEntries(firing.body.alerts.map((a) => [a.workflowId, a.outcome]))).toEqual({
      [shopId]: 'opened',
      [billingId]: 'opened',
    });

    // shop-api is managed and critical: it waits for approval. billing-db does not exist: escalated.
    const waiting = await awaitStatus(shopId, 'AWAITING_APPROVAL');
    expect(waiting).toMatchObject({ target: SHOP, alertType: 'high-memory-usage', severity: 'critical' });
    const billing = await awaitStatus(billingId, 'ESCALATED');
    expect(billing.timeline.at(-1)?.detail).toContain(`container ${BILLING} does not exist`);
    expect(billing.actions).toEqual([]);

    // Alertmanager resends the group every group_interval; HA pairs send it twice. 40 more copies:
    const copies = await Promise.all(Array.from({ length: 40 }, () => post(fixture('firing'))));
    expect(copies.every((c) => c.status === 200)).toBe(true);
    // Both incidents absorb them: the escalated one stays open while its alert keeps firing.
    for (const id of [shopId, billingId]) {
      await waitFor(`${id} to count all 41 alerts`, async () => (await state(id)).alertCount === 41);
    }
    expect((await state(billingId)).status).toBe('ESCALATED');

    // A batch re-sent after its answer was lost carries the same delivery id: counted once.
    const shop = temporal.client.workflow.getHandle(shopId);
    const batch = await state(shopId);
    const alert = {
      source: 'alertmanager' as const,
      target: SHOP,
      alertType: 'high-memory-usage',
      severity: batch.severity,
      status: 'firing' as const,
      logs: [],
      firedAt: batch.openedAt,
      receivedAt: batch.openedAt,
      count: 5,
      deliveryId: 'coalesced-test-1',
    };
    await shop.signal(alertSignal, alert);
    await shop.signal(alertSignal, alert);
    await waitFor('the re-sent batch to count once', async () => (await state(shopId)).alertCount === 46);

    const resolved = await post(fixture('resolved'));
    expect(resolved.status).toBe(200);
    expect(Object.fromEntries(resolved.body.alerts.map((a) => [a.workflowId, a.outcome]))).toEqual({
      [shopId]: 'resolved',
      [billingId]: 'resolved',
    });
    const closed = await awaitStatus(shopId, 'RESOLVED');
    expect(closed.timeline.at(-1)?.detail).toMatch(/^recovered by itself/);
    expect(closed.actions).toEqual([]);
    expect(closed.alertCount).toBe(46);
    expect((await supervisor.inspect(SHOP))?.restartCount).toBe(0);
    // The escalated incident ends once its alert is resolved, still escalated, still without an action.
    const billingRun = temporal.client.workflow.getHandle(billingId);
    await waitFor(
      'the escalated incident to end',
      async () => (await billingRun.describe()).status.name === 'COMPLETED',
    );
    expect(await billingRun.result()).toMatchObject({ status: 'ESCALATED', alertCount: 41, actions: [] });
  });
});

describe('the target allowlist', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a container without the managed label', UNMANAGED, /lacks the managed label/],
    ['the Temporal server', 'temporal', /protected containers \(Medic or Temporal\)/],
    ['Medic itself', 'medic-worker', /protected containers/],
    ['a container that does not exist', `ghost-${RUN}`, /does not exist/],
    ['a name with shell characters', `$(reboot)-${RUN}`, /contains shell characters/],
    ['a name with control characters', `evil\u001b[2J-${RUN}`, /contains control characters/],
    ['a name with path characters', `../../var/run/docker.sock-${RUN}`, /contains path characters/],
  ];
  for (const [what, name, reason] of cases) {
    it(`escalates an alert about ${what}, and never acts`, async () => {
      const alertname = `Allowlist${Math.random().toString(36).slice(2, 8)}`;
      const res = await post({
        version: '4',
        groupKey: 'k',
        status: 'firing',
        receiver: 'medic',
        alerts: [
          {
            status: 'firing',
            labels: { alertname, container: name, severity: 'low' },
            startsAt: new Date().toISOString(),
          },
        ],
      });
      expect(res.status).toBe(200);
      const workflowId = res.body.alerts[0]?.workflowId ?? '';
      const escalated = await awaitStatus(workflowId, 'ESCALATED');
      expect(escalated.timeline.at(-1)?.detail).toMatch(reason);
      expect(escalated.actions).toEqual([]);
      expect(escalated.diagnosis).toBeUndefined();
    });
  }
});

describe('a resolved alert after Medic acted', () => {
  it('is noted in the timeline and changes nothing', async () => {
    // An incident that keeps watching for recurrence after the fix, so it is still open when the
    // sender's resolved notification arrives: the worker's settings are the ones incidents run with.
    const watchingQueue = uniqueTaskQueue('am-watching');
    const watchingSettings = testSettings({ recurrenceWindowMs: 60_000 });
    const watchingWorker = await startWorker({
      connection: temporal.nativeConnection,
      taskQueue: watchingQueue,
      activities: buildActivities(supervisor, undefined, undefined, watchingSettings).activities,
    });
    const watching = createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue: watchingQueue },
        webhookSecret: 'am-incidents-webhook-secret-0123',
        approverTokens: [],
        incident: watchingSettings,
        ingest: { ...DEFAULT_INGEST, alertmanagerTokens: [SENDER] },
      },
      logger: captureLogger().logger,
    });
    const own = await serveApp(watching);
    const ownBase = own.base;
    const notify = (status: 'firing' | 'resolved') =>
      fetch(`${ownBase}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SENDER.token}` },
        body: JSON.stringify({
          version: '4',
          groupKey: 'k',
          status,
          receiver: 'medic',
          alerts: [
            {
              status,
              labels: { alertname: 'MemoryLeak', container: SHOP, severity: 'warning' },
              startsAt: new Date().toISOString(),
              ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
            },
          ],
        }),
      });
    const workflowId = `incident:local:${SHOP}:memory-leak`;
    try {
      expect((await notify('firing')).status).toBe(200);
      const healed = await awaitStatus(workflowId, 'RESOLVED');
      expect(
        healed.actions.map((a) => a.outcome),
        JSON.stringify(healed.timeline),
      ).toEqual(['restarted']);
      expect((await notify('resolved')).status).toBe(200);
      const after = await waitFor('the late resolved to be noted', async () => {
        const s = await state(workflowId);
        return s.timeline.some((t) => t.event === 'sender-resolved') ? s : undefined;
      });
      expect(after.timeline.find((t) => t.event === 'sender-resolved')?.detail).toContain(
        'Medic already acted',
      );
      expect(after.status).toBe('RESOLVED');
      expect(after.timeline.at(-1)?.detail).not.toMatch(/recovered by itself/);
    } finally {
      await own.close();
      await watchingWorker.stop();
      await temporal.client.workflow
        .getHandle(workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
  });
});
