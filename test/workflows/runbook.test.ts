// The runbook's desk on the real dev server and a real central worker: each request is an Update of one
// long-lived workflow, whose activity runs on the runbook writer's queue (`<queue>-runbook`) where the file
// changes; however many requests come, the Web UI's list holds one desk; and a request that reaches the
// writer after its caller gave up does nothing.
import { readFileSync } from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCentralActivities } from '../../src/activities/index.js';
import { LogNotifier } from '../../src/activities/notify.js';
import type { RunbookStore } from '../../src/activities/runbook.js';
import { FAILURE } from '../../src/domain/failures.js';
import { runbookTaskQueue } from '../../src/domain/naming.js';
import { type RunbookAnswer, runbookDeskId } from '../../src/domain/runbook.js';
import { RunbookGateway } from '../../src/temporal/runbook-gateway.js';
import { createMedicWorker, type MedicWorker } from '../../src/worker.js';
import { runbookUpdate } from '../../src/workflows/messages.js';
import { WORKFLOW_TYPES } from '../../src/workflows/workflow-types.js';
import { captureLogger, tempRunbook, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const temporal = devServerForFile();
let runbook: RunbookStore;
let worker: MedicWorker;
let running: Promise<void>;
let taskQueue: string;
let fixId: string;

beforeAll(async () => {
  runbook = tempRunbook();
  ({ fixId } = await runbook.recordOutcome({
    incidentId: 'run-1',
    workflowId: 'incident:local:svc:crash',
    target: 'svc',
    alertType: 'crash',
    errorSignature: 'process exited with code 1',
    action: 'RESTART',
    rootCause: 'a crash',
    outcome: 'resolved',
    at: '2026-11-25T10:00:00.000Z',
  }));
  taskQueue = uniqueTaskQueue('runbook-wf');
  const { logger } = captureLogger();
  worker = await createMedicWorker({
    connection: temporal.nativeConnection,
    namespace: 'default',
    taskQueue,
    role: 'central',
    activities: createCentralActivities({
      incidentSettings: testSettings(),
      runbook,
      notifier: new LogNotifier(logger),
      logger,
    }),
    workflowBundlePath: inject('workflowBundlePath'),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
});

/** The task queue each activity of a run was scheduled on. */
async function activityQueues(workflowId: string): Promise<string[]> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    return scheduled ? [`${scheduled.activityType?.name}@${scheduled.taskQueue?.name}`] : [];
  });
}

describe('runbookWorkflow', () => {
  it('runs the writer’s activity on the runbook queue, and the file changes there', async () => {
    const gateway = new RunbookGateway(temporal.client, taskQueue);
    const { fix, changed } = await gateway.setEnabled(
      'disable',
      fixId,
      { by: 'alice', note: 'crashes are a bug now' },
      10_000,
    );
    expect(changed).toBe(true);
    expect(fix).toMatchObject({ id: fixId, enabled: false, toggled: { by: 'alice' } });
    const inFile = JSON.parse(readFileSync(runbook.filePath, 'utf8')).fixes[0];
    expect(inFile).toMatchObject({
      enabled: false,
      toggled: { enabled: false, by: 'alice', note: 'crashes are a bug now' },
    });

    const listing = await gateway.list(10_000);
    expect(listing.fixes).toEqual([expect.objectContaining({ id: fixId, enabled: false })]);
    for (let i = 0; i < 5; i++) await gateway.list(10_000);

    // One desk answered them all, on the writer's queue: the Web UI's list holds it alone.
    const deskId = runbookDeskId(taskQueue);
    const ids = await waitFor('the desk to be listed', async () => {
      const found: string[] = [];
      for await (const info of temporal.client.workflow.list({
        query: `WorkflowType = '${WORKFLOW_TYPES.runbook}' AND TaskQueue = '${taskQueue}'`,
      })) {
        found.push(info.workflowId);
      }
      return found.length > 0 ? found : undefined;
    });
    expect(ids).toEqual([deskId]);
    const desk = temporal.client.workflow.getHandle(deskId);
    expect(await (await desk.describe()).staticSummary()).toMatch(/^runbook desk · /);
    expect(await activityQueues(deskId)).toEqual([
      `setFixEnabled@${runbookTaskQueue(taskQueue)}`,
      ...Array.from({ length: 6 }, () => `listRunbook@${runbookTaskQueue(taskQueue)}`),
    ]);
    // Deterministic: its history replays against the workflow code.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      await desk.fetchHistory(),
    );
  });

  it('does nothing for a request that reaches the writer after its caller stopped waiting', async () => {
    const before = readFileSync(runbook.filePath, 'utf8');
    const desk = temporal.client.workflow.getHandle(runbookDeskId(taskQueue));
    const failure = await desk
      .executeUpdate(runbookUpdate, {
        args: [{ op: 'enable', fixId, by: 'bob', notAfter: new Date(Date.now() - 1000).toISOString() }],
      })
      .then(
        (answer: RunbookAnswer) => answer,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (failure as WorkflowUpdateFailedError).cause as { type?: string } | undefined;
    expect(cause?.type).toBe(FAILURE.runbookRequestExpired);
    expect(readFileSync(runbook.filePath, 'utf8')).toBe(before);
  });
});
