// RESTART with dependents on the engine: a second demo container declares `medic.depends-on=<target>`. The
// target's memory leak is restarted by its own incident; the dependent, which fails its health check then,
// is raised as an incident of its own (`dependency-failed`), restarted by it, within its own guard, and
// healthy again. A dependent that is healthy after the target's restart is left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.js';
import {
  type E2eStack,
  engineOrSkip,
  incidentReader,
  NO_WEBHOOK,
  startDemoContainer,
  startE2eStack,
} from './support.js';

const { engine, skipReason } = engineOrSkip();
const TARGET = `medic-e2e-dep-target-${process.pid}`;
const SICK = `medic-e2e-dep-sick-${process.pid}`;
const WELL = `medic-e2e-dep-well-${process.pid}`;
let stack: E2eStack;
const dependents: Array<{ url: string; stop(): Promise<void> }> = [];

describe.skipIf(Boolean(skipReason))('dependents of a restarted target', () => {
  beforeAll(async () => {
    stack = await startE2eStack({
      engine: engine!,
      env: { MEDIC_RECURRENCE_WINDOW: '0s' },
      demo: { name: TARGET, env: { MONITOR_INTERVAL_MS: '1000' }, declaresRemedies: false },
    });
    for (const name of [SICK, WELL])
      dependents.push(
        await startDemoContainer(engine!.docker, {
          name,
          env: { ...NO_WEBHOOK, MONITOR_INTERVAL_MS: '500' },
          labels: { 'medic.managed': 'true', 'medic.depends-on': TARGET },
        }),
      );
  }, 240_000);

  afterAll(async () => {
    for (const d of dependents) await d.stop();
    await stack?.stop();
  });

  const { awaitIncident, incident } = incidentReader(() => stack.apiUrl);
  const startedAt = async (name: string) =>
    (await engine!.docker.getContainer(name).inspect()).State.StartedAt;

  it('raises the dependent that fails after the restart, which its own incident restarts', {
    timeout: 240_000,
  }, async () => {
    const [sick] = dependents;
    // The dependent's pool hangs on to what it had: it answers degraded (as stale connections would).
    expect((await fetch(`${sick!.url}/trigger/db-latency`, { method: 'POST' })).status).toBe(202);
    await waitFor(
      'the dependent to answer degraded',
      async () => (await fetch(`${sick!.url}/health`)).status === 503,
    );
    const sickBefore = await startedAt(SICK);
    const wellBefore = await startedAt(WELL);

    expect((await fetch(`${stack.demo.url}/trigger/memory-leak`, { method: 'POST' })).status).toBe(202);
    const healed = await awaitIncident(`incident:local:${TARGET}:memory-leak`, 'RESOLVED');
    expect(healed.steps?.map((s) => [s.remedy, s.outcome])).toEqual([['RESTART', 'healed']]);
    const raised = healed.timeline.filter((t) => t.event === 'dependent-raised');
    expect(raised.map((t) => t.detail.split(':')[0])).toEqual([SICK]);

    const own = await awaitIncident(`incident:local:${SICK}:dependency-failed`, 'RESOLVED');
    expect(own.evidence).toMatchObject({ via: 'dependency', check: 'depends-on' });
    expect(own.evidence?.detail).toContain(`medic.depends-on=${TARGET}`);
    expect(own.actions.map((a) => [a.action, a.outcome])).toEqual([['RESTART', 'restarted']]);
    expect(await startedAt(SICK)).not.toBe(sickBefore);
    expect((await fetch(`${sick!.url}/health`)).status).toBe(200);
    // The healthy dependent was left alone.
    expect(await startedAt(WELL)).toBe(wellBefore);
    expect(await incident(`incident:local:${WELL}:dependency-failed`)).toBeFalsy();
  });
});
