// The incident workflow on the real dev server, with Medic's real activities acting on the demo app
// run as a real process by Medic's process supervisor.
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ContainerRuntime, ProcessSupervisor } from '../../src/activities/containers.js';
import { DEFAULT_APPROVAL_POLICY, parseSeverityPolicy } from '../../src/domain/policy.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import type { IncidentState } from '../../src/domain/types.js';
import type { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { approveSignal, rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();

/** Runs one incident against its own demo process and task queue. */
async function withIncident(
  options: {
    target: string;
    demoEnv?: Record<string, string>;
    settings?: Partial<IncidentSettings>;
    wrapRuntime?: (runtime: ProcessSupervisor) => ContainerRuntime;
  },
  body: (ctx: {
    gateway: IncidentGateway;
    supervisor: ProcessSupervisor;
    handleFor: (workflowId: string) => WorkflowHandle<typeof incidentWorkflow>;
    activities: ReturnType<typeof buildActivities>;
  }) => Promise<void>,
) {
  const { supervisor } = await superviseDemoApp({ name: options.target, env: options.demoEnv });
  const runtime = options.wrapRuntime ? options.wrapRuntime(supervisor) : supervisor;
  const settings = testSettings(options.settings);
  const built = buildActivities(runtime, undefined, undefined, settings);
  const taskQueue = uniqueTaskQueue(options.target);
  await withIncidentWorker(
    temporal,
    { taskQueue, activities: built.activities, settings, supervisor },
    (gateway) =>
      body({
        gateway,
        supervisor,
        handleFor: (id) => temporal.client.workflow.getHandle<typeof incidentWorkflow>(id),
        activities: built,
      }),
  );
}

const awaitStatus = (handle: WorkflowHandle, status: IncidentState['status']) =>
  waitFor(`incident to reach ${status}`, async () => {
    const state = await handle.query(statusQuery);
    return state.status === status ? state : undefined;
  });

describe('incident workflow', () => {
  it('restarts a medium-severity fault automatically, verifies health with backoff, and learns the fix', async () => {
    const target = `wf-auto-${Date.now()}`;
    // After the restart the app warms up for 1.5 s: the first health checks fail and are retried.
    await withIncident({ target, demoEnv: { STARTUP_DELAY_MS: '1500' } }, async (ctx) => {
      const before = await ctx.supervisor.inspect(target);
      const { workflowId } = await ctx.gateway.openOrJoin(alertFor(target));
      const result = await ctx.handleFor(workflowId).result();

      expect(result.status).toBe('RESOLVED');
      expect(result.approval).toMatchObject({ required: false });
      expect(result.diagnosis).toMatchObject({ source: 'rules', action: 'RESTART' });
      expect(result.actions).toHaveLength(1);
      expect(result.actions[0]).toMatchObject({ outcome: 'restarted', previousStartedAt: before?.startedAt });
      expect(result.verification?.healthy).toBe(true);
      expect(result.verification?.attempts).toBeGreaterThan(1);
      expect(result.timeline.map((t) => t.event)).toEqual(
        expect.arrayContaining(['OPEN', 'DIAGNOSING', 'REMEDIATING', 'VERIFYING', 'RESOLVED']),
      );
      const after = await ctx.supervisor.inspect(target);
      expect(after?.restartCount).toBe(1);

      // The verification's cadence (patch verify-cadence): the first attempt probes fast for the configured
      // initial interval (200 ms), then Temporal's retry policy continues the configured exponential backoff
      // from its second wait (200 ms x 2), for the remaining 7 of the 8 checks.
      const history = await ctx.handleFor(workflowId).fetchHistory();
      const scheduled = history.events
        ?.map((e) => e.activityTaskScheduledEventAttributes)
        .find((a) => a?.activityType?.name === 'verifyHealth');
      expect(scheduled?.retryPolicy?.backoffCoefficient).toBe(2);
      expect(Number(scheduled?.retryPolicy?.initialInterval?.nanos ?? 0)).toBe(400_000_000);
      expect(scheduled?.retryPolicy?.maximumAttempts).toBe(7);
      const [verifyInput] = scheduled?.input?.payloads ?? [];
      expect(verifyInput && defaultPayloadConverter.fromPayload(verifyInput)).toMatchObject({
        firstWindowMs: 200,
      });

      // Learned: exactly one fix, naming this incident.
      const { fixes } = await ctx.activities.runbook.read();
      expect(fixes).toHaveLength(1);
      expect(fixes[0]?.history).toEqual([
        expect.objectContaining({ incidentId: result.id, outcome: 'resolved' }),
      ]);
      expect(result.runbookEntryId).toBe(fixes[0]?.id);
    });
  });

  it('does not restart twice when the restart activity is retried after it acted', async () => {
    const target = `wf-retry-${Date.now()}`;
    let realRestarts = 0;
    const failAfterFirstRestart = (supervisor: ProcessSupervisor): ContainerRuntime => ({
      kind: supervisor.kind,
      inspect: (name) => supervisor.inspect(name),
      logs: (name, tail) => supervisor.logs(name, tail),
      stopRequestedSince: (id, sinceMs, waitMs) => supervisor.stopRequestedSince(id, sinceMs, waitMs),
      // The worker "dies" right after the restart took effect, before reporting success.
      restart: async (name, opts) => {
        await supervisor.restart(name, opts);
        realRestarts += 1;
        if (realRestarts === 1) throw new Error('worker lost before reporting the restart');
      },
    });
    await withIncident({ target, wrapRuntime: failAfterFirstRestart }, async (ctx) => {
      const { workflowId } = await ctx.gateway.openOrJoin(alertFor(target));
      const result = await ctx.handleFor(workflowId).result();

      expect(result.status).toBe('RESOLVED');
      expect(realRestarts).toBe(1);
      expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(1);
      expect(result.actions).toHaveLength(1);
      expect(result.actions[0]?.outcome).toBe('already-restarted');
      const history = await ctx.handleFor(workflowId).fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      expect(attempts).toContain(2); // the retry happened, and did not restart again
    });
  });

  it('waits for approval at critical severity, then heals when approved', async () => {
    const target = `wf-approve-${Date.now()}`;
    await withIncident({ target }, async (ctx) => {
      const { workflowId } = await ctx.gateway.openOrJoin(
        alertFor(target, { alertType: 'db-latency', severity: 'critical' }),
      );
      const handle = ctx.handleFor(workflowId);
      const waiting = await awaitStatus(handle, 'AWAITING_APPROVAL');
      expect(waiting.approval).toMatchObject({ required: true, reason: expect.stringContaining('critical') });
      expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(0);

      await handle.signal(approveSignal, { by: 'alice', comment: 'go' });
      const result = await handle.result();
      expect(result.status).toBe('RESOLVED');
      expect(result.approval).toMatchObject({ decision: 'approved', decidedBy: 'alice', comment: 'go' });
      expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(1);
    });
  });

  it('ends REJECTED without touching the container when rejected', async () => {
    const target = `wf-reject-${Date.now()}`;
    await withIncident({ target }, async (ctx) => {
      const before = await ctx.supervisor.inspect(target);
      const { workflowId } = await ctx.gateway.openOrJoin(
        alertFor(target, { alertType: 'hang', severity: 'critical' }),
      );
      const handle = ctx.handleFor(workflowId);
      await awaitStatus(handle, 'AWAITING_APPROVAL');
      await handle.signal(rejectSignal, { by: 'bob' });
      const result = await handle.result();
      expect(result.status).toBe('REJECTED');
      expect(result.approval).toMatchObject({ decision: 'rejected', decidedBy: 'bob' });
      expect(result.actions).toEqual([]);
      const after = await ctx.supervisor.inspect(target);
      expect(after?.startedAt).toBe(before?.startedAt);
      expect(after?.restartCount).toBe(0);
      const { fixes } = await ctx.activities.runbook.read();
      expect(fixes[0]?.stats).toMatchObject({ rejected: 1, resolved: 0 });
    });
  });

  it('joins duplicate alerts to the open incident and counts them', async () => {
    const target = `wf-dup-${Date.now()}`;
    const policy = { ...DEFAULT_APPROVAL_POLICY, severity: parseSeverityPolicy('high=approval') };
    await withIncident({ target, settings: { policy } }, async (ctx) => {
      const first = await ctx.gateway.openOrJoin(
        alertFor(target, { alertType: 'error-storm', severity: 'high' }),
      );
      const handle = ctx.handleFor(first.workflowId);
      await awaitStatus(handle, 'AWAITING_APPROVAL');
      const second = await ctx.gateway.openOrJoin(
        alertFor(target, { alertType: 'error-storm', severity: 'critical' }),
      );
      expect(second.workflowId).toBe(first.workflowId);
      expect(second.runId).toBe(first.runId);
      const state = await waitFor('the second alert', async () => {
        const s = await handle.query(statusQuery);
        return s.alertCount === 2 ? s : undefined;
      });
      expect(state.severity).toBe('critical');
      await handle.signal(rejectSignal, { by: 'test' });
      await handle.result();
    });
  });

  it('fails and escalates when the target stays unhealthy after the restart', async () => {
    const target = `wf-fail-${Date.now()}`;
    // The app never finishes warming up within the verification budget.
    await withIncident(
      {
        target,
        demoEnv: { STARTUP_DELAY_MS: '600000' },
        settings: { healthRetry: { initialIntervalMs: 100, backoffCoefficient: 1.5, maximumAttempts: 3 } },
      },
      async (ctx) => {
        const { workflowId } = await ctx.gateway.openOrJoin(alertFor(target));
        const result = await ctx.handleFor(workflowId).result();
        expect(result.status).toBe('FAILED');
        expect(result.verification).toMatchObject({ healthy: false, attempts: 3 });
        expect(result.verification?.detail).toContain('503');
        expect(ctx.activities.notifications().some((n) => n.level === 'critical')).toBe(true);
        const { fixes } = await ctx.activities.runbook.read();
        expect(fixes[0]?.stats).toMatchObject({ failed: 1, resolved: 0 });
      },
    );
  });
});
