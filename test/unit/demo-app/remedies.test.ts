// What the demo app gives each remedy to show: its own reset-pool action heals db-latency in the same
// process, the oom fault's job needs a fixed amount (so a raised limit fixes it), and a bad release is a
// file in the image that breaks the app a few seconds after start, whatever restarts it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoApp, type DemoApp, type DemoAppDeps } from '../../../demo-app/src/app.js';
import { loadConfig } from '../../../demo-app/src/config.js';
import { badReleaseFile } from '../../../demo-app/src/release.js';
import { type FakeMedic, startFakeMedic, waitFor } from './fake-medic.js';

const SECRET = 'integration-test-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeMedic(): Promise<FakeMedic> {
  const medic = await startFakeMedic([202]);
  cleanups.push(() => medic.close());
  return medic;
}

const scratch = () => mkdtempSync(path.join(tmpdir(), 'demo-remedies-'));

async function startDemo(env: Record<string, string>, deps: DemoAppDeps = {}) {
  const lines: string[] = [];
  const demo: DemoApp = createDemoApp(
    loadConfig({
      CONTAINER_NAME: 'demo-under-test',
      MONITOR_INTERVAL_MS: '100',
      EVENT_LOOP_LAG_THRESHOLD_MS: '10000',
      MEMORY_THRESHOLD_MB: '4000',
      DEMO_SETTINGS_FILE: path.join(scratch(), 'settings.json'),
      ...env,
    }),
    { write: (line) => lines.push(line), exit: () => undefined, memoryLimitBytes: () => undefined, ...deps },
  );
  cleanups.push(() => demo.close());
  const { port } = await demo.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const index = async () => (await (await fetch(`${base}/`)).json()) as Record<string, unknown>;
  return { demo, base, lines, index };
}

/** Polls an async condition until it holds; fails with `what` if it never does. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const logged = (lines: string[], msg: string) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

describe('the reset-pool action', () => {
  it('clears db-latency in the same process: its start time stays, /health and the queries recover', async () => {
    const { base, lines, index } = await startDemo({ DB_LATENCY_THRESHOLD_MS: '300' });
    const before = await index();
    expect(before.actions).toEqual([expect.objectContaining({ method: 'POST', path: '/admin/reset-pool' })]);

    expect((await fetch(`${base}/trigger/db-latency`, { method: 'POST' })).status).toBe(202);
    await waitFor(
      'the slow database to show in /health',
      () => logged(lines, 'database latency above threshold').length > 0,
    );
    expect((await fetch(`${base}/health`)).status).toBe(503);
    const stuck = fetch(`${base}/api/orders`);

    const reset = await fetch(`${base}/admin/reset-pool`, { method: 'POST' });
    expect(reset.status).toBe(200);
    const answer = (await reset.json()) as Record<string, unknown>;
    expect(answer).toMatchObject({ action: 'reset-pool', pool: 'orders-db', cleared: ['db-latency'] });
    expect(answer.cutOffQueries).toBeGreaterThan(0);
    expect(answer.started_at).toBe(before.started_at);
    // A request stuck on the old pool fails (retry), it is not left hanging.
    expect((await stuck).status).toBe(503);

    expect(logged(lines, 'connection pool reset: stuck connections dropped, new ones opened')).toEqual([
      expect.objectContaining({ pool: 'orders-db', faultCleared: 'db-latency' }),
    ]);
    await until(
      '/health to pass again at the next monitor round',
      async () => (await fetch(`${base}/health`)).status === 200,
    );
    const orders = (await (await fetch(`${base}/api/orders`)).json()) as { queryMs: number };
    expect(orders.queryMs).toBeLessThan(300);
    const after = await index();
    expect(after.started_at).toBe(before.started_at);
    expect(after.active_faults).toEqual([]);
  });

  it('answers when nothing is wrong too, and clears nothing', async () => {
    const { base } = await startDemo({});
    const reset = await fetch(`${base}/admin/reset-pool`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ action: 'reset-pool', cleared: [] });
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe("the oom fault's job", () => {
  it('needs the same amount every time; a job that fits ends, frees its memory and raises no memory alert', async () => {
    const medic = await fakeMedic();
    const { base, lines, index } = await startDemo({
      OOM_ALLOCATE_MB: '200',
      // Low enough that the job's 200 MB would count as a leak, were the app not told it is its own.
      MEMORY_THRESHOLD_MB: '150',
      MONITOR_INTERVAL_MS: '20',
      MEDIC_WEBHOOK_URL: medic.url,
      MEDIC_WEBHOOK_SECRET: SECRET,
    });
    expect((await index()).oom_job).toEqual({ needsMb: 200, from: 'OOM_ALLOCATE_MB', runs: 0, finished: 0 });
    for (const run of [1, 2]) {
      expect((await fetch(`${base}/trigger/oom`, { method: 'POST' })).status).toBe(202);
      await waitFor(
        `job ${run} to finish`,
        () => logged(lines, 'export job finished; its memory is freed').length === run,
      );
    }
    const finished = logged(lines, 'export job finished; its memory is freed');
    expect(finished.map((l) => l.heldMb)).toEqual([200, 200]);
    expect((await index()).oom_job).toEqual({ needsMb: 200, from: 'OOM_ALLOCATE_MB', runs: 2, finished: 2 });
    // Fifteen monitor rounds after the second job: its memory is back, nothing looks like a leak.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logged(lines, 'memory usage above threshold')).toEqual([]);
    expect(medic.received.filter((r) => r.json.alert_type === 'memory-leak')).toEqual([]);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('takes its amount from the limit it first started with, and keeps it when restarted with a raised one', async () => {
    const settings = path.join(scratch(), 'settings.json');
    const MiB = 1024 * 1024;
    const first = await startDemo({ DEMO_SETTINGS_FILE: settings }, { memoryLimitBytes: () => 384 * MiB });
    expect((await first.index()).oom_job).toMatchObject({ needsMb: 461, from: 'memory limit' });
    await first.demo.close();
    // The same settings directory (a restart), under a limit raised 1.5 x.
    const second = await startDemo({ DEMO_SETTINGS_FILE: settings }, { memoryLimitBytes: () => 576 * MiB });
    expect((await second.index()).oom_job).toMatchObject({ needsMb: 461, from: 'kept' });
  });
});

describe('a bad release', () => {
  it('warms up, then fails its order lookups, /health and alerts bad-release, with what broke', async () => {
    const medic = await fakeMedic();
    const file = path.join(scratch(), 'release.json');
    writeFileSync(file, badReleaseFile('t1-bad').replace(/"failsAfterMs": \d+/, '"failsAfterMs": 300'));
    const { base, index } = await startDemo({
      DEMO_RELEASE_FILE: file,
      MEDIC_WEBHOOK_URL: medic.url,
      MEDIC_WEBHOOK_SECRET: SECRET,
    });
    expect((await index()).release).toEqual({ name: 'bad', version: 't1-bad' });
    const warming = await fetch(`${base}/health`);
    expect(warming.status).toBe(503);
    expect(await warming.json()).toEqual({ status: 'degraded', reasons: ['warming up'] });

    await waitFor('the bad-release alert', () =>
      medic.received.some((r) => r.json.alert_type === 'bad-release'),
    );
    const alert = medic.received.find((r) => r.json.alert_type === 'bad-release');
    expect(alert?.json).toMatchObject({ severity: 'high', container_name: 'demo-under-test' });
    const messages = ((alert?.json.logs ?? []) as string[]).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    expect(messages).toContainEqual(
      expect.objectContaining({
        msg: 'order lookups fail since the release',
        problem: expect.stringContaining('release t1-bad reads column orders.total_cents'),
      }),
    );
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'degraded', reasons: ['bad release'] });
    const orders = await fetch(`${base}/api/orders`);
    expect(orders.status).toBe(500);
    expect(JSON.stringify(await orders.json())).toContain('orders.total_cents');
    expect((await index()).active_faults).toEqual(['bad-release']);
  });

  it('is a good release without the file', async () => {
    const { base, index } = await startDemo({ DEMO_RELEASE_FILE: path.join(scratch(), 'none.json') });
    expect((await index()).release).toEqual({ name: 'good' });
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
