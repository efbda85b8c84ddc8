// Against a real Temporal: an engine alert over Temporal's payload limit is refused by
// the server; the watch raises the fault without its logs and goes on to raise the next container's.
import { defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWatchActivities } from '../../src/activities/watch/index.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { Alert } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { container, death, fakeEngine, T0 } from '../support/fake-engine.js';
import { captureLogger, testSettings } from '../support/medic.js';
import { connectDevServer, type DevServerConnection, uniqueTaskQueue } from '../support/temporal.js';

let temporal: DevServerConnection;
beforeAll(async () => {
  temporal = await connectDevServer();
});
afterAll(async () => {
  await temporal?.close();
});

/** The alert each incident was signalled with (no worker runs: the history holds just that). */
async function signalledAlert(workflowId: string): Promise<Alert | undefined> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const signalled = history.events?.find((e) => e.workflowExecutionSignaledEventAttributes);
  const payload = signalled?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<Alert>(payload) : undefined;
}

describe('an alert Temporal refuses does not blind the watcher', () => {
  it('3 MB of last log lines: Temporal refuses the alert, the fault is raised without them, the next container as usual', {
    timeout: 30_000,
  }, async () => {
    const suffix = Date.now();
    const big = `wf-bigline-${suffix}`;
    const next = `wf-afterbig-${suffix}`;
    const oneMb = 'x'.repeat(1024 * 1024);
    const runtime = fakeEngine(
      [container(big), container(next)],
      [death(big, T0), death(next, T0 + 1000)],
      (name) => (name === big ? [oneMb, oneMb, oneMb] : [`last words of ${name}`]),
    );
    // No worker polls this queue: the incidents are only started, which is all this test reads.
    const taskQueue = uniqueTaskQueue('bigline');
    // The ingest bound (MEDIC_LOG_MAX_*) would cut these lines first; opened up here, so this test shows
    // what the watch does when Temporal refuses an alert anyway (a bound set too high, a bug).
    const gateway = new IncidentGateway(
      temporal.client,
      taskQueue,
      testSettings({ searchAttributes: false }),
      {
        maxLineChars: 4 * 1024 * 1024,
        maxLines: 1000,
        maxBytes: 16 * 1024 * 1024,
      },
    );
    const { logger, lines } = captureLogger();
    const { followEngineEvents } = createEngineWatchActivities({ runtime, incidents: gateway, logger });
    const ids = [incidentWorkflowId(big, 'crash'), incidentWorkflowId(next, 'crash')];
    try {
      await new MockActivityEnvironment().run(followEngineEvents, {
        cursor: { timeNano: (T0 - 1000) * 1e6, keysAtTime: [] },
        runForMs: 3000,
        heartbeatEveryMs: 100,
      });
      const refusal = lines.find((l) => String(l.msg).includes('refused by Temporal with its logs'));
      expect(refusal).toMatchObject({ target: big, logLines: 3 });
      const reduced = await signalledAlert(ids[0]!);
      expect(reduced?.logs).toEqual([]);
      expect(reduced?.evidence?.detail).toContain('were dropped because Temporal refused the alert');
      expect((await signalledAlert(ids[1]!))?.logs).toEqual([`last words of ${next}`]);
    } finally {
      for (const id of ids)
        await temporal.client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined);
    }
  });
});
