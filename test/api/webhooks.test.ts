// The HTTP API against the real dev server: what it accepts, and every way it refuses.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { MedicConfig } from '../../src/config.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, signedRequest, signedSender, testSettings } from '../support/medic.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'test-webhook-secret-0123456789';
const APPROVER = { name: 'alice', token: 'alice-token-0123456789abcdef' };
const temporal = devServerForFile();
let api: ServedApp;
let base: string;
let taskQueue: string;
let send: ReturnType<typeof signedSender>;

function configFor(
  queue: string,
): Pick<MedicConfig, 'temporal' | 'webhookSecret' | 'approverTokens' | 'incident'> {
  return {
    temporal: { address: 'unused', namespace: 'default', taskQueue: queue },
    webhookSecret: SECRET,
    approverTokens: [APPROVER],
    incident: testSettings(),
  };
}

function listen(client: Client, queue: string): Promise<ServedApp> {
  return serveApp(createApp({ client, config: configFor(queue), logger: captureLogger().logger }));
}

beforeAll(async () => {
  // No worker polls this queue: accepted alerts start workflows that simply wait.
  taskQueue = uniqueTaskQueue('api');
  api = await listen(temporal.client, taskQueue);
  base = api.base;
  send = signedSender(base, SECRET);
});

afterAll(async () => {
  await api?.close();
});

const payload = (target: string, overrides: Record<string, unknown> = {}) => ({
  incident_id: 'ext-1',
  container_name: target,
  alert_type: 'memory-leak',
  severity: 'medium',
  logs: ['{"level":"error","msg":"memory usage above threshold"}'],
  timestamp: new Date().toISOString(),
  ...overrides,
});

async function exists(workflowId: string): Promise<boolean> {
  try {
    await temporal.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

async function post(path: string, init: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const body = (await res.json()) as {
    error?: { code: string; message: string; details?: unknown };
  } & Record<string, unknown>;
  return { status: res.status, body, headers: res.headers };
}

describe('POST /webhooks/alert', () => {
  it('accepts a signed alert once Temporal holds the incident, and joins a duplicate to it', async () => {
    const target = `api-ok-${Date.now()}`;
    const first = await send(payload(target));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accepted: true, workflowId: `incident:local:${target}:memory-leak` });
    expect(await exists(`incident:local:${target}:memory-leak`)).toBe(true);

    const second = await send(payload(target));
    expect(second.status).toBe(202);
    expect(second.body.runId).toBe(first.body.runId);
    await temporal.client.workflow.getHandle(`incident:local:${target}:memory-leak`).terminate('test done');
  });

  const refusals: Array<[string, (target: string) => RequestInit, number, string]> = [
    [
      'no signature',
      (t) => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload(t)),
      }),
      401,
      'invalid_signature',
    ],
    [
      'a wrong signature',
      (t) => signedRequest('another-secret-entirely-xyz', payload(t)),
      401,
      'invalid_signature',
    ],
    [
      'a signature older than 5 minutes',
      (t) => signedRequest(SECRET, payload(t), { timestampSeconds: Math.floor(Date.now() / 1000) - 301 }),
      401,
      'invalid_signature',
    ],
    ['malformed JSON', () => signedRequest(SECRET, '{"container_name": "x",'), 400, 'malformed_json'],
    [
      'no container_name',
      (t) => signedRequest(SECRET, payload(t, { container_name: undefined })),
      400,
      'invalid_alert',
    ],
    [
      'a host that cannot name a queue',
      (t) => signedRequest(SECRET, payload(t, { host: 'node-1:9100' })),
      400,
      'invalid_alert',
    ],
    [
      'a 1 MB body',
      (t) => signedRequest(SECRET, payload(t, { logs: ['x'.repeat(1024 * 1024)] })),
      413,
      'body_too_large',
    ],
    [
      'a non-JSON content type',
      (t) => {
        const signed = signedRequest(SECRET, payload(t));
        return { ...signed, headers: { ...signed.headers, 'content-type': 'text/plain' } };
      },
      415,
      'unsupported_media_type',
    ],
  ];

  for (const [name, build, status, code] of refusals) {
    it(`refuses ${name} with ${status} and starts nothing`, async () => {
      const target = `api-no-${status}-${Date.now()}`;
      const res = await post('/webhooks/alert', build(target));
      expect(res.status).toBe(status);
      expect(res.body.error?.code).toBe(code);
      expect(res.body.error?.message).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
      expect(await exists(`incident:local:${target}:memory-leak`)).toBe(false);
    });
  }

  it('opens the incident of the host the alert names', async () => {
    const target = `api-host-${Date.now()}`;
    const res = await send(payload(target, { host: 'web-2' }));
    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(`incident:web-2:${target}:memory-leak`);
    await temporal.client.workflow.getHandle(`incident:web-2:${target}:memory-leak`).terminate('test done');
  });

  it("refuses a guard's host that cannot be a host name with 400", async () => {
    const res = await fetch(`${base}/guards/svc?host=${encodeURIComponent('a:b')}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_query');
  });

  it('names the invalid fields', async () => {
    const res = await send(payload('x', { container_name: undefined, severity: 'urgent' }));
    expect(res.status).toBe(400);
    expect(res.body.error?.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'container_name' }),
        expect.objectContaining({ path: 'severity' }),
      ]),
    );
  });

  it('answers 503 with Retry-After when Temporal cannot take the alert', async () => {
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const down = await listen(dead, taskQueue);
    try {
      const res = await signedSender(down.base, SECRET)(payload('api-down'));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.body.error?.code).toBe('temporal_unavailable');
      const health = await fetch(`${down.base}/healthz`);
      expect(health.status).toBe(503);
    } finally {
      await down.close();
    }
  });
});

describe('incidents API', () => {
  it('reports health, metrics and unknown routes as JSON', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const metrics = await fetch(`${base}/metrics`);
    expect(await metrics.text()).toContain('medic_webhooks_total');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers 404 for an unknown incident and 400 for a malformed id', async () => {
    const unknown = await fetch(`${base}/incidents/incident:local:nobody:crash`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'incident_not_found' } });
    const bad = await fetch(`${base}/incidents/${encodeURIComponent('../../etc')}`);
    expect(bad.status).toBe(400);
  });

  it('lists incidents and validates the filters', async () => {
    const ok = await fetch(`${base}/incidents?limit=5`);
    expect(ok.status).toBe(200);
    expect(Array.isArray(((await ok.json()) as { incidents: unknown[] }).incidents)).toBe(true);
    const bad = await fetch(`${base}/incidents?status=SLEEPING`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'invalid_query', details: [{ path: 'status' }] },
    });
  });

  it('needs an approver token: 401 without, 403 with a wrong one or a webhook secret', async () => {
    const url = `${base}/incidents/incident:local:nobody:crash/approve`;
    const none = await fetch(url, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-real-token-at-all' },
    });
    expect(wrong.status).toBe(403);
    const secret = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } });
    expect(secret.status).toBe(403);
    const right = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${APPROVER.token}` },
    });
    expect(right.status).toBe(404);
  });
});
