// The restart, compare-and-act: it restarts the container only while it still runs the process the
// diagnosis saw (its start time), by the id just inspected, and it is issued once however often the
// activity is retried. A retry cannot tell from the start time alone whether an earlier attempt's request
// reached the engine: a worker killed while the engine stops the container (or while the request is still
// on its way) leaves the old start time in place for a while. So a retry asks the engine's own event log
// whether a stop, kill or restart of the container happened since the first attempt began, and waits
// (bounded) for it; only when none came does it restart. docs/decisions/restart-issued-once.md says why.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../domain/failures.js';
import type { ActionRecord } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { type ContainerInfo, ContainerNotFoundError, type ContainerRuntime } from './containers.js';

export interface RestartInput {
  incidentId: string;
  target: string;
  /** The start time seen at diagnosis: restart only if the container still runs that process. */
  expectedStartedAt: string;
  stopTimeoutMs: number;
  /** When this incident's first try of the restart began, if this is a later one (the engine was away). */
  earlierTryAtMs?: number;
}

/** Engine clocks and Temporal's may differ a little: events this much before the first attempt count too. */
const CLOCK_MARGIN_MS = 2000;
/** An earlier attempt's request may still be on its way this long after a whole stop could have taken. */
const IN_FLIGHT_GRACE_MS = 5000;
/** Once the engine shows the earlier stop, the new process may take this long beyond the stop timeout. */
const START_GRACE_MS = 30_000;
const POLL_MS = 250;

type Action = Omit<ActionRecord, 'at'>;

export async function restartOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: RestartInput,
  options: { dryRun: boolean },
): Promise<Action> {
  const before = await managedTarget(runtime, input.target);
  if (options.dryRun) {
    const detail = `dry run on this worker: would restart ${input.target}; nothing was touched`;
    logger.info({ target: input.target, incidentId: input.incidentId }, 'restart not made: dry run');
    return { action: 'RESTART', outcome: 'would-restart', detail };
  }
  const { attempt, scheduledTimestampMs } = Context.current().info;
  // Tried before: a retry of this activity, or a new one after the incident waited out the engine.
  const triedBefore = attempt > 1 || input.earlierTryAtMs !== undefined;
  const firstAttemptMs =
    Math.min(scheduledTimestampMs, input.earlierTryAtMs ?? scheduledTimestampMs) - CLOCK_MARGIN_MS;
  if (before.startedAt !== input.expectedStartedAt) {
    const own = triedBefore && (await stopRequested(runtime, before.id, firstAttemptMs, 1000));
    return restartedAlready(logger, input, before.startedAt, own);
  }
  if (triedBefore) {
    const landed = await earlierAttemptLanded(runtime, before, input, firstAttemptMs);
    if (landed) return restartedAlready(logger, input, landed, true);
  }
  // By the id just inspected: the container whose name, label and start time were checked, not
  // whatever the name means by the time the engine acts (a replacement's restart then fails as gone).
  try {
    await runtime.restart(before.id, { stopTimeoutMs: input.stopTimeoutMs });
  } catch (err) {
    if (err instanceof ContainerNotFoundError)
      throw ApplicationFailure.nonRetryable(err.message, FAILURE.containerNotFound);
    throw err;
  }
  const after = await runtime.inspect(before.id);
  logger.info({ target: input.target, incidentId: input.incidentId }, 'container restarted');
  return {
    action: 'RESTART',
    outcome: 'restarted',
    detail: `restarted through the ${runtime.kind}`,
    previousStartedAt: input.expectedStartedAt,
    newStartedAt: after?.startedAt,
  };
}

/** The target as the engine shows it, if it may be touched at all. */
async function managedTarget(runtime: ContainerRuntime, target: string): Promise<ContainerInfo> {
  const before = await runtime.inspect(target);
  if (!before) {
    throw ApplicationFailure.nonRetryable(`container ${target} no longer exists`, FAILURE.containerNotFound);
  }
  if (before.name !== target) {
    throw ApplicationFailure.nonRetryable(
      `${target} resolves to container ${before.name} (${before.id.slice(0, 12)}), not to a container of that name; refusing to touch it`,
      FAILURE.targetNameMismatch,
    );
  }
  if (!before.managed) {
    throw ApplicationFailure.nonRetryable(
      `container ${target} is not managed by Medic; refusing to touch it`,
      FAILURE.targetNotManaged,
    );
  }
  return before;
}

/**
 * The start time changed since the diagnosis: by this incident's own earlier attempt (`own`), or by someone
 * else (the engine's restart policy, a person, another incident), whose restart Medic does not take credit for.
 */
function restartedAlready(logger: Logger, input: RestartInput, startedAt: string, own: boolean): Action {
  const by = own ? "this incident's earlier attempt" : 'someone else';
  logger.info(
    { target: input.target, incidentId: input.incidentId, by },
    'restart skipped: already restarted',
  );
  return {
    action: 'RESTART',
    outcome: own ? 'already-restarted' : 'healed-by-other',
    detail: `start time changed since diagnosis (${input.expectedStartedAt} -> ${startedAt}), restarted by ${by}; not restarting again`,
    previousStartedAt: input.expectedStartedAt,
    newStartedAt: startedAt,
  };
}

/** The shortest look at the engine's log for an earlier attempt's stop. */
const MIN_LOOK_MS = 1000;

/**
 * A retry whose container still shows the old start time: did an earlier attempt's restart reach the engine
 * (it may still be stopping the container, or the request may still be on its way)? Watches the engine's
 * event log until a whole stop could have passed since the first attempt; once it shows a stop, kill or
 * restart, waits for the new start time. The new start time, or undefined when nothing came: restart then.
 */
async function earlierAttemptLanded(
  runtime: ContainerRuntime,
  before: ContainerInfo,
  input: RestartInput,
  firstAttemptMs: number,
): Promise<string | undefined> {
  if (!runtime.stopRequestedSince) return undefined;
  // At least a short look, even long after the first attempt: the log holds what already came, and asking
  // it with no time at all could miss it.
  const lookMs = Math.max(
    MIN_LOOK_MS,
    firstAttemptMs + CLOCK_MARGIN_MS + input.stopTimeoutMs + IN_FLIGHT_GRACE_MS - Date.now(),
  );
  if (!(await stopRequested(runtime, before.id, firstAttemptMs, lookMs))) return undefined;
  const deadline = Date.now() + input.stopTimeoutMs + START_GRACE_MS;
  while (Date.now() < deadline) {
    const now = await runtime.inspect(before.id);
    if (!now)
      throw ApplicationFailure.nonRetryable(
        `container ${input.target} no longer exists`,
        FAILURE.containerNotFound,
      );
    if (now.startedAt !== input.expectedStartedAt && now.running) return now.startedAt;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  // The engine took the earlier restart but the container has not started again: restarting it once more
  // would be a second restart. The next attempt looks again.
  throw ApplicationFailure.retryable(
    `an earlier attempt's restart of ${input.target} reached the engine, but the container has not started again yet`,
    FAILURE.restartInProgress,
  );
}

function stopRequested(runtime: ContainerRuntime, id: string, sinceMs: number, waitMs: number) {
  return runtime.stopRequestedSince
    ? runtime.stopRequestedSince(id, sinceMs, waitMs)
    : Promise.resolve(false);
}
