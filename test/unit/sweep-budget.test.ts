// The sweep measures containers in parallel within a time budget: twenty hung health URLs neither hold
// the sweep past its budget nor keep an exited container's fault (listed after them) from being raised,
// and a container not measured in time keeps what the last sweep remembered of it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweeper } from '../../src/activities/watch/sweep.js';
import { DEFAULT_SWEEP_THRESHOLDS, type SweepMemory } from '../../src/domain/anomaly.js';
import { container, fakeEngine } from '../support/fake-engine.js';
import { captureLogger } from '../support/medic.js';

let hung: http.Server;
let url: string;

beforeAll(async () => {
  // Accepts every request and never answers: a hung service.
  hung = http.createServer(() => undefined);
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/health`;
});

afterAll(async () => {
  hung.closeAllConnections();
  await new Promise<void>((resolve) => hung.close(() => resolve()));
});

function sweepOf(names: { hung: number }, options: { budgetMs: number; concurrency: number }) {
  const running = Array.from({ length: names.hung }, (_, i) =>
    container(`hung-${i}`, { state: 'running', running: true, exitCode: 0, healthUrl: url }),
  );
  const exited = container('crashed', { restartCount: 0 });
  const raised: string[] = [];
  const sweep = sweeper({
    runtime: fakeEngine([...running, exited]),
    incidents: { findOpenIncident: async () => undefined },
    raise: async (target, alertType) => {
      raised.push(`${target}:${alertType}`);
      return `incident:local:${target}:${alertType}`;
    },
    log: captureLogger().logger,
    ...options,
  });
  return { sweep, raised };
}

describe('the sweep within its budget', () => {
  it('raises an exited container listed after twenty hung ones, and says which were not measured', async () => {
    const { sweep, raised } = sweepOf({ hung: 20 }, { budgetMs: 1500, concurrency: 4 });
    const memory: SweepMemory = {
      containers: {
        'hung-19': {
          id: 'hung-19-id',
          startedAt: 'then',
          restartCount: 0,
          streaks: { memory: 1 },
          reported: [],
        },
      },
    };
    const result = await sweep({
      thresholds: DEFAULT_SWEEP_THRESHOLDS,
      healthProbeTimeoutMs: 60_000,
      searchAttributes: false,
      memory,
    });
    expect(raised).toEqual(['crashed:crash']);
    expect(result.unsampled).toEqual(Array.from({ length: 20 }, (_, i) => `hung-${i}`));
    // Not measured this time: the last sweep's streak is kept, not reset.
    expect(result.memory.containers['hung-19']?.streaks).toEqual({ memory: 1 });
  });

  it('measures every container when the probes end within the budget, several at a time', async () => {
    const { sweep } = sweepOf({ hung: 20 }, { budgetMs: 30_000, concurrency: 10 });
    const result = await sweep({
      thresholds: DEFAULT_SWEEP_THRESHOLDS,
      healthProbeTimeoutMs: 200,
      searchAttributes: false,
    });
    expect(result.unsampled).toBeUndefined();
    expect(result.containers).toBe(21);
  });
});
