// Every endpoint, fed generated requests, against the real dev server: any input gets a 2xx or a
// 4xx with a JSON error, never a 5xx, a stack trace or a crash.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_INGEST } from '../../src/api/app.js';
import { signWebhook } from '../../src/api/webhook-signature.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, testSettings } from '../support/medic.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'property-webhook-secret-0123456789';
const SENDER = { name: 'am', token: 'property-am-token-0123456789abcd' };
const APPROVER = { name: 'bob', token: 'property-approver-token-01234567' };
const temporal = devServerForFile();
let api: ServedApp;
let base: string;

beforeAll(async () => {
  const app = createApp({
    client: temporal.client,
    config: {
      // No worker polls this queue: accepted alerts start workflows that wait.
      temporal: { address: 'unused', namespace: 'default', taskQueue: uniqueTaskQueue('props') },
      webhookSecret: SECRET,
      approverTokens: [APPROVER],
      incident: testSettings(),
      ingest: {
        ...DEFAULT_INGEST,
        alertmanagerTokens: [SENDER],
        coalesceWindowMs: 50,
        coalesceMaxWindowMs: 200,
        // Thousands of generated requests from one address: not what the rate limits' tests are about.
        unauthenticatedRateLimit: { perSecond: 100_000, burst: 100_000 },
      },
    },
    logger: captureLogger().logger,
  });
  api = await serveApp(app);
  base = api.base;
});

afterAll(async () => {
  await api?.close();
});

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
);
const amNotification = fc.record(
  {
    version: fc.constantFrom('4', '3', 4),
    groupKey: text,
    status: fc.constantFrom('firing', 'resolved', 'odd'),
    receiver: text,
    truncatedAlerts: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 })),
    alerts: fc.array(
      fc.record(
        {
          status: fc.constantFrom('firing', 'resolved'),
          labels: fc.record(
            { alertname: text, container: text, name: text, severity: text },
            { requiredKeys: ['alertname'] },
          ),
          startsAt: fc.oneof(fc.constant(new Date().toISOString()), text),
          endsAt: fc.constantFrom('0001-01-01T00:00:00Z', new Date().toISOString()),
          fingerprint: text,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  amNotification.map((n) => JSON.stringify(n)),
  text,
  fc.constant('{"alerts": ['),
);

async function send(path: string, init: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const raw = await res.text();
  return { status: res.status, raw, type: res.headers.get('content-type') ?? '' };
}

function expectClientOrSuccess(res: { status: number; raw: string; type: string }, what: unknown) {
  expect(res.status, JSON.stringify(what)).toBeLessThan(500);
  expect(res.type).toContain('application/json');
  const parsed = JSON.parse(res.raw) as { error?: { code: string; message: string } };
  if (res.status >= 400) expect(parsed.error?.code).toEqual(expect.any(String));
  expect(res.raw).not.toMatch(/at .*\.(ts|js):\d+/);
}

describe('any request gets a 2xx or a 4xx', () => {
  it('POST /webhooks/alertmanager', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        contentType,
        fc.constantFrom(`Bearer ${SENDER.token}`, `Bearer ${SENDER.token}`, 'Bearer nope', 'Basic x', ''),
        async (payload, type, authorization) => {
          const res = await send('/webhooks/alertmanager', {
            method: 'POST',
            headers: {
              ...(type ? { 'content-type': type } : {}),
              ...(authorization ? { authorization } : {}),
            },
            body: payload,
          });
          expectClientOrSuccess(res, { payload, type, authorization });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('POST /webhooks/alert, signed and unsigned', async () => {
    const alertish = fc
      .record(
        {
          container_name: text,
          alert_type: text,
          severity: fc.constantFrom('low', 'critical', 'nope'),
          status: fc.constantFrom('firing', 'resolved'),
          timestamp: fc.constantFrom(new Date().toISOString(), 'then'),
          incident_id: text,
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v));
    await fc.assert(
      fc.asyncProperty(fc.oneof(body, alertish), contentType, fc.boolean(), async (payload, type, sign) => {
        const ts = Math.floor(Date.now() / 1000);
        const res = await send('/webhooks/alert', {
          method: 'POST',
          headers: {
            ...(type ? { 'content-type': type } : {}),
            ...(sign
              ? { 'x-medic-timestamp': String(ts), 'x-medic-signature': signWebhook(SECRET, ts, payload) }
              : {}),
          },
          body: payload,
        });
        expectClientOrSuccess(res, { payload, type, sign });
      }),
      { numRuns: 150 },
    );
  });

  it('GET /incidents and /incidents/:id, POST approve and reject', async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.dictionary(fc.constantFrom('status', 'target', 'limit', 'x'), text),
        body,
        fc.constantFrom('approve', 'reject'),
        async (id, query, payload, verdict) => {
          const encoded = encodeURIComponent(id || 'x');
          expectClientOrSuccess(await send(`/incidents/${encoded}`, {}), id);
          expectClientOrSuccess(await send(`/incidents?${new URLSearchParams(query)}`, {}), query);
          const res = await send(`/incidents/${encoded}/${verdict}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${APPROVER.token}`, 'content-type': 'application/json' },
            body: payload,
          });
          expectClientOrSuccess(res, { id, payload });
        },
      ),
      { numRuns: 100 },
    );
  });
});
