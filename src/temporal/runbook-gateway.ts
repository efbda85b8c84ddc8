// Medic's Temporal client for the runbook: GET /runbook and turning a fix off or on. runbook.json lives with
// its single writer, so each request is a short workflow (`runbook:<op>:<uuid>`) that runs the writer's
// activity on `<queue>-runbook`, bounded by the caller's deadline; it throws typed errors, never HTTP ones.
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { RunbookAnswer, RunbookEntry, RunbookListing, RunbookRequest } from '../domain/runbook.js';
import { runbookWorkflowId } from '../domain/runbook.js';
import { classifyRaiseFailure, describeRaiseFailure } from '../domain/temporal-failure.js';
import type { runbookWorkflow } from '../workflows/index.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';
import { TemporalUnavailableError } from './errors.js';

/** The answer's own trip back, beyond the writer's deadline: a result that made it in time is not lost. */
const ANSWER_MARGIN_MS = 2000;

export class FixNotFoundError extends Error {
  override name = 'FixNotFoundError';

  constructor(readonly fixId: string) {
    super(`the runbook has no fix ${fixId}`);
  }
}

/** runbook.json cannot be read as a runbook: a person must repair the file (Medic never overwrites it). */
export class RunbookUnreadableError extends Error {
  override name = 'RunbookUnreadableError';
}

/** The writer (or any worker) did not answer within the deadline: nothing was changed, nothing will be. */
export class RunbookWriterUnavailableError extends Error {
  override name = 'RunbookWriterUnavailableError';
  readonly retryAfterSeconds = 5;

  constructor(timeoutMs: number, why: string) {
    super(
      `the runbook's writer did not answer within ${Math.round(timeoutMs / 1000)} s (${why}); is the central worker running? Nothing was changed`,
    );
  }
}

type RequestWithoutDeadline =
  | { op: 'list' }
  | { op: 'disable' | 'enable'; fixId: string; by: string; note?: string };

export class RunbookGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async list(timeoutMs: number): Promise<RunbookListing> {
    const answer = await this.run({ op: 'list' }, timeoutMs, 'runbook: list the fixes');
    if (answer.outcome !== 'listed') throw unexpected(answer);
    return answer.listing;
  }

  /** Turns one fix off (`disable`) or on (`enable`), recording who and why. */
  async setEnabled(
    op: 'disable' | 'enable',
    fixId: string,
    change: { by: string; note?: string },
    timeoutMs: number,
  ): Promise<{ fix: RunbookEntry; changed: boolean }> {
    const request = { op, fixId, by: change.by, ...(change.note ? { note: change.note } : {}) };
    const answer = await this.run(request, timeoutMs, `runbook: ${op} ${fixId}`);
    if (answer.outcome === 'not-found') throw new FixNotFoundError(fixId);
    if (answer.outcome !== 'toggled') throw unexpected(answer);
    return { fix: answer.fix, changed: answer.changed };
  }

  private async run(
    request: RequestWithoutDeadline,
    timeoutMs: number,
    summary: string,
  ): Promise<RunbookAnswer> {
    const notAfterMs = Date.now() + timeoutMs;
    const args: [RunbookRequest] = [{ ...request, notAfter: new Date(notAfterMs).toISOString() }];
    let answer: RunbookAnswer;
    try {
      answer = await this.client.withDeadline(notAfterMs + ANSWER_MARGIN_MS, () =>
        this.client.workflow.execute<typeof runbookWorkflow>(WORKFLOW_TYPES.runbook, {
          workflowId: runbookWorkflowId(request.op, randomUUID()),
          taskQueue: this.taskQueue,
          args,
          // No worker took it in time: it ends by itself, and its activity refuses to run after notAfter.
          workflowExecutionTimeout: timeoutMs,
          staticSummary: summary,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        throw new RunbookWriterUnavailableError(timeoutMs, describeRaiseFailure(err));
      if (classifyRaiseFailure(err) === 'unavailable') throw new TemporalUnavailableError(err);
      throw err;
    }
    if (answer.outcome === 'unreadable') throw new RunbookUnreadableError(answer.message);
    return answer;
  }
}

const unexpected = (answer: RunbookAnswer) =>
  new Error(`the runbook workflow answered ${answer.outcome}, which this request cannot give`);
