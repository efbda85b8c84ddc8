// Each sender speaks only for its own containers: named webhook senders and scoped Alertmanager tokens,
// against the real dev server. An alert out of a sender's scope starts and signals nothing; a `resolved`
// from anyone but the incident's opener is recorded and changes nothing (a worker runs those incidents).
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import { createApp, DEFAULT_INGEST, type MedicApp } from '../../src/api/app.js';
import type { MedicConfig } from '../../src/config.js';
import type { Alert, IncidentState, ResolvedPayload } from '../../src/domain/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type ServedApp, serveApp } from '../support/api.js';
import {
  buildActivities,
  captureLogger,
  signedRequest,
  signedSender,
  superviseDemoApp,
  testSettings,
} from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const PAYMENTS = { name: 'payments', secret: 'payments-sender-secret-0123456789' };
const SHOP = { name: 'shop', secret: 'shop-sender-secret-0123456789abc' };
const OPS = { name: 'ops', secret: 'ops-sender-secret-0123456789abcd' };
const LEGACY_SECRET = 'legacy-webhook-secret-0123456789';
const AM_PAYMENTS = { name: 'am-payments', token: 'am-payments-token-0123456789abcd' };
const AM_ANY = { name: 'am-any', token: 'am-any-token-0123456789abcdefgh' };
const PAY_TARGET = `payments-api-${RUN}`;

const senders: MedicConfig['webhookSenders'] = [
  { ...PAYMENTS, scopes: [{ target: 'payments-*', host: '*' }] },
  { ...SHOP, scopes: [{ target: 'shop-api-?', host: 'local' }] },
  { ...OPS, scopes: [{ target: '*', host: '*' }] },
];

const temporal = devServerForFile();
let supervisor: ProcessSupervisor;
let worker: { stop(): Promise<void> };
let api: ServedApp & { app: MedicApp };
let taskQueue: string;
const log = captureLogger();

beforeAll(async () => {
  ({ supervisor } = await superviseDemoApp({ name: PAY_TARGET }));
  taskQueue = uniqueTaskQueue('senders');
  worker = await startWorker({
    connection: temporal.nativeConnection,
    taskQueue,
    activities: buildActivities(supervisor).activities,
  });
  const app = createApp({
    client: temporal.client,
    config: {
      temporal: { address: 'unused', namespace: 'default', taskQueue },
      webhookSecret: LEGACY_SECRET,
      webhookSenders: senders,
      approverTokens: [],
      incident: testSettings(),
      ingest: {
        ...DEFAULT_INGEST,
        alertmanagerTokens: [
          { ...AM_PAYMENTS, scopes: [{ target: 'payments-*', host: '*' }] },
          { ...AM_ANY, scopes: [{ target: '*', host: '*' }] },
        ],
      },
    },
    logger: log.logger,
  });
  api = { app, ...(await serveApp(app)) };
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await supervisor?.stopAll();
});

const unique = (prefix: string) => `${prefix}-${RUN}-${Math.random().toString(36).slice(2, 6)}`;

const alert = (target: string, overrides: Record<string, unknown> = {}) => ({
  container_name: target,
  alert_type: 'memory-leak',
  severity: 'low',
  timestamp: new Date().toISOString(),
  incident_id: Math.random().toString(36),
  ...overrides,
});

const as = (sender: { name: string; secret: string }) => signedSender(api.base, sender.secret, sender.name);

async function exists(workflowId: string): Promise<boolean> {
  try {
    await temporal.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The signals the API sent to a workflow, with their payloads, from its history. */
async function signals(workflowId: string): Promise<Array<{ name: string; payload: unknown }>> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signal = event.workflowExecutionSignaledEventAttributes;
    const payload = signal?.input?.payloads?.[0];
    if (!signal?.signalName || !payload) return [];
    return [{ name: signal.signalName, payload: defaultPayloadConverter.fromPayload(payload) }];
  });
}

const notification = (alerts: Array<Record<string, unknown>>, status = 'firing') => ({
  version: '4',
  groupKey: '{}:{alertname="HighMemoryUsage"}',
  status,
  receiver: 'medic',
  alerts,
});

const amAlert = (labels: Record<string, string>, status = 'firing') => ({
  status,
  labels: { alertname: 'HighMemoryUsage', severity: 'low', ...labels },
  startsAt: new Date().toISOString(),
  ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
  fingerprint: Math.random().toString(16).slice(2, 18),
});

async function notify(token: string, body: unknown) {
  const res = await fetch(`${api.base}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      accepted: number;
      refused: number;
      alerts: Array<{ workflowId: string; outcome: string; reason?: string }>;
    },
  };
}

describe('named webhook senders', () => {
  it('takes an alert about a target in the sender scope, and the incident names the sender', async () => {
    const target = unique('payments-web');
    const res = await as(PAYMENTS)(alert(target, { host: 'web-1' }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const workflowId = `incident:web-1:${target}:memory-leak`;
    const [first] = await signals(workflowId);
    expect(first?.payload).toMatchObject({ source: 'webhook', sender: 'payments', target });
    await temporal.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('refuses with 403 an alert about another target or host, naming the sender and the target', async () => {
    const cases: Array<[{ name: string; secret: string }, string, string | undefined]> = [
      [PAYMENTS, unique('shop-api'), undefined],
      [SHOP, 'shop-api-9', 'web-1'],
      [SHOP, unique('shop-api'), undefined],
    ];
    for (const [sender, target, host] of cases) {
      const res = await as(sender)(alert(target, host ? { host } : {}));
      expect(res.status, `${sender.name} ${target}@${host}`).toBe(403);
      expect(res.body.error?.code).toBe('out_of_scope');
      expect(res.body.error?.message).toContain(sender.name);
      expect(res.body.error?.message).toContain(target);
      expect(res.body.error?.details).toEqual({ sender: sender.name, target, host: host ?? 'local' });
      expect(await exists(`incident:${host ?? 'local'}:${target}:memory-leak`)).toBe(false);
    }
  });

  it('refuses with 403 a resolved about another sender target, and signals nothing', async () => {
    const target = `shop-api-${Math.floor(Math.random() * 10)}`;
    const workflowId = `incident:local:${target}:crash`;
    await temporal.client.workflow
      .getHandle(workflowId)
      .terminate('a clean slate')
      .catch(() => undefined);
    const opened = await as(SHOP)(alert(target, { alert_type: 'crash' }));
    expect(opened.status, JSON.stringify(opened.body)).toBe(202);
    const resolved = await as(PAYMENTS)(alert(target, { alert_type: 'crash', status: 'resolved' }));
    expect(resolved.status).toBe(403);
    expect(resolved.body.error?.code).toBe('out_of_scope');
    const names = (await signals(workflowId)).map((s) => s.name);
    expect(names).not.toContain('resolved');
    await temporal.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('answers 401 to a missing or unknown sender and to a signature made with another secret', async () => {
    const target = unique('payments-401');
    const withoutName = await signedSender(api.base, PAYMENTS.secret)(alert(target));
    const unknown = await signedSender(api.base, PAYMENTS.secret, 'nobody')(alert(target));
    const wrongSecret = await signedSender(api.base, SHOP.secret, PAYMENTS.name)(alert(target));
    expect([withoutName.status, unknown.status, wrongSecret.status]).toEqual([401, 401, 401]);
    expect(withoutName.body.error?.code).toBe('invalid_signature');
    expect(unknown.body.error?.code).toBe('unknown_sender');
    expect(wrongSecret.body.error?.code).toBe('invalid_signature');
    expect(await exists(`incident:local:${target}:memory-leak`)).toBe(false);
  });

  it('takes the plain MEDIC_WEBHOOK_SECRET without a sender header, for any target', async () => {
    const target = unique('anything');
    const res = await signedSender(api.base, LEGACY_SECRET)(alert(target));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const workflowId = `incident:local:${target}:memory-leak`;
    const [first] = await signals(workflowId);
    expect(first?.payload as Alert | undefined).toMatchObject({ sender: 'webhook-secret' });
    await temporal.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('needs the sender header when no plain secret is configured', async () => {
    const own = await serveApp(
      createApp({
        client: temporal.client,
        config: {
          temporal: { address: 'unused', namespace: 'default', taskQueue },
          webhookSecret: undefined,
          webhookSenders: senders,
          approverTokens: [],
          incident: testSettings(),
        },
        logger: captureLogger().logger,
      }),
    );
    try {
      const res = await fetch(
        `${own.base}/webhooks/alert`,
        signedRequest(PAYMENTS.secret, alert('payments-x')),
      );
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('missing_sender');
    } finally {
      await own.close();
    }
  });
});

describe('scoped Alertmanager tokens', () => {
  it('refuses and records the alerts out of the token scope, and takes the others', async () => {
    const inScope = unique('payments-am');
    const outOfScope = unique('shop-am');
    const res = await notify(
      AM_PAYMENTS.token,
      notification([amAlert({ container: inScope }), amAlert({ container: outOfScope, host: 'web-2' })]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, refused: 1, sender: AM_PAYMENTS.name });
    expect(res.body.alerts.map((a) => a.outcome)).toEqual(['opened', 'out-of-scope']);
    expect(res.body.alerts[1]?.reason).toContain(AM_PAYMENTS.name);
    expect(res.body.alerts[1]?.reason).toContain(outOfScope);
    const openedId = `incident:local:${inScope}:high-memory-usage`;
    const [first] = await signals(openedId);
    expect(first?.payload).toMatchObject({ source: 'alertmanager', sender: AM_PAYMENTS.name });
    expect(await exists(`incident:web-2:${outOfScope}:high-memory-usage`)).toBe(false);
    const metrics = await (await fetch(`${api.base}/metrics`)).text();
    expect(metrics).toMatch(/medic_alertmanager_alerts_total\{outcome="out-of-scope"\} [1-9]/);
    expect(log.lines.some((l) => l.sender === AM_PAYMENTS.name && l.target === outOfScope)).toBe(true);

    // A resolved out of scope is refused the same way; the one in scope reaches its incident.
    const resolved = await notify(
      AM_PAYMENTS.token,
      notification(
        [amAlert({ container: inScope }, 'resolved'), amAlert({ container: outOfScope }, 'resolved')],
        'resolved',
      ),
    );
    expect(resolved.body.alerts.map((a) => a.outcome)).toEqual(['resolved', 'out-of-scope']);
    // A signal that arrives while a workflow task runs is written to the history once that task completes.
    const resolvedSignal = await waitFor('the resolved signal in the history', async () =>
      (await signals(openedId)).find((s) => s.name === 'resolved'),
    );
    expect(resolvedSignal?.payload as ResolvedPayload | undefined).toMatchObject({
      sender: AM_PAYMENTS.name,
    });
  });
});

describe('a resolved from another source', () => {
  const state = (workflowId: string) =>
    temporal.client.workflow.getHandle(workflowId).query(statusQuery) as Promise<IncidentState>;

  it('is recorded as refused and changes nothing; the opener closes the incident', async () => {
    // Critical on a managed target: the incident waits for a person, open, before Medic acts.
    const workflowId = `incident:local:${PAY_TARGET}:memory-leak`;
    const firing = await as(PAYMENTS)(alert(PAY_TARGET, { severity: 'critical' }));
    expect(firing.status, JSON.stringify(firing.body)).toBe(202);
    await waitFor('the incident to wait for approval', async () => {
      return (await state(workflowId)).status === 'AWAITING_APPROVAL';
    });

    const fromOps = await as(OPS)(alert(PAY_TARGET, { status: 'resolved' }));
    expect(fromOps.status).toBe(202);
    const fromLegacy = await signedSender(api.base, LEGACY_SECRET)(alert(PAY_TARGET, { status: 'resolved' }));
    expect(fromLegacy.status).toBe(202);
    const fromAlertmanager = await notify(
      AM_ANY.token,
      notification([amAlert({ container: PAY_TARGET, alertname: 'MemoryLeak' }, 'resolved')], 'resolved'),
    );
    expect(fromAlertmanager.body.alerts.map((a) => a.outcome)).toEqual(['resolved']);
    const refused = await waitFor('three refused resolved notices', async () => {
      const s = await state(workflowId);
      const events = s.timeline.filter((t) => t.event === 'resolved-refused');
      return events.length === 3 ? { s, events } : undefined;
    });
    expect(refused.s.status).toBe('AWAITING_APPROVAL');
    expect(refused.events.map((e) => e.detail).join('\n')).toMatch(/webhook sender ops/);
    expect(refused.events.map((e) => e.detail).join('\n')).toMatch(/webhook sender webhook-secret/);
    expect(refused.events.map((e) => e.detail).join('\n')).toMatch(/from alertmanager/);

    const fromOpener = await as(PAYMENTS)(alert(PAY_TARGET, { status: 'resolved' }));
    expect(fromOpener.status).toBe(202);
    const closed = await waitFor('the opener to close the incident', async () => {
      const s = await state(workflowId);
      return s.status === 'RESOLVED' ? s : undefined;
    });
    expect(closed.actions).toEqual([]);
    expect(closed.timeline.at(-1)?.detail).toMatch(/^recovered by itself/);
  });
});
