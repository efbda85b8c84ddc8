import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ContainerSample,
  cpuPercent,
  DEFAULT_SWEEP_THRESHOLDS,
  evaluateSweep,
  type SweepMemory,
} from '../../src/domain/anomaly.js';

const MB = 1024 * 1024;
const base: ContainerSample = {
  id: 'c1',
  name: 'svc',
  state: 'running',
  exitCode: 0,
  oomKilled: false,
  restartCount: 0,
  startedAt: '2026-01-01T00:00:00Z',
};
const withMemory = (percent: number): ContainerSample => ({
  ...base,
  memory: { usageBytes: (percent / 100) * 100 * MB, limitBytes: 100 * MB },
});

/** Runs sweeps in order and returns the checks reported at each one. */
function sweeps(samples: ContainerSample[][]): string[][] {
  let memory: SweepMemory | undefined;
  return samples.map((batch) => {
    const out = evaluateSweep(batch, memory);
    memory = out.memory;
    return out.anomalies.map((a) => a.check);
  });
}

describe('evaluateSweep', () => {
  it('reports memory over 80% of the limit only once it has lasted two sweeps', () => {
    expect(sweeps([[withMemory(90)], [withMemory(90)]])).toEqual([[], ['memory']]);
  });

  it('does not report it again while it lasts, and again only after it cleared and came back', () => {
    const high = withMemory(95);
    const low = withMemory(40);
    expect(sweeps([[high], [high], [high], [low], [high], [high]])).toEqual([
      [],
      ['memory'],
      [],
      [],
      [],
      ['memory'],
    ]);
  });

  it('never reports a reading that alternates around its threshold (no flapping)', () => {
    const seq = Array.from({ length: 10 }, (_, i) => [withMemory(i % 2 === 0 ? 85 : 79)]);
    expect(sweeps(seq).flat()).toEqual([]);
  });

  it('reports an exited container at once, as a crash, or as oom when the engine says OOM-killed', () => {
    const crashed = { ...base, state: 'exited', exitCode: 1 };
    const oom = { ...base, id: 'c2', name: 'other', state: 'exited', exitCode: 137, oomKilled: true };
    const { anomalies } = evaluateSweep([crashed, oom], undefined);
    expect(anomalies.map((a) => [a.target, a.check, a.alertType, a.severity])).toEqual([
      ['svc', 'exited', 'crash', 'medium'],
      ['other', 'exited', 'oom', 'medium'],
    ]);
    expect(anomalies[1]?.evidence).toEqual({ exitCode: 137, oomKilled: true, restartCount: 0 });
  });

  it('reports a second death even when no sweep saw the container running in between', () => {
    const dead = (startedAt: string) => ({ ...base, state: 'exited', exitCode: 137, startedAt });
    expect(sweeps([[dead('t1')], [dead('t1')], [dead('t2')]])).toEqual([['exited'], [], ['exited']]);
  });

  it('leaves a container stopped cleanly (exit code 0) alone', () => {
    expect(evaluateSweep([{ ...base, state: 'exited', exitCode: 0 }], undefined).anomalies).toEqual([]);
  });

  it('reports growth of the restart count as a restart loop (critical: a person decides), not the first sighting', () => {
    const at = (restartCount: number) => ({ ...base, restartCount });
    expect(sweeps([[at(3)], [at(3)], [at(5)], [at(5)], [at(6)]])).toEqual([
      [],
      [],
      ['restart-loop'],
      [],
      ['restart-loop'],
    ]);
    const { anomalies } = evaluateSweep([at(4)], evaluateSweep([at(3)], undefined).memory);
    expect(anomalies[0]?.severity).toBe('critical');
  });

  it('starts over for a container recreated under the same name', () => {
    const first = evaluateSweep([{ ...base, restartCount: 7 }], undefined);
    const recreated = { ...base, id: 'c-new', restartCount: 9 };
    expect(evaluateSweep([recreated], first.memory).anomalies).toEqual([]);
  });

  it('reports an engine HEALTHCHECK unhealthy at once and a failing health URL after two sweeps', () => {
    const unhealthy = { ...base, health: 'unhealthy' };
    expect(evaluateSweep([unhealthy], undefined).anomalies.map((a) => a.alertType)).toEqual(['unhealthy']);
    const failing = { ...base, healthUrl: { ok: false, detail: 'GET /health answered 503' } };
    expect(sweeps([[failing], [failing]])).toEqual([[], ['health-url']]);
  });

  it('computes CPU between sweeps from the engine counters and reports it when sustained', () => {
    // 2 CPUs; the container used 0.9 of the host's 2 CPU-seconds per second: 90% of one CPU... scaled x2.
    const at = (t: number, used: number) => ({
      ...base,
      cpu: { totalUsage: used, systemUsage: t, onlineCpus: 2 },
    });
    expect(cpuPercent(at(0, 0).cpu, at(2e9, 0.9e9).cpu)).toBeCloseTo(90);
    expect(sweeps([[at(0, 0)], [at(2e9, 0.9e9)], [at(4e9, 1.8e9)]])).toEqual([[], [], ['cpu']]);
    expect(sweeps([[at(0, 0)], [at(2e9, 0.5e9)], [at(4e9, 1.0e9)]])).toEqual([[], [], []]);
  });

  it('uses configured thresholds', () => {
    const thresholds = { ...DEFAULT_SWEEP_THRESHOLDS, memoryPercent: 50, sustainedSweeps: 3 };
    let memory: SweepMemory | undefined;
    const reported = [1, 2, 3].map(() => {
      const out = evaluateSweep([withMemory(60)], memory, thresholds);
      memory = out.memory;
      return out.anomalies.map((a) => a.check);
    });
    expect(reported).toEqual([[], [], ['memory']]);
  });

  it('property: an anomaly needs its threshold crossed on the sustain count of consecutive sweeps', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 30 }), (highs) => {
        const reported = sweeps(highs.map((h) => [withMemory(h ? 90 : 10)]));
        let streak = 0;
        let open = false;
        highs.forEach((h, i) => {
          streak = h ? streak + 1 : 0;
          if (!h) open = false;
          const expected = h && streak >= 2 && !open;
          if (expected) open = true;
          expect(reported[i]).toEqual(expected ? ['memory'] : []);
        });
      }),
    );
  });
});
