// On the real dev server: an incident that waits long (for a person, or for a
// recurrence) under a storm of repeated alerts continues as new, carrying its state, instead of growing
// its history towards Temporal's limits; and a batch of coalesced copies carries only a few log lines.
import { describe, expect, it } from 'vitest';
import { AlertCoalescer, REPEAT_LOG_LINES } from '../../src/api/coalescer.js';
import type { Alert, IncidentState } from '../../src/domain/types.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { alertSignal, approveSignal, statusQuery } from '../../src/workflows/messages.js';
import {
  alertFor,
  buildActivities,
  captureLogger,
  superviseDemoApp,
  testSettings,
} from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();

const HISTORY_LIMIT = 60;

async function historyLength(workflowId: string, runId: string): Promise<number> {
  const history = await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events?.length ?? 0;
}

describe('long waits continue as new', () => {
  it('an incident awaiting approval under an alert storm continues as new with its state, and still heals', async () => {
    const target = `long-wait-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const taskQueue = uniqueTaskQueue('long-wait');
    const settings = testSettings({ historyEventsLimit: HISTORY_LIMIT });
    await withIncidentWorker(
      temporal,
      {
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, settings).activities,
        settings,
        supervisor,
      },
      async (gateway) => {
        const { workflowId, runId: firstRunId } = await gateway.openOrJoin(
          alertFor(target, { alertType: 'hang', severity: 'critical', deliveryId: 'first' }),
        );
        const incident = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
        await waitFor(
          'awaiting approval',
          async () => (await incident.query(statusQuery)).status === 'AWAITING_APPROVAL',
        );

        // A storm: 80 repeated alerts, one signal each, one of them delivered twice.
        const repeat = (i: number): Alert =>
          alertFor(target, { alertType: 'hang', deliveryId: `repeat-${i}` });
        for (let i = 0; i < 80; i++) await incident.signal(alertSignal, repeat(i));
        await incident.signal(alertSignal, repeat(0));

        const carried = await waitFor(
          'the incident to continue as new with every alert counted',
          async () => {
            const described = await incident.describe();
            const state = await incident.query(statusQuery);
            return described.runId !== firstRunId && state.alertCount === 81
              ? { state, runId: described.runId }
              : undefined;
          },
        );
        expect(carried.state.status).toBe('AWAITING_APPROVAL');
        expect(carried.state.timeline.map((t) => t.event)).toContain('continued-as-new');
        expect(carried.state.escalatedTo).toEqual(['on-call']);
        expect(carried.state.diagnosis?.action).toBe('RESTART');
        // Each run's history stays near the limit instead of growing with the storm.
        expect(await historyLength(workflowId, firstRunId)).toBeLessThan(HISTORY_LIMIT + 40);

        // The decision reaches the new run, which heals the container as the first run would have.
        await incident.signal(approveSignal, { by: 'alice' });
        const result: IncidentState = await incident.result();
        expect(result.status).toBe('RESOLVED');
        expect(result.alertCount).toBe(81);
        expect(result.approval).toMatchObject({ decision: 'approved', decidedBy: 'alice' });
        expect(result.actions.map((a) => a.outcome)).toEqual(['restarted']);
        expect(result.id).toBe(firstRunId);
      },
    );
  });
});

describe('repeats stay small', () => {
  it('a coalesced batch of copies carries only the newest log lines', async () => {
    const sent: Alert[] = [];
    const port = {
      openOrJoin: async (alert: Alert) => {
        sent.push(alert);
        return { workflowId: 'incident-x', runId: 'run-1' };
      },
      resolve: async () => ({ workflowId: 'incident-x', delivered: true }),
    };
    const coalescer = new AlertCoalescer(port, { windowMs: 5 }, captureLogger().logger);
    const logs = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const alert = alertFor('medic-demo', { logs });
    await coalescer.admit(alert);
    for (let i = 0; i < 5; i++) await coalescer.admit({ ...alert, receivedAt: new Date().toISOString() });
    await coalescer.drain();
    expect(sent[0]?.logs).toHaveLength(200);
    const batch = sent.at(-1);
    expect(batch?.count).toBe(5);
    expect(batch?.logs).toEqual(logs.slice(-REPEAT_LOG_LINES));
  });
});
