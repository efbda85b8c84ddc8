// The verification's cadence: fast probes in the first window, then the MEDIC_HEALTH_* policy from its
// second wait on, so the last check comes when it always did.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../src/activities/containers.js';
import { containerHealthProbe, INSPECTION_REUSE_MS, probeUntilHealthy } from '../../src/activities/health.js';
import { verificationCadence } from '../../src/domain/incident.js';

describe('verificationCadence', () => {
  it('probes fast for the initial interval, then retries from the old second wait', () => {
    const cadence = verificationCadence({
      initialIntervalMs: 2000,
      backoffCoefficient: 2,
      maximumAttempts: 6,
    });
    expect(cadence.firstWindowMs).toBe(2000);
    expect(cadence.retry).toEqual({
      initialIntervalMs: 4000,
      maximumIntervalMs: 200_000,
      backoffCoefficient: 2,
      maximumAttempts: 5,
    });
    // Old checks at 0, 2, 6, 14, 30, 62 s; new: the window 0..2 s, then 2 + 4, + 8, + 16, + 32 = 62 s.
    let at = cadence.firstWindowMs;
    let wait = cadence.retry.initialIntervalMs;
    const later: number[] = [];
    for (let i = 1; i < cadence.retry.maximumAttempts; i++) {
      at += wait;
      later.push(at);
      wait *= cadence.retry.backoffCoefficient;
    }
    expect(later).toEqual([6000, 14_000, 30_000, 62_000]);
  });

  it('keeps a single check a single probe', () => {
    const cadence = verificationCadence({
      initialIntervalMs: 2000,
      backoffCoefficient: 2,
      maximumAttempts: 1,
    });
    expect(cadence.firstWindowMs).toBe(0);
    expect(cadence.retry.maximumAttempts).toBe(1);
  });
});

describe('probeUntilHealthy', () => {
  const probes = (answers: boolean[]) => {
    let calls = 0;
    return {
      probe: async () => ({
        ok: answers[Math.min(calls++, answers.length - 1)] ?? false,
        detail: `probe ${calls}`,
      }),
      calls: () => calls,
    };
  };
  const noWait = async () => undefined;

  it('probes once with no window', async () => {
    const p = probes([false, true]);
    expect(await probeUntilHealthy(p.probe, 0, noWait)).toMatchObject({ ok: false, probes: 1 });
  });

  it('probes again while the service is down, and stops at the first healthy answer', async () => {
    const p = probes([false, false, true, true]);
    const gaps: number[] = [];
    const result = await probeUntilHealthy(p.probe, 60_000, async (ms) => {
      gaps.push(ms);
    });
    expect(result).toMatchObject({ ok: true, probes: 3 });
    expect(gaps).toEqual([10, 13]);
  });

  it('stops at once on a refused health URL', async () => {
    const refused = async () => ({ ok: false, refused: true, detail: 'not allowed' });
    expect(await probeUntilHealthy(refused, 60_000, noWait)).toMatchObject({ refused: true, probes: 1 });
  });
});

describe('containerHealthProbe', () => {
  let server: Server;
  let url = '';
  let answers: number[] = [];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const container = (over: Partial<ContainerInfo> = {}): ContainerInfo => ({
    id: 'c1',
    name: 'web',
    labels: {},
    managed: true,
    state: 'running',
    running: true,
    startedAt: '2026-12-01T00:00:00.000Z',
    restartCount: 0,
    exitCode: 0,
    oomKilled: false,
    healthUrl: url,
    ...over,
  });

  it('asks the engine once, then only the health URL, until the inspection is INSPECTION_REUSE_MS old', async () => {
    answers = [503, 503, 503, 200];
    let clock = 0;
    let inspections = 0;
    const probe = containerHealthProbe(
      async () => {
        inspections++;
        return container();
      },
      1000,
      () => clock,
    );
    expect(await probe()).toMatchObject({ ok: false });
    clock = 100;
    expect(await probe()).toMatchObject({ ok: false });
    expect(inspections).toBe(1);
    clock = INSPECTION_REUSE_MS;
    expect(await probe()).toMatchObject({ ok: false });
    expect(inspections).toBe(2);
    clock += 10;
    // Healthy on a reused inspection: confirmed by a fresh one before it counts.
    expect(await probe()).toMatchObject({ ok: true });
    expect(inspections).toBe(3);
  });

  it('asks the engine every time while the container is not running, and says it is not', async () => {
    let inspections = 0;
    const probe = containerHealthProbe(
      async () => {
        inspections++;
        return container({ running: false, state: 'exited', exitCode: 1 });
      },
      1000,
      () => 0,
    );
    await probe();
    expect(await probe()).toMatchObject({ ok: false, detail: 'container web is exited (exit code 1)' });
    expect(inspections).toBe(2);
  });
});
