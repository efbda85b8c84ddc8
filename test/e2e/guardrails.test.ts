// The guard's hourly limit on a real container: `crash` five times in quick succession. The engine
// watcher turns each death into an incident; three restarts happen alone, the rest wait for a person
// and say why. GET /guards/:target shows the count, and a person's approval still acts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardSnapshot } from '../../src/domain/guard.js';
import type { IncidentState } from '../../src/domain/types.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, startE2eStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-guard-${process.pid}`;
// A label of this run's own: other runs share the engine, and this watcher must see only this container.
const LABEL = { key: 'medic.managed', value: `g${process.pid}` };
const WORKFLOW_ID = `incident:local:${DEMO}:crash`;

let stack: E2eStack;

describe.skipIf(Boolean(skipReason))('guardrails end to end: five crashes in quick succession', () => {
  beforeAll(async () => {
    stack = await startE2eStack({
      engine: engine!,
      env: {
        MEDIC_MANAGED_LABEL: `${LABEL.key}=${LABEL.value}`,
        MEDIC_WATCHER: 'on',
        MEDIC_SWEEP_INTERVAL: '0',
        // The hourly limit (default 3) is what this test is about: no cooldown, and each crash is a new
        // fault rather than the recurrence of the one before.
        MEDIC_GUARD_COOLDOWN: '0s',
        MEDIC_RECURRENCE_WINDOW: '0s',
      },
      demo: {
        name: DEMO,
        env: { MEDIC_WEBHOOK_URL: 'http://127.0.0.1:9/nowhere', MEDIC_WEBHOOK_SECRET: '' },
      },
    });
    const { watcherId } = watchIds(stack.config.temporal.taskQueue);
    await waitFor(
      'the watcher to follow the event stream',
      async () => {
        const { raw } = await stack.client.workflow.getHandle(watcherId).describe();
        return (raw.pendingActivities ?? []).some((a) => a.lastHeartbeatTime);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const approverToken = () => stack.approverTokens[0]!.token;
  const incident = async (): Promise<IncidentState | undefined> => {
    const res = await fetch(`${stack.apiUrl}/incidents/${WORKFLOW_ID}`);
    return res.status === 200 ? ((await res.json()) as IncidentState) : undefined;
  };
  /** The next incident (not one seen before) once it reaches `status`. */
  const awaitIncident = (status: IncidentState['status'], seen: Set<string>) =>
    waitFor(
      `a new ${WORKFLOW_ID} to be ${status}`,
      async () => {
        const s = await incident();
        return s && !seen.has(s.id) && s.status === status ? s : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  const healthy = () =>
    waitFor('the demo app to answer', async () => {
      const res = await fetch(`${stack.demo.url}/health`).catch(() => undefined);
      return res?.status === 200;
    });
  const crash = async () => {
    await healthy();
    const res = await fetch(`${stack.demo.url}/trigger/crash`, { method: 'POST' }).catch(() => undefined);
    // The process exits at once; the answer may or may not make it out.
    expect(res === undefined || res.status === 202).toBe(true);
  };

  it('restarts at most 3 times in the hour; the 4th and 5th wait for approval and give the reason', {
    timeout: 300_000,
  }, async () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 3; i++) {
      await crash();
      const state = await awaitIncident('RESOLVED', seen);
      seen.add(state.id);
      expect(state.actions.map((a) => a.outcome)).toEqual(['restarted']);
      expect(state.approval).toMatchObject({ required: false });
    }

    await crash();
    const fourth = await awaitIncident('AWAITING_APPROVAL', seen);
    seen.add(fourth.id);
    expect(fourth.approval?.reason).toContain(
      `3 restarts of ${DEMO} in the last hour; the limit is 3 per hour`,
    );
    expect(fourth.guard).toMatchObject({ decision: 'denied' });
    expect(fourth.actions).toEqual([]);

    const guardRes = await fetch(`${stack.apiUrl}/guards/${DEMO}`);
    expect(guardRes.status).toBe(200);
    const { guard, budget } = (await guardRes.json()) as {
      guard: GuardSnapshot;
      budget: { lastHour: number } | null;
    };
    expect(guard.restartsLastHour).toBe(3);
    expect(guard.limits.maxRestartsPerHour).toBe(3);
    expect(budget?.lastHour).toBe(3);

    // A person may still decide to act: the approval waives the hourly limit.
    const approve = await fetch(`${stack.apiUrl}/incidents/${WORKFLOW_ID}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken()}` },
    });
    expect(approve.status).toBe(200);
    const approved = await waitFor('the approved incident to heal', async () => {
      const s = await incident();
      return s?.id === fourth.id && s.status === 'RESOLVED' ? s : undefined;
    });
    expect(approved.approval).toMatchObject({ decision: 'approved', decidedBy: 'operator' });

    await crash();
    const fifth = await awaitIncident('AWAITING_APPROVAL', seen);
    expect(fifth.approval?.reason).toContain(`4 restarts of ${DEMO} in the last hour`);
    expect(fifth.actions).toEqual([]);

    // Bad requests get clear errors.
    expect((await fetch(`${stack.apiUrl}/guards/no-such-target`)).status).toBe(404);
    expect((await fetch(`${stack.apiUrl}/guards/..%2Fetc`)).status).toBe(400);
    expect((await fetch(`${stack.apiUrl}/guards/${DEMO}/reset`, { method: 'POST' })).status).toBe(401);
  });
});
