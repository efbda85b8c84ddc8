import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../../demo-app/src/log.js';
import {
  type AlertPayload,
  alertPayload,
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  type Sleep,
  WebhookSender,
} from '../../../demo-app/src/webhook.js';
import type { AlertCoalescer } from '../../../src/api/coalescer.js';
import { errorHandler } from '../../../src/api/errors.js';
import { createApiMetrics } from '../../../src/api/metrics.js';
import { WebhookSenders } from '../../../src/api/webhook-senders.js';
import {
  SENDER_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../../../src/api/webhook-signature.js';
import { webhookRoutes } from '../../../src/api/webhooks.js';
import { DEFAULT_LOG_LIMITS } from '../../../src/domain/log-bounds.js';
import { createLogger } from '../../../src/logger.js';
import { type FakeMedic, startFakeMedic } from './fake-medic.js';

const SECRET = 'a-test-secret-of-enough-length';

function quietLog(): { log: Log; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const log = new Log({ write: (line) => written.push(line) });
  return { log, lines: () => written.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function payload(): AlertPayload {
  return {
    incident_id: '6f1c1a52-3a8e-4c43-9d0e-1f0a7b7c2d11',
    container_name: 'medic-demo',
    alert_type: 'db-latency',
    severity: 'high',
    logs: ['{"level":"warn","msg":"slow query"}'],
    timestamp: '2030-01-01T00:00:00.000Z',
  };
}

/** A sleep that records what it was asked to wait and returns at once. */
function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** A fetch that plays a script: a status, or an Error to throw (a network failure). */
function scriptedFetch(script: Array<number | Error | Response>): {
  fetch: typeof fetch;
  calls: RequestInit[];
} {
  const calls: RequestInit[] = [];
  const fetchStub = async (_url: string | URL | Request, init?: RequestInit) => {
    calls.push(init ?? {});
    const next = script[Math.min(calls.length - 1, script.length - 1)];
    if (next instanceof Error) throw next;
    if (next instanceof Response) return next;
    return new Response(JSON.stringify({ status: next }), { status: next ?? 500 });
  };
  return { fetch: fetchStub as typeof fetch, calls };
}

const networkError = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

describe('backoffDelayMs', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelayMs(attempt, DEFAULT_RETRY_POLICY));
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe('WebhookSender with injected fetch and sleep', () => {
  it('retries network errors, 5xx and 429 with backoff until accepted', async () => {
    const { log, lines } = quietLog();
    const { sleep, waits } = recordingSleep();
    const { fetch, calls } = scriptedFetch([networkError(), 503, 429, 500, 202]);
    const sender = new WebhookSender({
      url: 'http://medic.test/webhooks/alert',
      secret: SECRET,
      log,
      fetch,
      sleep,
    });

    const result = await sender.send(payload());

    expect(result).toEqual({ outcome: 'accepted', status: 202, attempts: 5 });
    expect(calls).toHaveLength(5);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    expect(lines().filter((l) => l.msg === 'alert delivery failed, will retry')).toHaveLength(4);
    expect(lines().at(-1)).toMatchObject({
      level: 'info',
      msg: 'alert accepted',
      alertType: 'db-latency',
      attempts: 5,
    });
  });

  it('gives up after 8 attempts with an error log line, and never throws', async () => {
    const { log, lines } = quietLog();
    const { sleep, waits } = recordingSleep();
    const { fetch, calls } = scriptedFetch([502]);
    const sender = new WebhookSender({
      url: 'http://medic.test/webhooks/alert',
      secret: SECRET,
      log,
      fetch,
      sleep,
    });

    const result = await sender.send(payload());

    expect(result).toMatchObject({ outcome: 'gave-up', attempts: 8 });
    expect(calls).toHaveLength(8);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(lines().at(-1)).toMatchObject({
      level: 'error',
      msg: 'alert delivery failed, giving up',
      attempts: 8,
    });
  });

  it('does not retry other 4xx answers and logs the response', async () => {
    const { log, lines } = quietLog();
    const { sleep, waits } = recordingSleep();
    const body = '{"error":{"code":"invalid_signature","message":"signature does not match"}}';
    const { fetch, calls } = scriptedFetch([new Response(body, { status: 401 })]);
    const sender = new WebhookSender({
      url: 'http://medic.test/webhooks/alert',
      secret: SECRET,
      log,
      fetch,
      sleep,
    });

    const result = await sender.send(payload());

    expect(result).toEqual({ outcome: 'rejected', status: 401, attempts: 1 });
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(lines().at(-1)).toMatchObject({ level: 'error', status: 401, response: body });
  });

  it('waits as long as a 429 Retry-After asks, within the cap', async () => {
    const { log } = quietLog();
    const { sleep, waits } = recordingSleep();
    const tooMany = (seconds: string) =>
      new Response('slow down', { status: 429, headers: { 'retry-after': seconds } });
    const { fetch } = scriptedFetch([tooMany('5'), tooMany('120'), 202]);
    const sender = new WebhookSender({
      url: 'http://medic.test/webhooks/alert',
      secret: SECRET,
      log,
      fetch,
      sleep,
    });

    expect(await sender.send(payload())).toMatchObject({ outcome: 'accepted', attempts: 3 });
    expect(waits).toEqual([5000, 30_000]);
  });

  it('stops waiting and resolves as cancelled when closed', async () => {
    const { log } = quietLog();
    const { fetch } = scriptedFetch([503]);
    let sleeping: () => void = () => {};
    const asleep = new Promise<void>((resolve) => {
      sleeping = resolve;
    });
    const sleep: Sleep = (_ms, signal) =>
      new Promise((_resolve, reject) => {
        sleeping();
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const sender = new WebhookSender({
      url: 'http://medic.test/webhooks/alert',
      secret: SECRET,
      log,
      fetch,
      sleep,
    });

    const result = sender.send(payload());
    await asleep;
    sender.close();

    expect(await result).toEqual({ outcome: 'cancelled', attempts: 1 });
  });
});

/** A sender whose clock moves with its waits, as a real one does. */
function clockedSender(fetchStub: typeof fetch, clock: { now: number }) {
  return new WebhookSender({
    url: 'http://127.0.0.1:1/webhooks/alert',
    secret: SECRET,
    log: quietLog().log,
    fetch: fetchStub,
    sleep: async (ms) => {
      clock.now += ms;
    },
    now: () => clock.now,
  });
}

describe('the demo app resends one delivery, so Medic counts a retried alert once', () => {
  it('resends the same signed request (timestamp, signature, body) on every retry', async () => {
    const { fetch, calls } = scriptedFetch([networkError(), 503, 202]);
    const clock = { now: 1_900_000_000_000 };

    expect(await clockedSender(fetch, clock).send(payload())).toMatchObject({ outcome: 'accepted' });

    const sent = calls.map((c) => {
      const h = c.headers as Record<string, string>;
      return { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER], body: c.body };
    });
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(sent[0]?.signature).toBe(signWebhook(SECRET, 1_900_000_000, String(sent[0]?.body)));
  });

  it('against Medic: an attempt whose answer was lost is counted once, and the sender knows it was taken', async () => {
    const clock = { now: 1_900_000_000_000 };
    const admitted: string[] = [];
    const coalescer = {
      admit: async (alert: { deliveryId?: string }) => {
        admitted.push(alert.deliveryId ?? '');
        return { outcome: 'opened', workflowId: 'incident-medic-demo-db-latency', runId: 'run' };
      },
    } as unknown as AlertCoalescer;
    const logger = createLogger({
      name: 'test',
      level: 'error',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    const app = express();
    app.use(
      webhookRoutes({
        coalescer,
        webhookSecret: SECRET,
        logLimits: DEFAULT_LOG_LIMITS,
        logger,
        metrics: createApiMetrics(),
        now: () => clock.now,
      }),
    );
    app.use(errorHandler(logger));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/alert`;
    let attempts = 0;
    // The first attempt reaches Medic and is accepted; its answer is lost on the way back.
    const losingFirstAnswer = (async (_input: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(url, init);
      attempts += 1;
      if (attempts === 1) throw networkError();
      return response;
    }) as typeof fetch;
    try {
      const result = await clockedSender(losingFirstAnswer, clock).send(payload());

      expect(result).toMatchObject({ outcome: 'accepted', attempts: 2 });
      expect(admitted).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it('names its sender in X-Medic-Sender, and Medic takes it with that sender secret only', async () => {
    const admitted: Array<{ sender?: string }> = [];
    const coalescer = {
      admit: async (alert: { sender?: string }) => {
        admitted.push(alert);
        return { outcome: 'opened', workflowId: 'incident:local:medic-demo:db-latency', runId: 'run' };
      },
    } as unknown as AlertCoalescer;
    const logger = createLogger({
      name: 'test',
      level: 'error',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    const app = express();
    app.use(
      webhookRoutes({
        coalescer,
        senders: new WebhookSenders([
          { name: 'demo', secret: SECRET, scopes: [{ target: 'medic-demo', host: 'local' }] },
        ]),
        logLimits: DEFAULT_LOG_LIMITS,
        logger,
        metrics: createApiMetrics(),
      }),
    );
    app.use(errorHandler(logger));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/alert`;
    const sent: Array<Record<string, string>> = [];
    const recording = (async (input: string | URL | Request, init?: RequestInit) => {
      sent.push(init?.headers as Record<string, string>);
      return fetch(input, init);
    }) as typeof fetch;
    const { log } = quietLog();
    try {
      const named = new WebhookSender({ url, secret: SECRET, sender: 'demo', log, fetch: recording });
      expect(await named.send(payload())).toMatchObject({ outcome: 'accepted', status: 202 });
      expect(sent[0]?.[SENDER_HEADER]).toBe('demo');
      expect(admitted).toEqual([expect.objectContaining({ sender: 'demo', target: 'medic-demo' })]);
      // Without its name the request is the plain secret's, which this Medic does not have.
      const unnamed = new WebhookSender({ url, secret: SECRET, log, fetch: recording });
      expect(await unnamed.send(payload())).toMatchObject({ outcome: 'rejected', status: 401 });
      expect(sent[1]?.[SENDER_HEADER]).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('signs afresh only when the first signature is too old for Medic to take', async () => {
    const { fetch, calls } = scriptedFetch([503]);
    const clock = { now: 1_900_000_000_000 };
    const sender = new WebhookSender({
      url: 'http://127.0.0.1:1/webhooks/alert',
      secret: SECRET,
      log: quietLog().log,
      fetch,
      sleep: async () => {
        clock.now += 100_000;
      },
      now: () => clock.now,
      retry: { maxAttempts: 5 },
    });

    await sender.send(payload());

    const timestamps = calls.map((c) => (c.headers as Record<string, string>)[TIMESTAMP_HEADER]);
    // 0, 100, 200 s: the same request; at 300 s the 5-minute window is past: a new signature.
    expect(timestamps).toEqual(['1900000000', '1900000000', '1900000000', '1900000300', '1900000300']);
  });
});

describe('WebhookSender over real HTTP', () => {
  let medic: FakeMedic | undefined;
  afterEach(async () => {
    await medic?.close();
    medic = undefined;
  });

  it('retries 503 twice, then is accepted; every request carries a valid signature', async () => {
    medic = await startFakeMedic([503, 503, 202]);
    const { log } = quietLog();
    const { sleep, waits } = recordingSleep();
    const sender = new WebhookSender({ url: medic.url, secret: SECRET, log, sleep });

    const result = await sender.send(payload());

    expect(result).toEqual({ outcome: 'accepted', status: 202, attempts: 3 });
    expect(waits).toEqual([1000, 2000]);
    expect(medic.received).toHaveLength(3);
    for (const request of medic.received) {
      expect(request.headers['content-type']).toBe('application/json');
      const check = verifyWebhookSignature({
        secret: SECRET,
        rawBody: request.rawBody,
        signature: request.headers[SIGNATURE_HEADER] as string | undefined,
        timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined,
        nowMs: Date.now(),
      });
      expect(check.ok).toBe(true);
      expect(request.json).toEqual(payload());
    }
    const wrongSecret = verifyWebhookSignature({
      secret: 'not-the-secret-at-all-xx',
      rawBody: medic.received[0]?.rawBody ?? Buffer.alloc(0),
      signature: medic.received[0]?.headers[SIGNATURE_HEADER] as string | undefined,
      timestamp: medic.received[0]?.headers[TIMESTAMP_HEADER] as string | undefined,
      nowMs: Date.now(),
    });
    expect(wrongSecret.ok).toBe(false);
  });

  it('treats an attempt that gets no answer in time as a network error', async () => {
    medic = await startFakeMedic([202], { hang: true });
    const { log } = quietLog();
    const { sleep, waits } = recordingSleep();
    const sender = new WebhookSender({
      url: medic.url,
      secret: SECRET,
      log,
      sleep,
      retry: { maxAttempts: 2, attemptTimeoutMs: 100 },
    });

    const result = await sender.send(payload());

    expect(result).toEqual({ outcome: 'gave-up', attempts: 2, reason: 'no answer within 100 ms' });
    expect(waits).toEqual([1000]);
    expect(medic.received).toHaveLength(2);
  });

  it('reports a refused connection as a network error', async () => {
    medic = await startFakeMedic();
    const url = medic.url;
    await medic.close();
    medic = undefined;
    const { log } = quietLog();
    const { sleep } = recordingSleep();
    const sender = new WebhookSender({ url, secret: SECRET, log, sleep, retry: { maxAttempts: 1 } });

    const result = await sender.send(payload());

    expect(result).toMatchObject({ outcome: 'gave-up', attempts: 1 });
    expect(result.outcome === 'gave-up' && result.reason).toContain('ECONNREFUSED');
  });
});

describe('alertPayload', () => {
  it('carries the last 50 log lines and a fresh incident id', () => {
    const { log } = quietLog();
    for (let i = 0; i < 80; i++) log.info(`line ${i}`);
    const first = alertPayload({
      alertType: 'memory-leak',
      severity: 'medium',
      containerName: 'medic-demo',
      log,
      nowMs: Date.UTC(2030, 0, 1),
    });
    const second = alertPayload({
      alertType: 'memory-leak',
      severity: 'medium',
      containerName: 'x',
      log,
      nowMs: 0,
    });
    expect(first.logs).toHaveLength(50);
    expect(JSON.parse(first.logs[0] ?? '{}')).toMatchObject({ msg: 'line 30' });
    expect(JSON.parse(first.logs.at(-1) ?? '{}')).toMatchObject({ msg: 'line 79' });
    expect(first).toMatchObject({
      container_name: 'medic-demo',
      alert_type: 'memory-leak',
      severity: 'medium',
      timestamp: '2030-01-01T00:00:00.000Z',
    });
    expect(first.incident_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second.incident_id).not.toBe(first.incident_id);
  });
});
