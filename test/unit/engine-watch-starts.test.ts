// The engine watch tells a managed container's guard when it starts (the engine's restart policy, a person):
// the incidents waiting on that target then verify its health instead of acting or asking. Unmanaged
// containers are not told about, and a guard that cannot be told never stops the watch.
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { WatchableRuntime } from '../../src/activities/containers.js';
import { createEngineWatchActivities } from '../../src/activities/watch/index.js';
import type { EngineEvent } from '../../src/domain/engine-events.js';
import type { DeskMessage } from '../../src/domain/target-desk.js';
import type { IncidentPort } from '../../src/temporal/incident-port.js';
import { container, death, fakeEngine, T0 } from '../support/fake-engine.js';
import { captureLogger } from '../support/medic.js';

const start = (name: string, atMs: number): EngineEvent => ({
  action: 'start',
  containerId: `${name}-id`,
  name,
  attributes: { name },
  timeNano: atMs * 1e6,
});

function follow(runtime: WatchableRuntime, tell: (target: string, message: DeskMessage) => Promise<void>) {
  const captured = captureLogger();
  const told: Array<{ target: string; host: string; message: DeskMessage }> = [];
  const opened: string[] = [];
  const incidents: Pick<IncidentPort, 'openOrJoin' | 'findOpenIncident' | 'tellTarget'> = {
    async openOrJoin(alert) {
      opened.push(`${alert.target}:${alert.alertType}`);
      return { workflowId: `incident-${alert.target}`, runId: 'run' };
    },
    findOpenIncident: async () => undefined,
    async tellTarget(target, host, message) {
      told.push({ target, host, message });
      await tell(target, message);
    },
  };
  const { followEngineEvents } = createEngineWatchActivities({ runtime, incidents, logger: captured.logger });
  const env = new MockActivityEnvironment();
  const cursor = { timeNano: (T0 - 1000) * 1e6, keysAtTime: [] };
  const run = env.run(followEngineEvents, { cursor, runForMs: 300, heartbeatEveryMs: 50 });
  return { run, told, opened, lines: captured.lines };
}

describe('the engine watch and container starts', () => {
  const startedAt = new Date(T0 + 500).toISOString();
  const managed = container('app-a', { running: true, state: 'running', startedAt });
  const unmanaged = container('other', { running: true, state: 'running', managed: false });

  it("tells a managed container's guard that it started, with when and its new start time", async () => {
    const { run, told } = follow(
      fakeEngine([managed, unmanaged], [start('app-a', T0), start('other', T0 + 10)]),
      async () => {},
    );
    await run;
    expect(told).toEqual([
      {
        target: 'app-a',
        host: 'local',
        message: { kind: 'started', at: new Date(T0).toISOString(), startedAt },
      },
    ]);
  });

  it('goes on watching when the guard cannot be told: the next fault is still raised', async () => {
    const b = container('app-b');
    const { run, told, opened, lines } = follow(
      fakeEngine([managed, b], [start('app-a', T0), death('app-b', T0 + 1000)]),
      async () => {
        throw new Error('Temporal is unavailable');
      },
    );
    await run;
    expect(told.map((t) => t.target)).toEqual(['app-a']);
    expect(opened).toEqual(['app-b:crash']);
    expect(lines.some((l) => String(l.msg).includes("could not tell the target's guard it started"))).toBe(
      true,
    );
  });
});
