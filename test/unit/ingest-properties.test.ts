// Properties of every ingest parser and of the in-memory parts of the API, over generated inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertCoalescer, type AlertSink } from '../../src/api/coalescer.js';
import { RateLimiter } from '../../src/api/rate-limit.js';
import { ReplayCache } from '../../src/api/replay-cache.js';
import { signWebhook, verifyWebhookSignature } from '../../src/api/webhook-signature.js';
import { alertFromWebhook, webhookAlertSchema } from '../../src/domain/alert.js';
import { alertmanagerPayloadSchema, mapAlertmanagerAlert } from '../../src/domain/alertmanager.js';
import {
  ALERT_TYPE_PATTERN,
  INCIDENT_ID_PATTERN,
  incidentWorkflowId,
  TARGET_NAME_PATTERN,
} from '../../src/domain/naming.js';
import { checkTargetName } from '../../src/domain/target-name.js';
import type { Alert } from '../../src/domain/types.js';
import { captureLogger } from '../support/medic.js';

/** What GET /incidents/:id accepts: every incident the API opens must be reachable there. */

const nastyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('../etc', 'a;b', '$(id)', 'a b', 'x\u0000', '\u001b[2J', 'ok-name', 'svc.1', '', '-x'),
);

const recentDate = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true });

const amAlertArb = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: fc.record(
    {
      alertname: nastyString.filter((s) => s.trim() !== ''),
      container: nastyString,
      name: nastyString,
      severity: fc.oneof(nastyString, fc.constantFrom('critical', 'warning', 'info', 'page')),
    },
    { requiredKeys: ['alertname'] },
  ),
  annotations: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 })),
  startsAt: recentDate.map((d) => d.toISOString()),
  fingerprint: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 16 }),
});

describe('parsers never throw and never let an unsafe name through', () => {
  it('Alertmanager: any JSON is either a clean 4xx-style refusal or safe incidents', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.record({ version: fc.constant('4'), alerts: fc.array(amAlertArb) })),
        (body) => {
          const parsed = alertmanagerPayloadSchema.safeParse(body);
          if (!parsed.success) {
            expect(parsed.error.issues.length).toBeGreaterThan(0);
            return;
          }
          for (const am of parsed.data.alerts) {
            const mapped = mapAlertmanagerAlert(am, {
              targetLabels: ['container', 'name'],
              receivedAt: new Date(),
            });
            const target = mapped.kind === 'firing' ? mapped.alert.target : mapped.target;
            const alertType = mapped.kind === 'firing' ? mapped.alert.alertType : mapped.alertType;
            expect(target).toMatch(TARGET_NAME_PATTERN);
            expect(incidentWorkflowId(target, alertType)).toMatch(INCIDENT_ID_PATTERN);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('Alertmanager: well-formed notifications map every alert, keeping a safe name as is', () => {
    const notification = fc.record({
      version: fc.constant('4'),
      groupKey: fc.string(),
      status: fc.constantFrom('firing', 'resolved'),
      receiver: fc.string(),
      alerts: fc.array(amAlertArb, { maxLength: 10 }),
    });
    fc.assert(
      fc.property(notification, (body) => {
        const parsed = alertmanagerPayloadSchema.parse(body);
        expect(parsed.alerts).toHaveLength(body.alerts.length);
        for (const am of parsed.alerts) {
          const mapped = mapAlertmanagerAlert(am, {
            targetLabels: ['container', 'name'],
            receivedAt: new Date(),
          });
          const raw = am.labels.container ?? am.labels.name;
          const target = mapped.kind === 'firing' ? mapped.alert.target : mapped.target;
          if (raw !== undefined && TARGET_NAME_PATTERN.test(raw)) expect(target).toBe(raw);
          else expect(target).not.toBe(raw);
          if (mapped.kind === 'firing') {
            expect(mapped.alert.targetRejected === undefined).toBe(target === raw);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('target names: anything with path, shell or control characters is refused', () => {
    const bad = fc
      .tuple(
        fc.string(),
        fc.constantFrom(
          '/',
          '\\',
          ';',
          '|',
          '&',
          '$',
          '`',
          ' ',
          '\n',
          '\u0000',
          '\u007f',
          '\u0085',
          '\u202e',
          '>',
        ),
        fc.string(),
      )
      .map(([a, b, c]) => `${a}${b}${c}`);
    fc.assert(
      fc.property(bad, (name) => {
        const checked = checkTargetName(name);
        expect(checked.ok).toBe(false);
        if (!checked.ok) {
          expect(checked.standIn).toMatch(TARGET_NAME_PATTERN);
          // The reason shows the name escaped: no raw control characters reach a log or the Web UI.
          expect(checked.reason).not.toMatch(/[\p{Cc}\p{Cf}]/u);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('generic webhook: any JSON is refused field by field or becomes a safe alert', () => {
    const alertish = fc.record(
      {
        container_name: nastyString,
        alert_type: nastyString,
        severity: fc.oneof(nastyString, fc.constantFrom('low', 'medium', 'high', 'critical')),
        status: fc.constantFrom('firing', 'resolved', 'weird'),
        logs: fc.oneof(fc.string(), fc.array(fc.string())),
        timestamp: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), alertish), (body) => {
        const parsed = webhookAlertSchema.safeParse(body);
        if (!parsed.success) return;
        const alert = alertFromWebhook(parsed.data, new Date());
        expect(alert.target).toMatch(TARGET_NAME_PATTERN);
        expect(incidentWorkflowId(alert.target, alert.alertType)).toMatch(INCIDENT_ID_PATTERN);
      }),
      { numRuns: 400 },
    );
  });

  it('signatures: never throws on any headers, and refuses all but the right signature', () => {
    const secret = 'property-secret-0123456789';
    fc.assert(
      fc.property(
        fc.option(fc.string()),
        fc.option(fc.string()),
        fc.uint8Array({ maxLength: 64 }),
        (signature, timestamp, body) => {
          const nowMs = 1_800_000_000_000;
          const result = verifyWebhookSignature({
            secret,
            rawBody: Buffer.from(body),
            signature: signature ?? undefined,
            timestamp: timestamp ?? undefined,
            nowMs,
          });
          const right =
            timestamp !== null &&
            /^\d{1,12}$/.test(timestamp) &&
            signature === signWebhook(secret, Number(timestamp), Buffer.from(body));
          if (!right) expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('signatures: with a fresh timestamp, the right signature passes and any other fails on the HMAC', () => {
    const secret = 'property-secret-0123456789';
    const nowMs = 1_800_000_000_000;
    // Within the five-minute tolerance, so the age check never decides: the HMAC comparison must.
    const fresh = fc.integer({ min: -299, max: 299 }).map((s) => Math.floor(nowMs / 1000) + s);
    const wrong = fc.oneof(
      fc
        .string({ minLength: 16 })
        .filter((other) => other !== secret)
        .map((other) => ({ kind: 'another secret' as const, other })),
      fc.nat({ max: 63 }).map((at) => ({ kind: 'one hex digit changed' as const, at })),
      fc.integer({ min: 1, max: 299 }).map((shift) => ({ kind: 'another timestamp' as const, shift })),
      fc.constant({ kind: 'body changed' as const }),
    );
    fc.assert(
      fc.property(fresh, fc.uint8Array({ maxLength: 64 }), fc.option(wrong), (ts, bytes, mistake) => {
        const body = Buffer.from(bytes);
        let signature = signWebhook(secret, ts, body);
        if (mistake?.kind === 'another secret') signature = signWebhook(mistake.other, ts, body);
        if (mistake?.kind === 'one hex digit changed') {
          const i = 'sha256='.length + mistake.at;
          const digit = signature[i] === '0' ? '1' : '0';
          signature = signature.slice(0, i) + digit + signature.slice(i + 1);
        }
        if (mistake?.kind === 'another timestamp') signature = signWebhook(secret, ts - mistake.shift, body);
        const rawBody = mistake?.kind === 'body changed' ? Buffer.concat([body, Buffer.from(' ')]) : body;
        const result = verifyWebhookSignature({ secret, rawBody, signature, timestamp: String(ts), nowMs });
        if (mistake === null) {
          expect(result).toEqual({ ok: true, timestampSeconds: ts });
        } else {
          expect(result).toEqual({ ok: false, reason: expect.stringContaining('signature does not match') });
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('replay cache', () => {
  it('refuses exactly the signatures already claimed within the window and not released', () => {
    // Each signature carries its own timestamp (the HMAC covers it); the API claims only signatures
    // whose timestamp passed the age check, so claims here are made only then.
    const op = fc.record({
      kind: fc.constantFrom('claim', 'settle', 'release'),
      signature: fc.constantFrom('a', 'b', 'c', 'd'),
      advanceMs: fc.nat({ max: 400 }),
    });
    const timestampOf: Record<string, number> = { a: 0, b: 0.3, c: 0.6, d: 0.9 };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const windowMs = 500;
        const cache = new ReplayCache(windowMs);
        const model = new Map<string, 'pending' | 'settled'>();
        let now = 0;
        for (const { kind, signature, advanceMs } of ops) {
          now += advanceMs;
          // Whole seconds, like the header: each signature's second is the one holding its offset.
          const ts = Math.floor(now / 1000 - (timestampOf[signature] ?? 0));
          const key = `${signature}@${ts}`;
          if (kind === 'release') {
            cache.release(key, ts);
            model.delete(key);
            continue;
          }
          if (kind === 'settle') {
            cache.settle(key, ts);
            if (model.has(key)) model.set(key, 'settled');
            continue;
          }
          if (Math.abs(now - ts * 1000) > windowMs) continue;
          const seen = model.get(key);
          expect(cache.claim(key, ts, now)).toBe(
            seen === undefined ? 'claimed' : seen === 'pending' ? 'pending' : 'replayed',
          );
          if (seen === undefined) model.set(key, 'pending');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('rate limiter', () => {
  it('never lets a source send more than its burst plus the rate over any run', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.nat({ max: 200 }), { minLength: 1, maxLength: 300 }),
        (perSecond, burst, gaps) => {
          const limiter = new RateLimiter({ perSecond, burst });
          let now = 0;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            if (limiter.take('10.0.0.1', now) === 0) allowed += 1;
          }
          expect(allowed).toBeLessThanOrEqual(burst + Math.floor((now / 1000) * perSecond) + 1);
          // Another source has its own bucket.
          expect(limiter.take('10.0.0.2', now)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('coalescer', () => {
  /**
   * An in-memory stand-in for Temporal plus the workflow's counting: it may be down, or take a batch
   * and lose the answer (the case that needs delivery ids to stay exact).
   */
  class FlakyIncidents implements AlertSink {
    taken = new Map<string, number>();
    seen = new Set<string>();
    mode: 'up' | 'down' | 'lost-reply' = 'up';
    async openOrJoin(alert: Alert) {
      await new Promise((r) => setImmediate(r));
      const isBatch = alert.count !== undefined;
      if (this.mode === 'down' || (this.mode === 'lost-reply' && !isBatch))
        throw new Error('Temporal is down');
      const id = incidentWorkflowId(alert.target, alert.alertType);
      if (!alert.deliveryId || !this.seen.has(alert.deliveryId)) {
        if (alert.deliveryId) this.seen.add(alert.deliveryId);
        this.taken.set(id, (this.taken.get(id) ?? 0) + (alert.count ?? 1));
      }
      if (this.mode === 'lost-reply') throw new Error('deadline exceeded');
      return { workflowId: id, runId: 'run-1' };
    }
    async resolve(target: string, alertType: string) {
      return { workflowId: incidentWorkflowId(target, alertType), delivered: true };
    }
  }

  it('counts every alert it answered 2xx exactly once, through outages and shutdown', async () => {
    const step = fc.record({
      target: fc.constantFrom('a', 'b', 'c'),
      burst: fc.integer({ min: 1, max: 8 }),
      mode: fc.constantFrom('up', 'up', 'down', 'lost-reply'),
      waitMs: fc.constantFrom(0, 0, 1, 5),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const incidents = new FlakyIncidents();
        const coalescer = new AlertCoalescer(incidents, { windowMs: 2 }, captureLogger().logger);
        const answered = new Map<string, number>();
        for (const { target, burst, mode, waitMs } of steps) {
          incidents.mode = mode;
          const results = await Promise.allSettled(
            Array.from({ length: burst }, () =>
              coalescer.admit({
                source: 'webhook',
                target,
                alertType: 'crash',
                severity: 'low',
                status: 'firing',
                logs: [],
                firedAt: '2026-01-01T00:00:00.000Z',
                receivedAt: '2026-01-01T00:00:00.000Z',
              }),
            ),
          );
          const ok = results.filter((r) => r.status === 'fulfilled').length;
          const id = incidentWorkflowId(target, 'crash');
          answered.set(id, (answered.get(id) ?? 0) + ok);
          await new Promise((r) => setTimeout(r, waitMs));
        }
        incidents.mode = 'up';
        await coalescer.drain();
        expect(coalescer.pendingAlerts).toBe(0);
        for (const [id, count] of answered) expect(incidents.taken.get(id) ?? 0, id).toBe(count);
      }),
      { numRuns: 100 },
    );
  });
});

describe('incident ids never collide', () => {
  const name = fc.stringMatching(TARGET_NAME_PATTERN);
  const alertType = fc.stringMatching(ALERT_TYPE_PATTERN);

  it('gives two different (target, alert type) pairs two different ids', () => {
    // The old `incident-<target>-<alert type>` gave (medic, demo-crash) and (medic-demo, crash) one id.
    expect(incidentWorkflowId('medic', 'demo-crash')).not.toBe(incidentWorkflowId('medic-demo', 'crash'));
    fc.assert(
      fc.property(name, alertType, name, alertType, (t1, a1, t2, a2) => {
        fc.pre(t1 !== t2 || a1 !== a2);
        expect(incidentWorkflowId(t1, a1)).not.toBe(incidentWorkflowId(t2, a2));
      }),
    );
  });

  it('reads back the host, target and alert type it was made of', () => {
    fc.assert(
      fc.property(name, alertType, (target, type) => {
        expect(incidentWorkflowId(target, type).split(':')).toEqual(['incident', 'local', target, type]);
      }),
    );
  });
});
