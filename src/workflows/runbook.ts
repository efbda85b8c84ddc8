// The runbook's desk, one long-lived workflow per task queue (`runbook-<queue>`): it answers the API's
// requests (list the fixes, turn one off or on) as Updates, each by running the single writer's activity on
// `<queue>-runbook`, where the file lives; the API never reads the file. One workflow, not one per request,
// so the Web UI's list shows incidents and a few long-lived workflows however often a console reads the
// runbook. Each request is bounded by its caller's `notAfter`: a writer that does not answer in time fails
// it, and a request that reaches the writer later does nothing. It continues as new every 200 requests.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import { FAILURE } from '../domain/failures.js';
import { runbookTaskQueue } from '../domain/naming.js';
import type { RunbookAnswer, RunbookRequest } from '../domain/runbook.js';
import { checkRunbookRequest } from '../domain/runbook.js';
import { runbookUpdate } from './messages.js';

/** The shortest time the writer is given, even when the caller's deadline is nearly spent. */
const MIN_WRITER_MS = 1000;
/** Requests answered per run before continuing as new (each costs a handful of history events). */
const REQUESTS_PER_RUN = 200;

export async function runbookWorkflow(input: { answered?: number } = {}): Promise<void> {
  let answered = 0;
  setHandler(runbookUpdate, (request) => serve(request).finally(() => (answered += 1)), {
    validator: (request) => {
      const problem = checkRunbookRequest(request);
      if (problem)
        throw ApplicationFailure.create({
          type: 'InvalidRunbookRequest',
          message: problem,
          nonRetryable: true,
        });
    },
  });
  const total = input.answered ?? 0;
  setCurrentDetails(
    `**Runbook desk**: answers GET /runbook and POST /runbook/:id/disable|enable through the single writer on \`${runbookTaskQueue(workflowInfo().taskQueue)}\` (${total} request(s) answered before this run)`,
  );
  await condition(() => answered >= REQUESTS_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof runbookWorkflow>({ answered: total + answered });
}

async function serve(request: RunbookRequest): Promise<RunbookAnswer> {
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
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    // A malformed file is an answer (a person must repair it), not a failure of this request.
    if (cause instanceof ApplicationFailure && cause.type === FAILURE.runbookFormat) {
      return { outcome: 'unreadable', message: cause.message };
    }
    // The writer did not answer in time, or the request came too late: the caller learns why.
    throw ApplicationFailure.create({
      type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'RunbookWriterUnavailable',
      message: cause?.message ?? (err instanceof Error ? err.message : String(err)),
      nonRetryable: true,
    });
  }
}
