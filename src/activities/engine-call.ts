// How a host activity calls its engine: heartbeating while the engine works (so a worker that dies mid-call
// is noticed within the heartbeat timeout), and an engine that does not answer at all failing the attempt
// as EngineUnavailable (the incident, not the activity's retry policy, waits for it).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../domain/failures.js';
import { type ContainerRuntime, engineUnreachable } from './containers.js';

/** How often a long activity reports it is alive; the heartbeat timeout is a few of these. */
const HEARTBEAT_EVERY_MS = 1000;

/**
 * Runs `work`, heartbeating every second. `note` records how far the attempt got: it is sent at once and
 * with every later beat, and a retry reads it back (`earlierNote`). Until this attempt notes something, the
 * earlier attempts' note is sent on, so a retry that dies too does not erase it. With `quietUntilNoted`
 * nothing is sent before the first note, which is then the attempt's first heartbeat: the SDK sends a first
 * heartbeat at once but holds later ones back (throttled), and a note sent just before a request is worth
 * most if it reaches Temporal before the worker can die.
 */
export async function whileHeartbeating<T>(
  work: (note: (details: unknown) => void) => Promise<T>,
  options: { quietUntilNoted?: boolean } = {},
): Promise<T> {
  const context = Context.current();
  let details: unknown = context.info.heartbeatDetails;
  let quiet = options.quietUntilNoted ?? false;
  const beat = () => {
    if (quiet) return;
    if (details === undefined) context.heartbeat();
    else context.heartbeat(details);
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    return await work((next) => {
      details = next;
      quiet = false;
      beat();
    });
  } finally {
    clearInterval(timer);
  }
}

/** What an earlier attempt of this activity noted (whileHeartbeating's `note`), if it got that far. */
export function earlierNote<T>(): T | undefined {
  return Context.current().info.heartbeatDetails as T | undefined;
}

/**
 * An engine that does not answer at all fails the attempt as `EngineUnavailable`: the incident, not the
 * activity's retry policy, waits for it (MEDIC_ENGINE_OUTAGE_WAIT) and says so in its timeline.
 */
export async function onEngine<T>(runtime: ContainerRuntime, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!engineUnreachable(err)) throw err;
    throw ApplicationFailure.retryable(
      `the ${runtime.kind} does not answer: ${err instanceof Error ? err.message : String(err)}`,
      FAILURE.engineUnavailable,
    );
  }
}
