// The verification's cadence: fast probes in the first window, then the MEDIC_HEALTH_* policy from its
// second wait on, so the last check comes when it always did.
import { describe, expect, it } from 'vitest';
import { probeUntilHealthy } from '../../src/activities/health.js';
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
    expect(gaps).toEqual([20, 30]);
  });

  it('stops at once on a refused health URL', async () => {
    const refused = async () => ({ ok: false, refused: true, detail: 'not allowed' });
    expect(await probeUntilHealthy(refused, 60_000, noWait)).toMatchObject({ refused: true, probes: 1 });
  });
});
