// Medic's Temporal client for the runbook: GET /runbook and turning a fix off or on. runbook.json lives with
// its single writer, so each request is an Update of the runbook's desk (`runbook-<queue>`, started with the
// first request), which runs the writer's activity on `<queue>-runbook`, bounded by the caller's deadline;
// it throws typed errors, never HTTP ones.
import { randomUUID } from 'node:crypto';
import {
  type Client,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { RunbookAnswer, RunbookEntry, RunbookListing, RunbookRequest } from '../domain/runbook.js';
import { runbookDeskId } from '../domain/runbook.js';
import { classifyRaiseFailure, describeRaiseFailure } from '../domain/temporal-failure.js';
import type { runbookWorkflow } from '../workflows/index.js';
import { runbookUpdate } from '../workflows/messages.js';
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

  /** Whether Temporal answers at all (the desk's description, within a second). */
  private async answers(): Promise<boolean> {
    try {
      await this.client.withDeadline(Date.now() + REACHABLE_CHECK_MS, () =>
        this.client.workflow.getHandle(runbookDeskId(this.taskQueue)).describe(),
      );
      return true;
    } catch (err) {
      return !(classifyRaiseFailure(err) === 'unavailable' || isDeadline(err));
    }
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
      const desk = new WithStartWorkflowOperation<typeof runbookWorkflow>(WORKFLOW_TYPES.runbook, {
        workflowId: runbookDeskId(this.taskQueue),
        taskQueue: this.taskQueue,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `runbook desk · ${this.taskQueue}: lists the learned fixes, turns them off and on`,
      });
      answer = await this.client.withDeadline(notAfterMs + ANSWER_MARGIN_MS, () =>
        this.client.workflow.executeUpdateWithStart(runbookUpdate, {
          args,
          startWorkflowOperation: desk,
          updateId: `${summary}:${randomUUID()}`,
        }),
      );
    } catch (err) {
      // The writer did not answer in time (or the request came too late): nothing was changed, nothing will be.
      if (err instanceof WorkflowUpdateFailedError)
        throw new RunbookWriterUnavailableError(timeoutMs, describeRaiseFailure(err.cause ?? err));
      // Out of time: Temporal took the request but no worker answered it, or Temporal itself does not answer.
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadline(err)) {
        if (await this.answers())
          throw new RunbookWriterUnavailableError(timeoutMs, 'no worker took the request in time');
        throw new TemporalUnavailableError(err);
      }
      if (classifyRaiseFailure(err) === 'unavailable') throw new TemporalUnavailableError(err);
      throw err;
    }
    if (answer.outcome === 'unreadable') throw new RunbookUnreadableError(answer.message);
    return answer;
  }
}

const REACHABLE_CHECK_MS = 1000;

const isDeadline = (err: unknown) => isGrpcServiceError(err) && err.code === 4;

const unexpected = (answer: RunbookAnswer) =>
  new Error(`the runbook workflow answered ${answer.outcome}, which this request cannot give`);
