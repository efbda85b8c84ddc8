// Reading the failures an incident's activities end with: what to tell people, and which ones mean
// "nobody serves this host" or "the engine is away" rather than a fault of the step itself.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { FAILURE } from '../../domain/failures.js';

export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeFailure(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** No worker took the task from its queue in time: nobody serves that host (or its worker is down). */
export function noWorkerTookIt(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/** The host's container engine did not answer at all (the activity's own verdict). */
export function engineUnavailable(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FAILURE.engineUnavailable
  );
}
