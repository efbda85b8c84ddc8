// The real demo app on a loopback port, with a fake Medic receiving its webhooks.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoApp, type DemoApp } from '../../../demo-app/src/app.js';
import { loadConfig } from '../../../demo-app/src/config.js';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../../../src/api/webhook-signature.js';
import { type FakeMedic, startFakeMedic, waitFor } from './fake-medic.js';

const SECRET = 'integration-test-secret-0123456789';

interface Running {
  demo: DemoApp;
  base: string;
  lines: string[];
  /** Raw bytes the app wrote (the crash trigger's memory dump). */
  dumps: Buffer[];
  exits: number[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeMedic(): Promise<FakeMedic> {
  const medic = await startFakeMedic([202]);
  cleanups.push(() => medic.close());
  return medic;
}

async function startDemo(env: Record<string, string>): Promise<Running> {
  const config = loadConfig({
    CONTAINER_NAME: 'demo-under-test',
    MONITOR_INTERVAL_MS: '100',
    // Only the fault under test should alert: a busy test machine may lag or grow.
    EVENT_LOOP_LAG_THRESHOLD_MS: '10000',
    MEMORY_THRESHOLD_MB: '4000',
    ...env,
  });
  const lines: string[] = [];
  const exits: number[] = [];
  const dumps: Buffer[] = [];
  const demo = createDemoApp(config, {
    write: (line) => lines.push(line),
    writeRaw: (bytes) => void dumps.push(bytes),
    exit: (code) => void exits.push(code),
  });
  cleanups.push(() => demo.close());
  const address: AddressInfo = await demo.listen(0, '127.0.0.1');
  return { demo, base: `http://127.0.0.1:${address.port}`, lines, exits, dumps };
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
/** How many monitor rounds have logged this symptom so far (each round logs what it finds). */
const rounds = (lines: string[], msg: string) => parsed(lines).filter((l) => l.msg === msg).length;

function verify(request: FakeMedic['received'][number]) {
  return verifyWebhookSignature({
    secret: SECRET,
    rawBody: request.rawBody,
    signature: request.headers[SIGNATURE_HEADER] as string | undefined,
    timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined,
    nowMs: Date.now(),
  });
}

describe('demo app', () => {
  it('sends one signed error-storm alert while the storm persists', async () => {
    const medic = await fakeMedic();
    const { base, lines } = await startDemo({
      MEDIC_WEBHOOK_URL: medic.url,
      MEDIC_WEBHOOK_SECRET: SECRET,
      ERROR_RATE_THRESHOLD: '1',
    });
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });

    const trigger = await fetch(`${base}/trigger/error-storm`, { method: 'POST' });
    expect(trigger.status).toBe(202);
    expect(await trigger.json()).toEqual({ fault: 'error-storm', active: true });

    const stormAlerts = () => medic.received.filter((r) => r.json.alert_type === 'error-storm');
    await waitFor('the error-storm webhook', () => stormAlerts().length > 0);
    // The fault persists for ten more monitor rounds: still one alert.
    const seen = rounds(lines, 'error rate above threshold');
    await waitFor('ten more monitor rounds', () => rounds(lines, 'error rate above threshold') >= seen + 10);
    expect(stormAlerts()).toHaveLength(1);

    const [alert] = stormAlerts();
    if (!alert) throw new Error('no alert');
    expect(verify(alert)).toMatchObject({ ok: true });
    expect(alert.headers['content-type']).toBe('application/json');
    expect(alert.json).toMatchObject({
      container_name: 'demo-under-test',
      alert_type: 'error-storm',
      severity: 'medium',
    });
    expect(alert.json.incident_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(String(alert.json.timestamp)))).toBe(false);
    const logs = alert.json.logs as string[];
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.length).toBeLessThanOrEqual(50);
    const messages = logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('payment sync failed');
    expect(messages).toContain('error rate above threshold');

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'degraded', reasons: ['error rate'] });

    const orders = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/api/orders`)));
    expect(orders.some((r) => r.status === 500)).toBe(true);
    expect(parsed(lines).some((l) => l.msg === 'request failed' && l.status === 500)).toBe(true);
    expect(
      parsed(lines).filter((l) => l.msg === 'alert accepted' && l.alertType === 'error-storm'),
    ).toHaveLength(1);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('demo_active_faults{fault="error-storm"} 1');
    expect(metrics).toContain('demo_active_faults{fault="hang"} 0');
    expect(metrics).toMatch(/http_requests_total\{status="500"\} \d+/);
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(metrics).toContain('demo_event_loop_lag_seconds');
  });

  it('stops answering during a hang, except /metrics, alerts, and still closes', async () => {
    const medic = await fakeMedic();
    const { demo, base, lines } = await startDemo({
      MEDIC_WEBHOOK_URL: medic.url,
      MEDIC_WEBHOOK_SECRET: SECRET,
      HANG_PROBE_TIMEOUT_MS: '200',
    });
    expect((await fetch(`${base}/trigger/hang`, { method: 'POST' })).status).toBe(202);

    const stuck = fetch(`${base}/api/orders`, { signal: AbortSignal.timeout(300) });
    await expect(stuck).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await fetch(`${base}/metrics`)).status).toBe(200);

    await waitFor('the hang webhook', () => medic.received.some((r) => r.json.alert_type === 'hang'));
    const hang = medic.received.find((r) => r.json.alert_type === 'hang');
    if (!hang) throw new Error('no hang alert');
    expect(hang.json.severity).toBe('critical');
    expect(verify(hang)).toMatchObject({ ok: true });
    expect((hang.json.logs as string[]).some((l) => l.includes('"request timed out"'))).toBe(true);

    // A request left hanging must not hold up closing.
    const hung = fetch(`${base}/left-hanging`).catch((err: Error) => err);
    await waitFor('the hung request', () => parsed(lines).some((l) => l.path === '/left-hanging'));
    await demo.close();
    expect(await hung).toBeInstanceOf(Error);
  });

  it('answers 503 "warming up" during STARTUP_DELAY_MS', async () => {
    const { base } = await startDemo({ STARTUP_DELAY_MS: '60000' });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'degraded', reasons: ['warming up'] });
  });

  it('answers unknown faults and routes with JSON errors, and lists the triggers', async () => {
    const { base } = await startDemo({});
    const unknown = await fetch(`${base}/trigger/meltdown`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_fault' } });
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const index = (await (await fetch(`${base}/`)).json()) as { triggers: Array<{ path: string }> };
    expect(index.triggers.map((t) => t.path)).toEqual([
      '/trigger/memory-leak',
      '/trigger/cpu-spike',
      '/trigger/db-latency',
      '/trigger/error-storm',
      '/trigger/hang',
      '/trigger/crash',
      '/trigger/bad-config',
      '/trigger/oom',
    ]);
    const orders = await fetch(`${base}/api/orders`);
    expect(orders.status).toBe(200);
  });

  it('crashes at once: logs fatal, exits with 1, sends no alert (a dead process cannot)', async () => {
    const medic = await fakeMedic();
    const { demo, base, lines, exits } = await startDemo({
      MEDIC_WEBHOOK_URL: medic.url,
      MEDIC_WEBHOOK_SECRET: SECRET,
    });
    const response = await fetch(`${base}/trigger/crash`, { method: 'POST' });
    expect(response.status).toBe(202);
    await waitFor('the exit', () => exits.length > 0);
    expect(exits).toEqual([1]);
    // close() waits for deliveries in flight: any alert the crash started has arrived by now.
    await demo.close();
    expect(medic.received).toEqual([]);
    expect(parsed(lines).some((l) => l.level === 'fatal')).toBe(true);
  });

  it('crash?logBytes=N prints one binary line of N bytes before the fatal line, and refuses nonsense', async () => {
    const { base, lines, exits, dumps } = await startDemo({});
    for (const bad of ['-1', 'abc', '1.5', String(64 * 1024 * 1024)]) {
      const refused = await fetch(`${base}/trigger/crash?logBytes=${bad}`, { method: 'POST' });
      expect(refused.status).toBe(400);
    }
    expect(exits).toEqual([]);
    const response = await fetch(`${base}/trigger/crash?logBytes=100000`, { method: 'POST' });
    expect(response.status).toBe(202);
    await waitFor('the exit', () => exits.length > 0);
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toHaveLength(100_000);
    expect(dumps[0]?.indexOf(0x0a)).toBe(99_999);
    expect(parsed(lines).some((l) => l.level === 'fatal')).toBe(true);
  });

  it('without a webhook secret, warns once and sends nothing', async () => {
    const medic = await fakeMedic();
    const { demo, base, lines } = await startDemo({
      MEDIC_WEBHOOK_URL: medic.url,
      ERROR_RATE_THRESHOLD: '1',
    });
    await fetch(`${base}/trigger/error-storm`, { method: 'POST' });
    await waitFor(
      'three monitor rounds with the symptom',
      () => rounds(lines, 'error rate above threshold') >= 3,
    );
    await demo.close();
    expect(medic.received).toEqual([]);
    expect(parsed(lines).filter((l) => String(l.msg).includes('MEDIC_WEBHOOK_SECRET'))).toHaveLength(1);
  });
});
