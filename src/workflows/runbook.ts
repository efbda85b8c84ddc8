// One request to the runbook's single writer: list the fixes, or turn one off or on. The file lives with
// the process that polls `<queue>-runbook` (one activity at a time), so the API never reads it: it starts
// this short workflow, which runs the writer's activity there and returns its answer. Every step is bounded
// by the caller's `notAfter`: a writer that does not answer in time fails the request, and a request that
// reaches it later does nothing.
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import { FAILURE } from '../domain/failures.js';
import { runbookTaskQueue } from '../domain/naming.js';
import type { RunbookAnswer, RunbookRequest } from '../domain/runbook.js';

/** The shortest time the writer is given, even when the caller's deadline is nearly spent. */
const MIN_WRITER_MS = 1000;

export async function runbookWorkflow(request: RunbookRequest): Promise<RunbookAnswer> {
  // The workflow's clock: deterministic on replay.
  const now = Date.now();
  const { listRunbook, setFixEnabled } = proxyActivities<MedicActivities>({
    taskQueue: runbookTaskQueue(workflowInfo().taskQueue),
    scheduleToCloseTimeout: Math.max(MIN_WRITER_MS, Date.parse(request.notAfter) - now),
    retry: {
      initialInterval: '200ms',
      nonRetryableErrorTypes: [FAILURE.runbookFormat, FAILURE.runbookRequestExpired],
    },
  });
  try {
    if (request.op === 'list') {
      return { outcome: 'listed', listing: await listRunbook({ notAfter: request.notAfter }) };
    }
    const result = await setFixEnabled({
      fixId: request.fixId,
      enabled: request.op === 'enable',
      by: request.by,
      ...(request.note ? { note: request.note } : {}),
      at: new Date(now).toISOString(),
      notAfter: request.notAfter,
    });
    return result.found
      ? { outcome: 'toggled', fix: result.fix, changed: result.changed }
      : { outcome: 'not-found', fixId: request.fixId };
  } catch (err) {
    // A malformed file is an answer (a person must repair it), not a failure of this request.
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FAILURE.runbookFormat) {
      return { outcome: 'unreadable', message: cause.message };
    }
    throw err;
  }
}
