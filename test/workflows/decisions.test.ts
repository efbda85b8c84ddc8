// Decisions as Workflow Updates, on the real dev server: the validator refuses with nothing written to
// history, the answer comes once the decision is taken, every decision records its channel, and a
// decision nobody takes (no worker) times out without deciding anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import {
  DecisionTimeoutError,
  InvalidDecisionError,
  NotAwaitingApprovalError,
} from '../../src/temporal/errors.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { approveUpdate, rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const temporal = devServerForFile();
const settings = testSettings();
let supervisor: ProcessSupervisor;
let target: string;
let taskQueue: string;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let gateway: IncidentGateway;

const startOwnWorker = async () => {
  worker = await startWorker({
    connection: temporal.nativeConnection,
    taskQueue,
    activities: buildActivities(supervisor, undefined, undefined, settings).activities,
  });
};

beforeAll(async () => {
  target = `decisions-${Date.now()}`;
  ({ supervisor } = await superviseDemoApp({ name: target }));
  taskQueue = uniqueTaskQueue('decisions');
  gateway = new IncidentGateway(temporal.client, taskQueue, settings);
  await startOwnWorker();
});
afterAll(async () => {
  await worker?.stop();
  await supervisor?.stopAll();
});

/** A critical alert of its own type, waiting for a person. */
async function waitingIncident(alertType: string) {
  const { workflowId } = await gateway.openOrJoin(alertFor(target, { alertType, severity: 'critical' }));
  const handle = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
  await waitFor(
    'awaiting approval',
    async () => (await handle.query(statusQuery)).status === 'AWAITING_APPROVAL',
  );
  return { workflowId, handle };
}

const eventCount = async (workflowId: string) =>
  (await temporal.client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;

describe('decisions as Updates', () => {
  it('answers a Temporal Update once the decision is taken, and records the channel temporal-update', async () => {
    const { workflowId, handle } = await waitingIncident('hang');
    const answer = await handle.executeUpdate(approveUpdate, { args: [{ by: 'carol', comment: 'go' }] });
    expect(answer).toEqual({ workflowId, decision: 'approve', by: 'carol', status: 'REMEDIATING' });
    const result = await handle.result();
    expect(result.status).toBe('RESOLVED');
    expect(result.approval).toMatchObject({ decidedBy: 'carol', comment: 'go', channel: 'temporal-update' });
  });

  it('refuses a second decision and a malformed one with nothing written to history', async () => {
    const { workflowId, handle } = await waitingIncident('deadlock');
    await expect(
      gateway.decide(workflowId, 'approve', { by: '' }, { idempotencyKey: 'malformed', timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    const rejected = await gateway.decide(workflowId, 'reject', { by: 'dave' }, { timeoutMs: 10_000 });
    expect(rejected).toEqual({ workflowId, decision: 'reject', by: 'dave', status: 'REJECTED' });
    await handle.result();
    const before = await eventCount(workflowId);
    await expect(
      gateway.decide(workflowId, 'approve', { by: 'erin' }, { idempotencyKey: 'late', timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(NotAwaitingApprovalError);
    expect(await eventCount(workflowId)).toBe(before);
    const state = await handle.query(statusQuery);
    expect(state.approval).toMatchObject({ decision: 'rejected', decidedBy: 'dave', channel: 'api' });
  });

  it('keeps the signals for the Web UI and CLI, recorded as temporal-signal', async () => {
    const { handle } = await waitingIncident('crash');
    await handle.signal(rejectSignal, { by: 'frank' });
    const result = await handle.result();
    expect(result.status).toBe('REJECTED');
    expect(result.approval).toMatchObject({ decidedBy: 'frank', channel: 'temporal-signal' });
  });

  it('times out without deciding anything when no worker takes the decision', async () => {
    const { workflowId, handle } = await waitingIncident('cpu-spike');
    await worker?.stop();
    worker = undefined;
    try {
      const started = Date.now();
      const decided = gateway.decide(
        workflowId,
        'approve',
        { by: 'gina' },
        { idempotencyKey: 'k', timeoutMs: 1500 },
      );
      await expect(decided).rejects.toBeInstanceOf(DecisionTimeoutError);
      console.log(`[decisions] no worker: refused after ${Date.now() - started} ms (timeout 1500 ms)`);
    } finally {
      await startOwnWorker();
    }
    // The undelivered decision reaches the workflow once a worker is back, and is refused as expired:
    // a probe decision sent after it is answered only once the worker has handled everything before it.
    await expect(
      gateway.decide(workflowId, 'approve', { by: '' }, { idempotencyKey: 'probe', timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    const state = await handle.query(statusQuery);
    expect(state.status).toBe('AWAITING_APPROVAL');
    expect(state.approval?.decidedBy).toBeUndefined();
    await handle.terminate('test done');
  });
});
