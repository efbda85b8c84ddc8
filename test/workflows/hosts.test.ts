// Many hosts on the real dev server: one central worker and a worker per host, each host's demo app run as a
// real process by its own supervisor, under the same name on both. An incident acts on its own host only;
// an alert naming a host no worker serves escalates after the bounded wait, saying why.
import { describe, expect, inject, it } from 'vitest';
import { ProcessSupervisor } from '../../src/activities/containers.js';
import { createCentralActivities, createHostActivities } from '../../src/activities/index.js';
import { LogNotifier } from '../../src/activities/notify.js';
import { hostTaskQueue, incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { createMedicWorker, type MedicWorker } from '../../src/worker.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import {
  alertFor,
  buildActivities,
  captureLogger,
  MANAGED,
  superviseDemoApp,
  tempRunbook,
  testSettings,
} from '../support/medic.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();

function run(worker: MedicWorker) {
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}

describe('one Medic for many hosts', () => {
  it('heals the container on the alert’s host and leaves the same name on the other host alone', async () => {
    const target = `wf-hosts-${Date.now()}`;
    const a = await superviseDemoApp({ name: target });
    const b = await superviseDemoApp({ name: target });
    const settings = testSettings();
    const taskQueue = uniqueTaskQueue('hosts');
    const { logger } = captureLogger();
    const runbook = tempRunbook();
    const common = { connection: temporal.nativeConnection, namespace: 'default', taskQueue };
    const central = await createMedicWorker({
      ...common,
      role: 'central',
      activities: createCentralActivities({
        incidentSettings: settings,
        runbook,
        notifier: new LogNotifier(logger),
        logger,
      }),
      workflowBundlePath: inject('workflowBundlePath'),
    });
    const hostWorker = (name: string, supervisor: typeof a.supervisor) =>
      createMedicWorker({
        ...common,
        role: 'host',
        hostName: name,
        activities: createHostActivities({ runtime: supervisor, logger }),
      });
    const stops = [
      run(central),
      run(await hostWorker('alpha', a.supervisor)),
      run(await hostWorker('beta', b.supervisor)),
    ];
    try {
      const gateway = new IncidentGateway(temporal.client, taskQueue, settings);
      const bBefore = await b.supervisor.inspect(target);
      const { workflowId } = await gateway.openOrJoin(alertFor(target, { host: 'alpha' }));
      expect(workflowId).toBe(incidentWorkflowId(target, 'memory-leak', 'alpha'));
      const result = await temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId).result();
      expect(result).toMatchObject({ status: 'RESOLVED', host: 'alpha' });
      expect((await a.supervisor.inspect(target))?.restartCount).toBe(1);
      expect((await b.supervisor.inspect(target))?.startedAt).toBe(bBefore?.startedAt);
      // The guard is the host's, and the work went to the host's queue.
      const { guard } = await gateway.guard(target, 'alpha');
      expect(guard.target).toBe(target);
      await expect(gateway.guard(target, 'beta')).rejects.toThrow(/not acted/);
      const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const queues = new Map(
        history.events
          ?.map((e) => e.activityTaskScheduledEventAttributes)
          .filter((s) => s?.activityType?.name)
          .map((s) => [s?.activityType?.name, s?.taskQueue?.name]),
      );
      expect(queues.get('restartContainer')).toBe(hostTaskQueue(taskQueue, 'alpha'));
      expect(queues.get('checkTarget')).toBe(hostTaskQueue(taskQueue, 'alpha'));
      expect(queues.get('gatherEvidence')).toBe(hostTaskQueue(taskQueue, 'alpha'));
      expect(queues.get('diagnoseEvidence')).toBe(taskQueue);
      expect(queues.get('recordRunbookOutcome')).toBe(`${taskQueue}-runbook`);
      expect((await runbook.read()).fixes[0]?.history).toEqual([
        expect.objectContaining({ workflowId, outcome: 'resolved' }),
      ]);
    } finally {
      for (const stop of stops) await stop();
      await a.supervisor.stopAll();
      await b.supervisor.stopAll();
    }
  });

  it('escalates an alert for a host no worker serves once the bounded wait is over, and says why', async () => {
    const target = `wf-nohost-${Date.now()}`;
    const settings = testSettings({ hostWaitMs: 1500 });
    const taskQueue = uniqueTaskQueue('nohost');
    const built = buildActivities(new ProcessSupervisor(MANAGED), undefined, undefined, settings);
    await withIncidentWorker(
      temporal,
      { taskQueue, activities: built.activities, settings },
      async (gateway) => {
        const { workflowId } = await gateway.openOrJoin(alertFor(target, { host: 'nowhere' }));
        const result: IncidentState = await temporal.client.workflow.getHandle(workflowId).result();
        expect(result.status).toBe('ESCALATED');
        const why = result.timeline.find((t) => t.event === 'ESCALATED')?.detail ?? '';
        expect(why).toContain('no Medic worker serves host nowhere');
        expect(why).toContain(hostTaskQueue(taskQueue, 'nowhere'));
        expect(why).toContain('MEDIC_HOST_NAME=nowhere');
      },
    );
  });
});
