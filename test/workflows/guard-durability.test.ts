// Guard state lives in Temporal, not in a worker: a new worker carries on with the same limits.
import { describe, expect, it } from 'vitest';
import { guardWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { guardStateQuery, rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const temporal = devServerForFile();

const awaitStatus = (workflowId: string, status: IncidentState['status']) =>
  waitFor(`${workflowId} to be ${status}`, async () => {
    const state = await temporal.client.workflow.getHandle(workflowId).query(statusQuery);
    return state.status === status ? state : undefined;
  });

describe('guard durability', () => {
  it('keeps the cooldown across a worker restart', async () => {
    const target = `wf-durable-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const taskQueue = uniqueTaskQueue('durable');
    const settings = testSettings({ guard: { ...testSettings().guard, cooldownMs: 5 * 60_000 } });
    const gateway = new IncidentGateway(temporal.client, taskQueue, settings);
    const guard = () => temporal.client.workflow.getHandle(guardWorkflowId(target)).query(guardStateQuery);
    try {
      const first = await startWorker({
        connection: temporal.nativeConnection,
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, settings).activities,
      });
      const { workflowId } = await gateway.openOrJoin(alertFor(target));
      await awaitStatus(workflowId, 'RESOLVED');
      const before = await guard();
      expect(before.restartsLastHour).toBe(1);
      await first.stop();

      // A new worker, with nothing in memory.
      const second = await startWorker({
        connection: temporal.nativeConnection,
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, settings).activities,
      });
      try {
        const after = await guard();
        expect(after.restartsLastHour).toBe(1);
        expect(after.lastActionAt).toBe(before.lastActionAt);
        expect(after.cooldownRemainingMs).toBeGreaterThan(0);

        const next = await gateway.openOrJoin(alertFor(target, { alertType: 'cpu-spike' }));
        const waiting = await awaitStatus(next.workflowId, 'AWAITING_APPROVAL');
        expect(waiting.approval?.reason).toContain('cooldown on');
        expect((await supervisor.inspect(target))?.restartCount).toBe(1);
        await temporal.client.workflow.getHandle(next.workflowId).signal(rejectSignal, { by: 'test' });
        await awaitStatus(next.workflowId, 'REJECTED');
      } finally {
        await second.stop();
      }
    } finally {
      await supervisor.stopAll();
    }
  });
});
