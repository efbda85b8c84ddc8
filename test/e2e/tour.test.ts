// The demo tour as the README and npm start's banner state it (scripts/tour.ts), run in its order on the real
// stack with the demo app in a real container, checking each outcome the tour states: its bad deploy is
// `npm run demo:deploy -- bad`'s, to this run's container. The shipped defaults,
// except what the tour itself names: a 20 s cooldown (so the tour takes minutes, not half an hour) and the
// rules alone diagnosing (MEDIC_PROVIDERS empty), so that a model on the machine cannot change the outcomes;
// and, because other test runs may share the engine, a managed label of this run's own.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deployDemo } from '../../scripts/demo-deploy.js';
import { TOUR, type TourStep } from '../../scripts/tour.js';
import { DockerEngineRuntime } from '../../src/activities/containers.js';
import type { IncidentState } from '../../src/domain/types.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, incidentReader, startWatchingStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-tour-${process.pid}`;
const LABEL = { key: 'medic.managed', value: `t${process.pid}` };
/** npm start's: the oom fault ends in an OOM kill at this limit, the memory leak stays below it. */
const MEMORY_LIMIT = 384 * 1024 * 1024;
let stack: E2eStack;
/** Whether this engine can change a container's memory limit (Podman 4.3 cannot): RAISE_MEMORY needs it. */
let canRaiseMemory = false;

const { incident } = incidentReader(() => stack.apiUrl);

describe.skipIf(Boolean(skipReason))('the demo tour', () => {
  beforeAll(async () => {
    stack = await startWatchingStack({
      engine: engine!,
      label: LABEL,
      demo: { name: DEMO, env: { MEMORY_LEAK_MAX_MB: '240' }, memoryLimitBytes: MEMORY_LIMIT },
      env: {
        MEDIC_GUARD_COOLDOWN: '20s',
        MEDIC_PROVIDERS: '',
        // startE2eStack's quicker settings, back to the shipped defaults the tour describes.
        MEDIC_HEALTH_INITIAL_INTERVAL: '2s',
        MEDIC_RESTART_STOP_TIMEOUT: '10s',
        MEDIC_SWEEP_INTERVAL: '15s',
      },
    });
    const report = await new DockerEngineRuntime(engine!.docker, LABEL).capabilities();
    canRaiseMemory = report.can.includes('update-limits');
    if (!canRaiseMemory)
      console.log(
        `[tour] this engine cannot update memory limits (${report.cannot.find((c) => c.capability === 'update-limits')?.why}): oom is restarted instead of raised, and its second run is left out`,
      );
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** The incident of `alertType` opened after `sinceMs`, once `ok` says so of its state. */
  const awaitNew = (alertType: string, sinceMs: number, what: string, ok: (s: IncidentState) => boolean) =>
    waitFor(
      `${alertType}: ${what}`,
      async () => {
        const state = await incident(`incident:local:${DEMO}:${alertType}`);
        return state && Date.parse(state.openedAt) >= sinceMs && ok(state) ? state : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );

  const demo = (method: 'POST' | 'DELETE', fault: string) =>
    fetch(`${stack.demo.url}/trigger/${fault}`, { method });

  const inspect = () => engine!.docker.getContainer(DEMO).inspect();

  /** What the step does: its trigger, or its deploy. */
  const act = async (step: TourStep) => {
    if (step.deploy) {
      const deployed = await deployDemo(engine!.docker, { name: DEMO, release: step.deploy });
      expect(deployed.changed, `deploy ${step.deploy}`).toBe(true);
    } else expect((await demo('POST', step.fault!)).status).toBe(202);
  };

  /** The oom job's counts, as the demo app tells them at GET /. */
  const oomJob = async () =>
    ((await (await fetch(`${stack.demo.url}/`)).json()) as { oom_job: { runs: number; finished: number } })
      .oom_job;

  const healthy = () =>
    waitFor(
      'the demo app to answer healthy',
      async () =>
        (await fetch(`${stack.demo.url}/health`).catch(() => undefined))?.status === 200 ? true : undefined,
      { timeoutMs: 120_000, intervalMs: 500 },
    );

  it('leads to what it says, step by step, in its order', { timeout: 1_500_000 }, async () => {
    const told: string[] = [];
    for (const step of TOUR) {
      // Without limit updates the plan for oom is its next step, a restart; the second oom would be killed again.
      const raises =
        step.check.remedy === 'RAISE_MEMORY' || (step.fault === 'oom' && step.check.ends === 'NONE');
      if (raises && !canRaiseMemory && step.check.ends === 'NONE') continue;
      const check = raises && !canRaiseMemory ? { ...step.check, remedy: 'RESTART' as const } : step.check;
      const what = step.fault ?? `deploy ${step.deploy}`;
      const since = Date.now();
      const before = await inspect();
      if (check.ends === 'NONE') {
        // The fault passes by itself: the oom job fits under the raised limit and ends; nothing restarted it.
        const { finished } = await oomJob();
        await act(step);
        await waitFor(
          'the oom job to finish',
          async () => (await oomJob()).finished > finished || undefined,
          {
            timeoutMs: 60_000,
          },
        );
        expect((await inspect()).State.StartedAt, `${what}: not restarted`).toBe(before.State.StartedAt);
        const opened = await incident(`incident:local:${DEMO}:${check.alertType}`);
        expect(opened && Date.parse(opened.openedAt) >= since, `${what}: no incident`).toBeFalsy();
        told.push(`${what}: fit, no incident`);
        await healthy();
        continue;
      }
      await act(step);
      if (check.approve) {
        const waiting = await awaitNew(
          check.alertType,
          since,
          'waits for a person',
          (s) => s.status === 'AWAITING_APPROVAL',
        );
        if (check.remedy === 'ROLLBACK')
          expect(JSON.stringify(waiting.diagnosis), `${what}: the proposal names the image change`).toMatch(
            /image/i,
          );
        const res = await fetch(`${stack.apiUrl}/incidents/${waiting.workflowId}/approve`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${stack.approverTokens[0]!.token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ comment: 'as the tour says' }),
        });
        expect(res.status, `${what}: the approval`).toBe(200);
      }
      const ended = await awaitNew(
        check.alertType,
        since,
        `ends ${check.ends}`,
        (s) => s.status === check.ends,
      );
      const events = ended.timeline.map((t) => t.event);
      if (check.decidedAgain) {
        expect(events, `${what}: decided again`).toContain('decided-again');
        expect(ended.approval?.decidedBy, `${what}: nobody decided`).toBeUndefined();
      }
      if (!check.approve && !check.decidedAgain) expect(events, what).not.toContain('AWAITING_APPROVAL');
      if (check.approve) expect(ended.approval?.decision, what).toBe('approved');
      if (check.remedy) {
        expect(ended.steps?.at(-1)?.remedy, `${what}: healed by`).toBe(check.remedy);
      }
      const after = await inspect();
      if (check.sameStart)
        expect(after.State.StartedAt, `${what}: not restarted`).toBe(before.State.StartedAt);
      if (check.remedy === 'ROLLBACK') {
        const good = await engine!.docker.getImage(inject('demoImage')!).inspect();
        expect(after.Image, `${what}: runs the image it last ran healthy`).toBe(good.Id);
      }
      if (check.remedy === 'RAISE_MEMORY')
        expect(after.HostConfig.Memory, `${what}: the raised limit`).toBe(Math.floor(MEMORY_LIMIT * 1.5));
      told.push(`${what}: ${ended.status}${check.decidedAgain ? ', decided again' : ''}`);
      if (check.thenDelete) expect((await demo('DELETE', step.fault!)).status).toBe(200);
      await healthy();
    }
    console.log(`[tour] ${told.join('; ')}`);
  });
});
