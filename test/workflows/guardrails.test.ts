// The guardrails on the time-skipping server: cooldowns, hourly limits, the circuit breaker, global
// budgets, one action at a time, the escalation ladder, recurrence and dry-run. Medic's real
// activities act on the demo app, run as real processes by Medic's process supervisor.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerRuntime, ProcessSupervisor } from '../../src/activities/containers.js';
import type { GuardSnapshot } from '../../src/domain/guard.js';
import { budgetWorkflowId, guardWorkflowId } from '../../src/domain/naming.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import type { Alert, IncidentState } from '../../src/domain/types.js';
import type { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import {
  approveSignal,
  budgetStateQuery,
  guardStateQuery,
  rejectSignal,
  resetBreakerSignal,
  statusQuery,
} from '../../src/workflows/messages.js';
import { buildActivities, MANAGED, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { connectTimeSkipping, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const MINUTE = 60_000;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await connectTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

// Evidence every rule recognises, so each diagnosis is confident enough to act alone.
const CONFIRMING_LOG =
  '{"level":"error","msg":"fatal: memory usage high, cpu busy, db query slow, request timed out, errors everywhere"}';

const alertFor = (target: string, alertType: string, overrides: Partial<Alert> = {}): Alert => ({
  source: 'webhook',
  target,
  alertType,
  severity: 'medium',
  status: 'firing',
  logs: [CONFIRMING_LOG],
  firedAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  ...overrides,
});

interface Ctx {
  gateway: IncidentGateway;
  supervisor: ProcessSupervisor;
  taskQueue: string;
  notifications: () => Array<Record<string, unknown>>;
  runbook: ReturnType<typeof buildActivities>['runbook'];
  open(alert: Alert): Promise<WorkflowHandle>;
  /**
   * Runs an incident that needs nobody until it settles. Polled rather than awaited with result():
   * result() lets the server skip time, and a restarted process needs real time to come up.
   */
  run(alert: Alert): Promise<IncidentState>;
  guard(target: string): Promise<GuardSnapshot>;
  restarts(target: string): Promise<number>;
}

/** One task queue, one worker, and a demo process per target, all torn down afterwards. */
async function withTargets(
  options: {
    targets: string[];
    settings?: Partial<IncidentSettings>;
    demoEnv?: Record<string, string>;
    /** What the activities act through, around the supervisor (which the test still inspects). */
    runtime?: (supervisor: ProcessSupervisor) => ContainerRuntime;
  },
  body: (ctx: Ctx) => Promise<void>,
) {
  const supervisor = new ProcessSupervisor(MANAGED);
  for (const name of options.targets) await superviseDemoApp({ name, supervisor, env: options.demoEnv });
  const settings = testSettings({ searchAttributes: false, ...options.settings });
  const built = buildActivities(
    options.runtime ? options.runtime(supervisor) : supervisor,
    undefined,
    undefined,
    settings,
  );
  const taskQueue = uniqueTaskQueue('guardrails');
  await withIncidentWorker(
    env,
    { taskQueue, activities: built.activities, settings, supervisor },
    async (gateway) => {
      const open = async (alert: Alert) => {
        const { workflowId, runId } = await gateway.openOrJoin(alert);
        return env.client.workflow.getHandle(workflowId, runId);
      };
      await body({
        gateway,
        supervisor,
        taskQueue,
        notifications: built.notifications,
        runbook: built.runbook,
        open,
        run: async (alert) => awaitSettled(await open(alert)),
        guard: (target) => env.client.workflow.getHandle(guardWorkflowId(target)).query(guardStateQuery),
        restarts: async (target) => (await supervisor.inspect(target))?.restartCount ?? -1,
      });
    },
  );
}

const awaitStatus = (handle: WorkflowHandle, status: IncidentState['status']) =>
  waitFor(`incident to reach ${status}`, async () => {
    const state = (await handle.query(statusQuery)) as IncidentState;
    return state.status === status ? state : undefined;
  });

const SETTLED = ['RESOLVED', 'FAILED', 'ESCALATED', 'REJECTED'];
const awaitSettled = async (handle: WorkflowHandle) => {
  let last: IncidentState | undefined;
  try {
    return await waitFor('incident to settle', async () => {
      last = (await handle.query(statusQuery)) as IncidentState;
      return SETTLED.includes(last.status) ? last : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last state: ${JSON.stringify(last?.timeline.slice(-6))}`);
  }
};

const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

describe('guardrails (time-skipping server)', () => {
  it('enforces the cooldown between actions on one target, and acts again once it has passed', async () => {
    const target = unique('cool');
    const guard = { ...testSettings().guard, cooldownMs: 5 * MINUTE, maxRestartsPerHour: 10 };
    await withTargets({ targets: [target], settings: { guard } }, async (ctx) => {
      expect((await ctx.run(alertFor(target, 'memory-leak'))).status).toBe('RESOLVED');

      const second = await ctx.open(alertFor(target, 'cpu-spike'));
      const waiting = await awaitStatus(second, 'AWAITING_APPROVAL');
      expect(waiting.approval?.reason).toMatch(/outside the limits: cooldown on .*cooldown is 5 min/);
      expect(waiting.guard).toMatchObject({ decision: 'denied' });
      expect(await ctx.restarts(target)).toBe(1);
      // The lease and the budget are asked at once: the unit the refused lease did not use went back.
      const budget = env.client.workflow.getHandle(budgetWorkflowId(ctx.taskQueue));
      expect(await budget.query(budgetStateQuery)).toMatchObject({ lastHour: 1 });
      await second.signal(rejectSignal, { by: 'test' });
      expect((await awaitSettled(second)).status).toBe('REJECTED');

      await env.sleep(5 * MINUTE + 1000);
      const third = await ctx.run(alertFor(target, 'hang'));
      expect(third.status).toBe('RESOLVED');
      expect(third.approval).toMatchObject({ required: false });
      expect(await ctx.restarts(target)).toBe(2);
    });
  });

  it('denies the fourth restart of a target within an hour, and acts when a person approves it', async () => {
    const target = unique('hourly');
    const guard = { ...testSettings().guard, cooldownMs: 0, maxRestartsPerHour: 3 };
    await withTargets({ targets: [target], settings: { guard } }, async (ctx) => {
      for (const type of ['memory-leak', 'cpu-spike', 'hang']) {
        expect((await ctx.run(alertFor(target, type))).status).toBe('RESOLVED');
      }
      expect(await ctx.restarts(target)).toBe(3);

      const fourth = await ctx.open(alertFor(target, 'crash'));
      const waiting = await awaitStatus(fourth, 'AWAITING_APPROVAL');
      expect(waiting.approval?.reason).toContain('3 restarts of');
      expect(waiting.approval?.reason).toContain('the limit is 3 per hour');
      expect(await ctx.restarts(target)).toBe(3);

      await fourth.signal(approveSignal, { by: 'alice' });
      const done = await awaitSettled(fourth);
      expect(done.status).toBe('RESOLVED');
      expect(done.approval).toMatchObject({ decision: 'approved', decidedBy: 'alice' });
      expect(await ctx.restarts(target)).toBe(4);
      const guardState = await ctx.guard(target);
      expect(guardState.restartsLastHour).toBe(4);
      expect(guardState.recentActions.at(-1)).toMatchObject({ approvedBy: 'alice', outcome: 'succeeded' });

      // An hour later the count has rolled over.
      await env.sleep(61 * MINUTE);
      expect((await ctx.run(alertFor(target, 'memory-leak'))).status).toBe('RESOLVED');
    });
  });

  it('opens the circuit breaker after consecutive failed remediations, and closes it by time or by a person', async () => {
    const target = unique('breaker');
    const settings: Partial<IncidentSettings> = {
      guard: { ...testSettings().guard, breakerThreshold: 2, breakerResetMs: 30 * MINUTE },
      healthRetry: { initialIntervalMs: 100, backoffCoefficient: 1.5, maximumAttempts: 2 },
    };
    // The app never finishes warming up, so every restart fails verification.
    await withTargets(
      { targets: [target], settings, demoEnv: { STARTUP_DELAY_MS: '3600000' } },
      async (ctx) => {
        expect((await ctx.run(alertFor(target, 'memory-leak'))).status).toBe('FAILED');
        expect((await ctx.guard(target)).breaker.open).toBe(false);
        expect((await ctx.run(alertFor(target, 'cpu-spike'))).status).toBe('FAILED');
        const opened = await ctx.guard(target);
        expect(opened.breaker).toMatchObject({ open: true, reason: '2 consecutive failed remediations' });

        const third = await ctx.open(alertFor(target, 'hang'));
        const waiting = await awaitStatus(third, 'AWAITING_APPROVAL');
        expect(waiting.approval?.reason).toContain('circuit breaker open on');
        await third.signal(rejectSignal, { by: 'test' });
        await awaitSettled(third);
        expect(await ctx.restarts(target)).toBe(2);

        // Closes by itself after its reset time.
        await env.sleep(30 * MINUTE + 1000);
        expect((await ctx.guard(target)).breaker.open).toBe(false);

        // Opens again, and a person closes it.
        expect((await ctx.run(alertFor(target, 'crash'))).status).toBe('FAILED');
        expect((await ctx.run(alertFor(target, 'error-storm'))).status).toBe('FAILED');
        expect((await ctx.guard(target)).breaker.open).toBe(true);
        await env.client.workflow
          .getHandle(guardWorkflowId(target))
          .signal(resetBreakerSignal, { by: 'alice' });
        const reset = await waitFor('the breaker to close', async () => {
          const snapshot = await ctx.guard(target);
          return snapshot.breaker.open ? undefined : snapshot;
        });
        expect(reset.consecutiveFailures).toBe(0);
      },
    );
  });

  it('enforces the global budget across targets', async () => {
    const targets = [unique('budget-a'), unique('budget-b'), unique('budget-c')];
    // The worker's settings apply to every incident: both limits are set from the start (the hourly one is
    // checked first, so the daily one shows only once the hour has passed).
    await withTargets({ targets, settings: { budget: { perHour: 2, perDay: 2 } } }, async (ctx) => {
      expect((await ctx.run(alertFor(targets[0]!, 'memory-leak'))).status).toBe('RESOLVED');
      expect((await ctx.run(alertFor(targets[1]!, 'memory-leak'))).status).toBe('RESOLVED');
      const third = await ctx.open(alertFor(targets[2]!, 'memory-leak'));
      const waiting = await awaitStatus(third, 'AWAITING_APPROVAL');
      expect(waiting.approval?.reason).toContain('global budget spent: 2 actions in the last hour');
      expect(await ctx.restarts(targets[2]!)).toBe(0);
      // The denied target's lease was given back: its guard holds nothing and counted nothing.
      expect(await ctx.guard(targets[2]!)).toMatchObject({ restartsLastHour: 0 });
      expect((await ctx.guard(targets[2]!)).holder).toBeUndefined();
      const budget = await env.client.workflow
        .getHandle(budgetWorkflowId(ctx.taskQueue))
        .query(budgetStateQuery);
      expect(budget).toMatchObject({ lastHour: 2, lastDay: 2 });
      await third.signal(rejectSignal, { by: 'test' });
      await awaitSettled(third);

      // The daily budget too, an hour later.
      await env.sleep(61 * MINUTE);
      const { workflowId } = await ctx.gateway.openOrJoin(alertFor(targets[2]!, 'cpu-spike'));
      const denied = await awaitStatus(env.client.workflow.getHandle(workflowId), 'AWAITING_APPROVAL');
      expect(denied.approval?.reason).toContain('2 actions in the last 24 h');
      await env.client.workflow.getHandle(workflowId).signal(rejectSignal, { by: 'test' });
      // Leave nothing pending: a workflow task without a worker would stop the server skipping time.
      await awaitSettled(env.client.workflow.getHandle(workflowId));
    });
  });

  it('lets only one incident act on a target at a time', async () => {
    const target = unique('one-at-a-time');
    // Restarts wait at this gate, so the test sees the lease held while the other incident queues.
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const gated = (supervisor: ProcessSupervisor): ContainerRuntime => ({
      kind: supervisor.kind,
      inspect: (name) => supervisor.inspect(name),
      logs: (name, tail) => supervisor.logs(name, tail),
      restart: async (name, opts) => {
        await gate;
        await supervisor.restart(name, opts);
      },
    });
    await withTargets({ targets: [target], runtime: gated }, async (ctx) => {
      const [a, b] = await Promise.all([
        ctx.open(alertFor(target, 'memory-leak')),
        ctx.open(alertFor(target, 'cpu-spike')),
      ]);
      // Both diagnosed the same process and asked for the lease: one holds it, the other waits.
      const held = await waitFor('one incident holding the lease and the other queued', async () => {
        const guard = await ctx.guard(target);
        return guard.holder && guard.queued.length === 1 ? guard : undefined;
      });
      const firstId = held.holder!.incidentWorkflowId;
      const secondId = held.queued[0]!;
      expect([firstId, secondId].sort()).toEqual([a.workflowId, b.workflowId].sort());
      expect(await ctx.restarts(target)).toBe(0);
      // The lease and the budget are asked at once; the queued incident's unit goes back while it waits in
      // line, so that it cannot refuse other targets' incidents: only the holder's unit counts.
      const queuedHandle = secondId === a.workflowId ? a : b;
      await waitFor('the queued incident to hear from the guard and the budget', async () => {
        const events = ((await queuedHandle.query(statusQuery)) as IncidentState).timeline.map(
          (t) => t.event,
        );
        return events.includes('lease-queued') && events.includes('budget-granted') ? true : undefined;
      });
      const budget = env.client.workflow.getHandle(budgetWorkflowId(ctx.taskQueue));
      await waitFor(
        "the queued incident's unit given back",
        async () => ((await budget.query(budgetStateQuery)).lastHour === 1 ? true : undefined),
        { timeoutMs: 20_000 },
      );
      openGate();

      const [first, second] = await Promise.all(
        [firstId, secondId].map((id) => awaitSettled(id === a.workflowId ? a : b)),
      );
      expect(first!.status).toBe('RESOLVED');
      expect(second!.status).toBe('RESOLVED');
      // Leases never overlap: the second was granted only once the first was released.
      const actions = (await ctx.guard(target)).recentActions;
      expect(actions.map((x) => x.incidentWorkflowId)).toEqual([firstId, secondId]);
      const [firstLease, secondLease] = actions as [
        GuardSnapshot['recentActions'][0],
        GuardSnapshot['recentActions'][0],
      ];
      expect(firstLease.releasedAt).toBeDefined();
      expect(Date.parse(secondLease.grantedAt)).toBeGreaterThanOrEqual(Date.parse(firstLease.releasedAt!));
      // Compare-and-act: the second saw, under its lease, that the process it diagnosed was gone.
      expect(await ctx.restarts(target)).toBe(1);
      expect(first!.actions.map((x) => x.outcome)).toEqual(['restarted']);
      // The restart it found was the other incident's, not its own: not counted, its unit given back.
      expect(second!.actions.map((x) => x.outcome)).toEqual(['healed-by-other']);
      expect(secondLease.outcome).toBe('not-acted');
      expect(await budget.query(budgetStateQuery)).toMatchObject({ lastHour: 1 });
    });
  });

  it('climbs the escalation ladder while nobody answers, and ends ESCALATED after the maximum wait', async () => {
    const target = unique('ladder');
    const settings: Partial<IncidentSettings> = {
      approvalTimeoutMs: 15 * MINUTE,
      escalation: { levels: ['on-call', 'team-lead', 'manager'], maxWaitMs: 60 * MINUTE },
    };
    await withTargets({ targets: [target], settings }, async (ctx) => {
      const before = await ctx.supervisor.inspect(target);
      // env.sleep moves the clock by exactly this much. (result() would let the server skip on, past
      // the end of the incident, to the next timer anywhere, such as a guard's run timeout years ahead.)
      const handle = await ctx.open(alertFor(target, 'hang', { severity: 'critical' }));
      await awaitStatus(handle, 'AWAITING_APPROVAL');
      await env.sleep(60 * MINUTE + 1000);
      const result = await awaitSettled(handle);
      expect(result.status).toBe('ESCALATED');
      expect(result.escalatedTo).toEqual(['on-call', 'team-lead', 'manager']);
      expect(result.timeline.at(-1)?.detail).toContain('no approval decision within 3600 s');
      expect(Date.parse(result.closedAt!) - Date.parse(result.openedAt)).toBeGreaterThanOrEqual(60 * MINUTE);
      expect(result.actions).toEqual([]);
      expect((await ctx.supervisor.inspect(target))?.startedAt).toBe(before?.startedAt);
      const told = ctx.notifications().map((n) => `${n.level}:${n.recipient}`);
      // Each level is told once; the last is told again when the incident gives up.
      expect(told).toEqual(['warning:on-call', 'critical:team-lead', 'critical:manager', 'critical:manager']);
    });
  });

  it('reopens an incident whose alert comes back after the fix, records that the fix did not stick, and asks', async () => {
    const target = unique('recur');
    await withTargets({ targets: [target], settings: { recurrenceWindowMs: 10 * MINUTE } }, async (ctx) => {
      const opened = await ctx.gateway.openOrJoin(alertFor(target, 'memory-leak'));
      const handle = env.client.workflow.getHandle(opened.workflowId, opened.runId);
      await awaitStatus(handle, 'RESOLVED');
      expect(await ctx.restarts(target)).toBe(1);

      expect((await ctx.gateway.openOrJoin(alertFor(target, 'memory-leak'))).runId).toBe(opened.runId);
      const reopened = await awaitStatus(handle, 'AWAITING_APPROVAL');
      expect(reopened.recurrences).toBe(1);
      expect(reopened.approval?.reason).toContain('did not stick');
      expect(reopened.closedAt).toBeUndefined();
      const { fixes } = await ctx.runbook.read();
      expect(fixes[0]?.stats).toMatchObject({ resolved: 1, didNotStick: 1 });

      await handle.signal(approveSignal, { by: 'alice' });
      await awaitStatus(handle, 'RESOLVED');
      expect(await ctx.restarts(target)).toBe(2);
      // Nothing comes back within the window: the incident ends, and a later alert is a new incident.
      await env.sleep(10 * MINUTE + 1000);
      const done = await waitFor('the watch to end', async () => {
        const d = await handle.describe();
        return d.status.name === 'COMPLETED'
          ? ((await handle.query(statusQuery)) as IncidentState)
          : undefined;
      });
      expect(done.timeline.at(-1)?.event).toBe('watch-ended');
      const later = await ctx.gateway.openOrJoin(alertFor(target, 'memory-leak'));
      expect(later.runId).not.toBe(opened.runId);
      // The fix worked the second time: the policy no longer holds it back, and the next incident acts alone
      // (diagnosed by the rules: 2 of 3 uses resolved is below the rate the runbook needs to answer alone).
      const fresh = await awaitStatus(
        env.client.workflow.getHandle(later.workflowId, later.runId),
        'RESOLVED',
      );
      expect(fresh.approval).toMatchObject({ required: false });
      expect(fresh.diagnosis?.source).toBe('rules');
    });
  });

  it('in dry-run, runs everything and touches nothing: the action is recorded as "would restart"', async () => {
    const target = unique('dry');
    await withTargets({ targets: [target], settings: { dryRun: true } }, async (ctx) => {
      const before = await ctx.supervisor.inspect(target);
      const result = await ctx.run(alertFor(target, 'memory-leak'));
      expect(result.dryRun).toBe(true);
      expect(result.status).toBe('ESCALATED');
      expect(result.actions).toEqual([expect.objectContaining({ outcome: 'would-restart' })]);
      expect(result.diagnosis?.action).toBe('RESTART');
      const after = await ctx.supervisor.inspect(target);
      expect(after?.startedAt).toBe(before?.startedAt);
      expect(after?.restartCount).toBe(0);
      const guardState = await ctx.guard(target);
      expect(guardState.recentActions).toEqual([
        expect.objectContaining({ dryRun: true, outcome: 'not-acted' }),
      ]);
      expect(guardState.restartsLastHour).toBe(0);
    });
  });

  it('runs one incident dry when its alert asks for it, while others act', async () => {
    const target = unique('dry-one');
    await withTargets({ targets: [target] }, async (ctx) => {
      const dry = await ctx.run(alertFor(target, 'memory-leak', { dryRun: true }));
      expect(dry.actions.map((a) => a.outcome)).toEqual(['would-restart']);
      expect(await ctx.restarts(target)).toBe(0);
      const real = await ctx.run(alertFor(target, 'cpu-spike'));
      expect(real.actions.map((a) => a.outcome)).toEqual(['restarted']);
      expect(await ctx.restarts(target)).toBe(1);
    });
  });
});
