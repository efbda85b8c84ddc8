// On the real dev server: every signal is checked inside the workflow that
// receives it, because anyone who can reach Temporal can send one. Unknown input never fails open.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { guardWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState, Severity } from '../../src/domain/types.js';
import { TemporalUnavailableError } from '../../src/temporal/errors.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { alertSignal, approveSignal, leaseRequestSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { refusingPort, waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();

async function withTarget(
  prefix: string,
  body: (ctx: {
    target: string;
    gateway: IncidentGateway;
    handle: (id: string) => WorkflowHandle<typeof incidentWorkflow>;
  }) => Promise<void>,
) {
  const target = `${prefix}-${Date.now()}`;
  const { supervisor } = await superviseDemoApp({ name: target });
  await withIncidentWorker(
    temporal,
    {
      taskQueue: uniqueTaskQueue(prefix),
      activities: buildActivities(supervisor).activities,
      settings: testSettings(),
      supervisor,
    },
    (gateway) =>
      body({
        target,
        gateway,
        handle: (id) => temporal.client.workflow.getHandle<typeof incidentWorkflow>(id),
      }),
  );
}

const awaitStatus = (handle: WorkflowHandle, status: IncidentState['status']) =>
  waitFor(`incident to reach ${status}`, async () => {
    const state = await handle.query(statusQuery);
    return state.status === status ? state : undefined;
  });

describe('unknown input never fails open', () => {
  it('a malformed lease request is refused by the guard, which goes on granting leases', async () => {
    await withTarget('msg-guard', async ({ target, gateway, handle }) => {
      // The first incident starts the guard; then someone signals it garbage, then a second incident asks.
      const first = await gateway.openOrJoin(alertFor(target));
      expect((await handle(first.workflowId).result()).status).toBe('RESOLVED');
      await temporal.client.workflow
        .getHandle(guardWorkflowId(target))
        .signal(leaseRequestSignal, { requestId: 'x' } as never);
      const second = await gateway.openOrJoin(alertFor(target, { alertType: 'cpu-spike' }));
      const result = await handle(second.workflowId).result();
      expect(result.status).toBe('RESOLVED');
      expect(result.actions.map((a) => a.outcome)).toEqual(['restarted']);
    });
  });

  it('a malformed approve signal is refused and recorded; a well-formed one still decides', async () => {
    await withTarget('msg-decide', async ({ target, gateway, handle }) => {
      const { workflowId } = await gateway.openOrJoin(
        alertFor(target, { alertType: 'hang', severity: 'critical' }),
      );
      const incident = handle(workflowId);
      await awaitStatus(incident, 'AWAITING_APPROVAL');
      await incident.signal(approveSignal, { by: 5 } as never);
      await incident.signal(approveSignal, {} as never);
      const waiting = await waitFor('both refusals recorded', async () => {
        const state = await incident.query(statusQuery);
        return state.timeline.filter((t) => t.event === 'decision-refused').length === 2 ? state : undefined;
      });
      expect(waiting.status).toBe('AWAITING_APPROVAL');
      expect(waiting.timeline.find((t) => t.event === 'decision-refused')?.detail).toContain(
        'by must be a non-empty string',
      );
      await incident.signal(approveSignal, { by: 'alice' });
      const result = await incident.result();
      expect(result.status).toBe('RESOLVED');
      expect(result.approval).toMatchObject({ decision: 'approved', decidedBy: 'alice' });
    });
  });

  it('an alert whose severity Medic does not know waits for a person instead of acting', async () => {
    await withTarget('msg-severity', async ({ target, gateway, handle }) => {
      const alert = alertFor(target, { severity: '__proto__' as Severity });
      const { workflowId } = await gateway.openOrJoin(alert);
      const state = await awaitStatus(handle(workflowId), 'AWAITING_APPROVAL');
      expect(state.unrecognisedSeverity).toBe('__proto__');
      expect(state.severity).toBe('critical');
      expect(state.approval?.reason).toContain('"__proto__" is not one Medic knows');
      expect(state.actions).toEqual([]);
      await handle(workflowId).terminate('test done');
    });
  });
});

describe('503 only when Temporal is unavailable, never for a bug', () => {
  it('passes a request Temporal refuses (or Medic cannot encode) on as an error, not as an outage', async () => {
    const gateway = new IncidentGateway(temporal.client, uniqueTaskQueue('msg-bug'), testSettings());
    // A value no payload converter can encode: a bug in Medic, which a retry would only repeat.
    const broken = { ...alertFor(`msg-bug-${Date.now()}`), count: 10n as unknown as number };
    const err = await gateway.openOrJoin(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TemporalUnavailableError);
  });

  it('calls an unreachable Temporal unavailable, so the sender retries', async () => {
    const nowhere = await refusingPort();
    try {
      const connection = await Connection.lazy({
        address: `127.0.0.1:${nowhere.port}`,
        connectTimeout: 1000,
      });
      const client = new Client({ connection });
      const gateway = new IncidentGateway(client, uniqueTaskQueue('msg-down'), testSettings());
      await expect(gateway.openOrJoin(alertFor('msg-down'))).rejects.toBeInstanceOf(TemporalUnavailableError);
      await connection.close();
    } finally {
      await nowhere.release();
    }
  });
});

describe('one container’s alert never joins another’s incident', () => {
  it('refuses an alert signal about another target, and counts only its own', async () => {
    await withTarget('msg-target', async ({ target, gateway, handle }) => {
      const { workflowId } = await gateway.openOrJoin(
        alertFor(target, { alertType: 'hang', severity: 'critical' }),
      );
      const incident = handle(workflowId);
      await awaitStatus(incident, 'AWAITING_APPROVAL');
      await incident.signal(alertSignal, alertFor('some-other-container', { alertType: 'hang' }));
      await incident.signal(alertSignal, alertFor(target, { alertType: 'hang' }));
      const state = await waitFor('the own alert counted', async () => {
        const s = await incident.query(statusQuery);
        return s.alertCount === 2 ? s : undefined;
      });
      const refused = state.timeline.find((t) => t.event === 'alert-refused');
      expect(refused?.detail).toContain('the alert is about some-other-container, not');
      await incident.terminate('test done');
    });
  });
});
