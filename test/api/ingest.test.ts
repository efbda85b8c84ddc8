// Ingest against the real dev server (no worker: accepted alerts start workflows that wait, and their
// histories show exactly what the API sent): Alertmanager's door, replay protection, coalescing with
// exact counts, rate limiting, security headers.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_INGEST, type MedicApp } from '../../src/api/app.js';
import type { IngestSettings } from '../../src/config.js';
import type { Alert } from '../../src/domain/types.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, signedRequest, signedSender, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'ingest-webhook-secret-0123456789';
const APPROVER = { name: 'alice', token: 'alice-approver-token-0123456789' };
const SENDER = { name: 'alertmanager', token: 'am-bearer-token-0123456789abcdef' };
const temporal = devServerForFile();
let api: Listening;
let taskQueue: string;

interface Listening extends ServedApp {
  app: MedicApp;
  /** Signs and posts an alert to this API's POST /webhooks/alert. */
  send: ReturnType<typeof signedSender>;
}

async function listen(client: Client, ingest: Partial<IngestSettings> = {}): Promise<Listening> {
  const app = createApp({
    client,
    config: {
      temporal: { address: 'unused', namespace: 'default', taskQueue },
      webhookSecret: SECRET,
      approverTokens: [APPROVER],
      incident: testSettings(),
      ingest: {
        ...DEFAULT_INGEST,
        alertmanagerTokens: [SENDER],
        coalesceWindowMs: 200,
        coalesceMaxWindowMs: 800,
        ...ingest,
      },
    },
    logger: captureLogger().logger,
  });
  const served = await serveApp(app);
  return { app, ...served, send: signedSender(served.base, SECRET) };
}

beforeAll(async () => {
  taskQueue = uniqueTaskQueue('ingest');
  api = await listen(temporal.client);
});

afterAll(async () => {
  await api?.close();
});

const unique = (prefix: string) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function notification(alerts: Array<Record<string, unknown>>, overrides: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="HighMemoryUsage"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'medic',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
    ...overrides,
  };
}

const amAlert = (labels: Record<string, string>, status = 'firing') => ({
  status,
  labels: { alertname: 'HighMemoryUsage', severity: 'warning', ...labels },
  annotations: { summary: 'memory' },
  startsAt: '2026-11-25T09:58:12.045187243Z',
  endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-25T10:03:12.045187243Z',
  generatorURL: 'http://prometheus:9090/graph',
  fingerprint: Math.random().toString(16).slice(2, 18),
});

function amRequest(body: unknown, token: string | null = SENDER.token): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

async function call(base: string, path: string, init: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const body = (text ? JSON.parse(text) : {}) as {
    error?: { code: string; message: string; details?: Array<{ path: string; message: string }> };
  } & Record<string, unknown>;
  return { status: res.status, body, headers: res.headers };
}

async function exists(workflowId: string): Promise<boolean> {
  try {
    await temporal.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The alerts the API signalled to a workflow, read back from its history. */
async function signalledAlerts(workflowId: string): Promise<Alert[]> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const alerts: Alert[] = [];
  for (const event of history.events ?? []) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== 'alert') continue;
    const payload = signal.input?.payloads?.[0];
    if (payload) alerts.push(defaultPayloadConverter.fromPayload<Alert>(payload));
  }
  return alerts;
}

const counted = (alerts: Alert[]) => alerts.reduce((sum, a) => sum + (a.count ?? 1), 0);

describe('POST /webhooks/alertmanager', () => {
  it('opens an incident per firing alert, from the container label, falling back to name', async () => {
    const a = unique('am-a');
    const b = unique('am-b');
    const res = await call(
      api.base,
      '/webhooks/alertmanager',
      amRequest(notification([amAlert({ container: a, severity: 'critical' }), amAlert({ name: b })])),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, sender: 'alertmanager' });
    const [first, second] = await Promise.all([
      signalledAlerts(`incident:local:${a}:high-memory-usage`),
      signalledAlerts(`incident:local:${b}:high-memory-usage`),
    ]);
    expect(first[0]).toMatchObject({
      source: 'alertmanager',
      target: a,
      severity: 'critical',
      status: 'firing',
    });
    expect(second[0]).toMatchObject({ target: b, severity: 'medium' });
  });

  it('needs its own bearer token: 401 without, 403 with a wrong one, an approver token or the webhook secret', async () => {
    const body = notification([amAlert({ container: unique('am-auth') })]);
    const none = await call(api.base, '/webhooks/alertmanager', amRequest(body, null));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    for (const token of ['not-the-token-at-all-xyz', APPROVER.token, SECRET]) {
      const res = await call(api.base, '/webhooks/alertmanager', amRequest(body, token));
      expect(res.status, token).toBe(403);
      expect(res.body.error?.code).toBe('forbidden');
    }
  });

  it('never lets an Alertmanager token approve', async () => {
    const res = await call(api.base, '/incidents/incident:local:nobody:crash/approve', {
      method: 'POST',
      headers: { authorization: `Bearer ${SENDER.token}` },
    });
    expect(res.status).toBe(403);
  });

  it('answers 400 naming each bad field, 415 for other content types, 413 past 1 MiB', async () => {
    const bad = await call(
      api.base,
      '/webhooks/alertmanager',
      amRequest(
        notification([{ ...amAlert({ container: 'x' }), status: 'pending', labels: {} }], { version: '3' }),
      ),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_notification');
    expect(bad.body.error?.details?.map((d) => d.path).sort()).toEqual([
      'alerts.0.labels',
      'alerts.0.status',
      'version',
    ]);
    const text = await call(api.base, '/webhooks/alertmanager', {
      ...amRequest(notification([])),
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${SENDER.token}` },
    });
    expect(text.status).toBe(415);
    const huge = await call(
      api.base,
      '/webhooks/alertmanager',
      amRequest(
        notification([{ ...amAlert({ container: 'x' }), annotations: { big: 'x'.repeat(1100 * 1024) } }]),
      ),
    );
    expect(huge.status).toBe(413);
    expect(JSON.stringify([bad.body, text.body, huge.body])).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('keeps an alert whose target name is unsafe, as an incident under a stand-in name', async () => {
    const res = await call(
      api.base,
      '/webhooks/alertmanager',
      amRequest(notification([amAlert({ container: `../../etc/passwd;rm -rf /${unique('x')}` })])),
    );
    expect(res.status).toBe(200);
    const results = res.body.alerts as Array<{ workflowId: string }>;
    expect(results[0]?.workflowId).toMatch(/^incident:local:rejected-target-[0-9a-f]{8}:high-memory-usage$/);
    const [signalled] = await signalledAlerts(results[0]?.workflowId ?? '');
    expect(signalled?.targetRejected).toMatch(/contains path characters/);
  });

  it('sends a resolved alert to its open incident, and ignores one with no open incident', async () => {
    const target = unique('am-res');
    await call(api.base, '/webhooks/alertmanager', amRequest(notification([amAlert({ container: target })])));
    const res = await call(
      api.base,
      '/webhooks/alertmanager',
      amRequest(
        notification(
          [
            amAlert({ container: target }, 'resolved'),
            amAlert({ container: unique('never-fired') }, 'resolved'),
          ],
          { status: 'resolved' },
        ),
      ),
    );
    expect(res.status).toBe(200);
    expect((res.body.alerts as Array<{ outcome: string }>).map((a) => a.outcome)).toEqual([
      'resolved',
      'no-open-incident',
    ]);
    const history = await temporal.client.workflow
      .getHandle(`incident:local:${target}:high-memory-usage`)
      .fetchHistory();
    const names = (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
      .filter(Boolean);
    expect(names).toEqual(['alert', 'resolved']);
  });

  it('answers 503 with Retry-After when Temporal cannot take the alerts', async () => {
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const down = await listen(dead);
    try {
      const res = await call(
        down.base,
        '/webhooks/alertmanager',
        amRequest(notification([amAlert({ container: unique('am-down') })])),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await down.close();
    }
  });
});

describe('alert storms', () => {
  it('coalesces duplicates: every alert answered 2xx, few signals, and the count exact', async () => {
    const target = unique('storm');
    const workflowId = `incident:local:${target}:memory-leak`;
    const body = (i: number) => ({
      incident_id: `storm-${i}`,
      container_name: target,
      alert_type: 'memory-leak',
      severity: i === 77 ? 'critical' : 'medium',
      timestamp: new Date().toISOString(),
    });
    const first = await api.send(body(0));
    expect(first.status).toBe(202);
    expect(first.body.coalesced).toBe(false);
    const rest = await Promise.all(Array.from({ length: 149 }, (_, i) => api.send(body(i + 1))));
    expect(rest.map((r) => r.status)).toEqual(rest.map(() => 202));
    expect(rest.every((r) => r.body.coalesced === true && r.body.workflowId === workflowId)).toBe(true);
    const alerts = await waitFor('all 150 alerts to reach the incident', async () => {
      const signalled = await signalledAlerts(workflowId);
      return counted(signalled) === 150 ? signalled : undefined;
    });
    expect(alerts.length).toBeLessThan(20);
    expect(alerts.some((a) => a.severity === 'critical')).toBe(true);
  });

  it('refuses a replayed signature, and lets a refused request be retried as is', async () => {
    const request = signedRequest(SECRET, {
      container_name: unique('replay'),
      alert_type: 'crash',
      severity: 'low',
      timestamp: new Date().toISOString(),
    });
    expect((await call(api.base, '/webhooks/alert', request)).status).toBe(202);
    const again = await call(api.base, '/webhooks/alert', request);
    expect(again.status).toBe(401);
    expect(again.body.error?.code).toBe('replayed_signature');

    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const down = await listen(dead);
    try {
      const retried = signedRequest(SECRET, {
        container_name: unique('retry'),
        alert_type: 'crash',
        severity: 'low',
        timestamp: new Date().toISOString(),
      });
      expect((await call(down.base, '/webhooks/alert', retried)).status).toBe(503);
      expect((await call(down.base, '/webhooks/alert', retried)).status).toBe(503);
    } finally {
      await down.close();
    }
  });

  it('answers a new occurrence after its incident closed only once Temporal holds the new incident', async () => {
    // The API's clock: past one window of quiet, the coalescer may no longer vouch that the incident is open.
    let clock = Date.now();
    const app = createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: SECRET,
        approverTokens: [APPROVER],
        incident: testSettings(),
        ingest: { ...DEFAULT_INGEST, coalesceWindowMs: 1000, coalesceMaxWindowMs: 1000 },
      },
      logger: captureLogger().logger,
      now: () => clock,
    });
    const own = await serveApp(app);
    const send = signedSender(own.base, SECRET);
    const target = unique('reopen');
    const workflowId = `incident:local:${target}:crash`;
    const body = () => ({
      container_name: target,
      alert_type: 'crash',
      severity: 'low',
      timestamp: new Date(clock).toISOString(),
      incident_id: Math.random().toString(36),
    });
    try {
      const first = await send(body());
      expect(first.body.coalesced).toBe(false);
      // The incident ends (as it does once healed or resolved); the API still tracks it.
      await temporal.client.workflow.getHandle(workflowId).terminate('the incident ended');
      clock += 5000;
      const next = await send(body());
      expect(next.status).toBe(202);
      expect(next.body.coalesced).toBe(false);
      expect(next.body.runId).not.toBe(first.body.runId);
      // Answered only once durable: the new run is there when the answer is.
      const run = await temporal.client.workflow.getHandle(workflowId).describe();
      expect(run.status.name).toBe('RUNNING');
      expect(run.runId).toBe(next.body.runId);
      // Copies right after a confirmed send are counted in memory again.
      const copy = await send(body());
      expect(copy.body.coalesced).toBe(true);
    } finally {
      await own.close();
      await temporal.client.workflow
        .getHandle(workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
  });

  it('keeps a batch to one sender: copies from two senders reach the incident under their own names', async () => {
    const senders = [
      { name: 'team-a', secret: 'team-a-sender-secret-0123456789', scopes: [{ target: '*', host: '*' }] },
      { name: 'team-b', secret: 'team-b-sender-secret-0123456789', scopes: [{ target: '*', host: '*' }] },
    ];
    const app = createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: undefined,
        webhookSenders: senders,
        approverTokens: [APPROVER],
        incident: testSettings(),
        ingest: { ...DEFAULT_INGEST, coalesceWindowMs: 200, coalesceMaxWindowMs: 800 },
      },
      logger: captureLogger().logger,
    });
    const own = await serveApp(app);
    const [a, b] = senders.map((s) => signedSender(own.base, s.secret, s.name)) as [
      ReturnType<typeof signedSender>,
      ReturnType<typeof signedSender>,
    ];
    const target = unique('two-senders');
    const workflowId = `incident:local:${target}:crash`;
    const body = () => ({
      container_name: target,
      alert_type: 'crash',
      severity: 'low',
      timestamp: new Date().toISOString(),
      incident_id: Math.random().toString(36),
    });
    try {
      expect((await a(body())).status).toBe(202);
      const copies = await Promise.all([
        ...Array.from({ length: 30 }, () => a(body())),
        ...Array.from({ length: 20 }, () => b(body())),
      ]);
      expect(copies.every((c) => c.status === 202)).toBe(true);
      const alerts = await waitFor('all 51 alerts to reach the incident', async () => {
        const signalled = await signalledAlerts(workflowId);
        return counted(signalled) === 51 ? signalled : undefined;
      });
      const bySender = (name: string) => counted(alerts.filter((x) => x.sender === name));
      expect([bySender('team-a'), bySender('team-b')]).toEqual([31, 20]);
    } finally {
      await own.close();
      await temporal.client.workflow
        .getHandle(workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
  });

  it('sends what is pending when the API shuts down', async () => {
    const own = await listen(temporal.client, { coalesceWindowMs: 60_000 });
    const target = unique('drain');
    const body = () => ({
      container_name: target,
      alert_type: 'crash',
      severity: 'low',
      timestamp: new Date().toISOString(),
      incident_id: Math.random().toString(36),
    });
    await own.send(body());
    await Promise.all(Array.from({ length: 5 }, () => own.send(body())));
    expect(counted(await signalledAlerts(`incident:local:${target}:crash`))).toBe(1);
    await own.close();
    expect(counted(await signalledAlerts(`incident:local:${target}:crash`))).toBe(6);
  });
});

describe('hardening', () => {
  it('sends the usual security headers', async () => {
    const res = await fetch(`${api.base}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('limits unauthenticated requests per client address: 429 with Retry-After past the burst', async () => {
    const limited = await listen(temporal.client, { unauthenticatedRateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${limited.base}/incidents/bad id`)).status);
      expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
      const refused = await fetch(`${limited.base}/healthz`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    } finally {
      await limited.close();
    }
  });

  it('keeps tokens and signatures out of the logs', async () => {
    const { logger, lines } = captureLogger();
    const app = createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: SECRET,
        approverTokens: [APPROVER],
        incident: testSettings(),
        ingest: { ...DEFAULT_INGEST, alertmanagerTokens: [SENDER] },
      },
      logger,
    });
    const { base, close } = await serveApp(app);
    try {
      await call(
        base,
        '/webhooks/alertmanager',
        amRequest(notification([amAlert({ container: unique('log') })], { truncatedAlerts: 3 })),
      );
      await signedSender(
        base,
        SECRET,
      )({
        container_name: 'x',
        alert_type: 'crash',
        severity: 'low',
        timestamp: new Date().toISOString(),
      });
      expect(lines.some((l) => String(l.msg).includes('truncated'))).toBe(true);
      const all = JSON.stringify(lines);
      for (const secret of [SECRET, SENDER.token, APPROVER.token]) expect(all).not.toContain(secret);
    } finally {
      await close();
    }
  });

  it('refuses to start when an approver token is reused as a webhook secret or an Alertmanager token', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() =>
      loadConfig({ MEDIC_WEBHOOK_SECRET: APPROVER.token, MEDIC_APPROVER_TOKENS: `alice:${APPROVER.token}` }),
    ).toThrow(/approver token is also used in MEDIC_WEBHOOK_SECRET/);
    expect(() =>
      loadConfig({
        MEDIC_ALERTMANAGER_TOKENS: `am:${APPROVER.token}`,
        MEDIC_APPROVER_TOKENS: `alice:${APPROVER.token}`,
      }),
    ).toThrow(/MEDIC_ALERTMANAGER_TOKENS/);
    expect(loadConfig({}).ingest).toEqual(DEFAULT_INGEST);
  });
});

describe('the generic webhook', () => {
  it('sends status resolved to the open incident', async () => {
    const target = unique('gen-res');
    const body = (status: string) => ({
      container_name: target,
      alert_type: 'memory-leak',
      severity: 'medium',
      status,
      timestamp: new Date().toISOString(),
      incident_id: status,
    });
    expect((await api.send(body('firing'))).status).toBe(202);
    const res = await api.send(body('resolved'));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ resolved: true, workflowId: `incident:local:${target}:memory-leak` });
    expect(await exists(`incident:local:${target}:memory-leak`)).toBe(true);
  });
});
