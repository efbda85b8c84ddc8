// An incident whose host's container engine does not answer waits for it (patch `engine-outage-wait`):
// the step that needs the engine (allowlist check, evidence, restart) is tried again with backoff for up to
// MEDIC_ENGINE_OUTAGE_WAIT, the timeline says it waits and when the engine is back, and past the wait the
// step fails with an EngineOutage that says why, which the incident escalates.
import { sleep } from '@temporalio/workflow';
import { DEFAULT_ENGINE_OUTAGE_WAIT_MS, secondsText } from '../../domain/incident.js';
import { describeFailure, engineUnavailable } from './failures.js';
import type { IncidentRun } from './run.js';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** The engine stayed away for longer than the incident may wait. */
export class EngineOutage extends Error {
  override name = 'EngineOutage';
}

/**
 * Runs `step` (an activity on the host's queue) until the engine answers; an error that is not the
 * engine's absence passes through untouched. Incidents from before the patch run the step once.
 */
export async function whileEngineAway<T>(run: IncidentRun, what: string, step: () => Promise<T>): Promise<T> {
  if (!run.waitsForEngine) return step();
  const waitMs = run.settings.engineOutageWaitMs ?? DEFAULT_ENGINE_OUTAGE_WAIT_MS;
  let awaySinceMs: number | undefined;
  let backoffMs = FIRST_BACKOFF_MS;
  for (;;) {
    try {
      const result = await step();
      if (awaySinceMs !== undefined) {
        run.record(
          'engine-back',
          `${what}: the engine answered again after ${secondsText(Date.now() - awaySinceMs)}`,
        );
      }
      return result;
    } catch (err) {
      if (!engineUnavailable(err)) throw err;
      const now = Date.now();
      if (awaySinceMs === undefined) {
        awaySinceMs = now;
        run.record(
          'engine-unavailable',
          `${what}: the container engine of host ${run.host} does not answer (${describeFailure(err)}); waiting up to ${secondsText(waitMs)} for it, retrying with backoff`,
        );
      }
      const leftMs = awaySinceMs + waitMs - now;
      if (leftMs <= 0) {
        throw new EngineOutage(
          `the container engine of host ${run.host} did not answer for ${secondsText(now - awaySinceMs)} (MEDIC_ENGINE_OUTAGE_WAIT is ${secondsText(waitMs)}) while ${what}: ${describeFailure(err)}. Check that the engine's service runs and that the host worker reaches its socket`,
        );
      }
      await sleep(Math.min(backoffMs, leftMs));
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }
}
