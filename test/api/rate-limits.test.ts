// Rate limits after authentication, against the real dev server: a sender's bucket is its own, so a
// flood of unauthenticated requests (several clients, one address) does not make Medic refuse an
// authenticated Alertmanager; a refusal for load on an alert door is 503 with Retry-After (Alertmanager
// retries a 5xx and drops a 4xx); the webhook door refuses missing or stale signature headers before it
// reads the body; X-Forwarded-For names the client only behind a trusted proxy.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_INGEST } from '../../src/api/app.js';
import type { IngestSettings } from '../../src/config.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, signedSender, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'rate-limit-webhook-secret-0123456';
const AM = { name: 'alertmanager', token: 'rate-limit-am-token-0123456789ab' };
const temporal = devServerForFile();
let taskQueue: string;
const opened: string[] = [];

function listen(
  ingest: Partial<IngestSettings> = {},
  api: { trustedProxies?: string[] } = {},
): Promise<ServedApp> {
  return serveApp(
    createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: SECRET,
        approverTokens: [],
        incident: testSettings(),
        api,
        ingest: { ...DEFAULT_INGEST, alertmanagerTokens: [AM], ...ingest },
      },
      logger: captureLogger().logger,
    }),
  );
}

beforeAll(() => {
  taskQueue = uniqueTaskQueue('rate-limits');
});

afterAll(async () => {
  await Promise.all(
    opened.map((id) =>
      temporal.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined),
    ),
  );
});

const unique = (prefix: string) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function notification(target: string) {
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="HighMemoryUsage"}',
    status: 'firing',
    receiver: 'medic',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HighMemoryUsage', container: target, severity: 'low' },
        startsAt: new Date().toISOString(),
      },
    ],
  });
}

const notify = (base: string, target: string) =>
  fetch(`${base}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${AM.token}` },
    body: notification(target),
  });

/** Clients that send unauthenticated GETs back to back until stopped; what they were answered. */
function flood(base: string, clients: number, headers: Record<string, string> = {}) {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const res = await fetch(`${base}/healthz`, { headers });
      await res.body?.cancel();
      statuses.push(res.status);
    }
  });
  return {
    statuses,
    refused: () => statuses.some((s) => s === 429 || s === 503),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('rate limits after authentication', () => {
  it('an unauthenticated flood from 4 clients does not make Medic refuse an authenticated Alertmanager', async () => {
    const api = await listen({
      rateLimit: { perSecond: 20, burst: 20 },
      unauthenticatedRateLimit: { perSecond: 5, burst: 10 },
    });
    const gets = flood(api.base, 4);
    try {
      await waitFor('the flood to be refused', async () => gets.refused());
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const target = unique('flooded');
        opened.push(`incident:local:${target}:high-memory-usage`);
        const res = await notify(api.base, target);
        await res.body?.cancel();
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await gets.stop();
      await api.close();
    }
  });

  it('refuses a sender past its own bucket with 503 and Retry-After, on both alert doors', async () => {
    const api = await listen({ rateLimit: { perSecond: 1, burst: 2 } });
    try {
      const amStatuses: number[] = [];
      let amRefusal: Response | undefined;
      for (let i = 0; i < 4 && !amRefusal; i++) {
        const target = unique('am-burst');
        opened.push(`incident:local:${target}:high-memory-usage`);
        const res = await notify(api.base, target);
        amStatuses.push(res.status);
        if (res.status === 200) await res.body?.cancel();
        else amRefusal = res;
      }
      expect(amStatuses.slice(0, 2)).toEqual([200, 200]);
      expect(amRefusal?.status).toBe(503);
      expect(Number(amRefusal?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await amRefusal?.json()).toMatchObject({ error: { code: 'rate_limited' } });

      const send = signedSender(api.base, SECRET);
      const webhook: number[] = [];
      let webhookRefusal: Awaited<ReturnType<typeof send>> | undefined;
      for (let i = 0; i < 4 && !webhookRefusal; i++) {
        const target = unique('wh-burst');
        opened.push(`incident:local:${target}:crash`);
        const res = await send({
          container_name: target,
          alert_type: 'crash',
          severity: 'low',
          timestamp: new Date().toISOString(),
        });
        webhook.push(res.status);
        if (res.status !== 202) webhookRefusal = res;
      }
      expect(webhook.slice(0, 2)).toEqual([202, 202]);
      expect(webhookRefusal?.status).toBe(503);
      expect(Number(webhookRefusal?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(webhookRefusal?.body.error?.code).toBe('rate_limited');
    } finally {
      await api.close();
    }
  });

  it('gives each address its own unauthenticated bucket behind a trusted proxy, and one bucket otherwise', async () => {
    const limits = { unauthenticatedRateLimit: { perSecond: 1, burst: 2 } };
    const behind = await listen(limits, { trustedProxies: ['127.0.0.1/8'] });
    const direct = await listen(limits);
    const healthz = async (base: string, client: string) => {
      const res = await fetch(`${base}/healthz`, { headers: { 'x-forwarded-for': client } });
      await res.body?.cancel();
      return res.status;
    };
    try {
      const first = [await healthz(behind.base, '192.0.2.1'), await healthz(behind.base, '192.0.2.1')];
      expect(first).toEqual([200, 200]);
      expect(await healthz(behind.base, '192.0.2.1')).toBe(429);
      expect(await healthz(behind.base, '192.0.2.2')).toBe(200);
      // Not trusted: the header is the client's own word, and every request is the socket's address.
      expect([await healthz(direct.base, '192.0.2.1'), await healthz(direct.base, '192.0.2.2')]).toEqual([
        200, 200,
      ]);
      expect(await healthz(direct.base, '192.0.2.3')).toBe(429);
    } finally {
      await behind.close();
      await direct.close();
    }
  });
});

describe('the webhook door before the body', () => {
  /** Sends the headers and the first bytes of a body it never finishes; resolves with the answer. */
  function unfinished(base: string, headers: Record<string, string>) {
    const url = new URL(`${base}/webhooks/alert`);
    return new Promise<{ status: number; body: { error?: { code: string; message: string } } }>(
      (resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': '200000', ...headers },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () => {
              req.destroy();
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
            });
          },
        );
        req.on('error', reject);
        req.write('{"container_name":"never-finished",');
      },
    );
  }

  it('refuses a request without signature headers, or with a stale timestamp, before it reads the body', async () => {
    const api = await listen();
    try {
      const missing = await unfinished(api.base, {});
      expect(missing.status).toBe(401);
      expect(missing.body.error?.code).toBe('invalid_signature');
      const stale = await unfinished(api.base, {
        'x-medic-timestamp': String(Math.floor(Date.now() / 1000) - 3600),
        'x-medic-signature': `sha256=${'0'.repeat(64)}`,
      });
      expect(stale.status).toBe(401);
      expect(stale.body.error?.message).toMatch(/away from now/);
    } finally {
      await api.close();
    }
  });
});
