// The singleton watcher (`watcher`): keeps one long-lived, heartbeating activity following the engine's
// event stream. If the worker running it dies, the heartbeat timeout hands it to another worker, which
// resumes from the cursor in the last heartbeat. Continue-as-new keeps the history short. One watcher per
// host: the workflow runs on the central queue, its activity on the host's queue (`hostQueue`).
import { continueAsNew, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { EngineWatchActivities } from '../activities/watch/index.js';
import type { EventCursor } from '../domain/engine-events.js';

export interface WatcherInput {
  /** Where the previous run stopped reading. */
  cursor?: EventCursor;
  /** A worker that stops heartbeating for this long is presumed dead; the watch moves on. */
  heartbeatTimeoutMs: number;
  /** Each activity run returns after this long, with its cursor. */
  runForMs: number;
  /** The watched host's task queue; absent (watchers from before hosts were named): the workflow's own. */
  hostQueue?: string;
}

/** Activity runs per workflow run before continue-as-new (each adds a handful of history events). */
const RUNS_BEFORE_CONTINUE_AS_NEW = 100;

export async function watcherWorkflow(input: WatcherInput): Promise<void> {
  const { followEngineEvents } = proxyActivities<EngineWatchActivities>({
    ...(input.hostQueue ? { taskQueue: input.hostQueue } : {}),
    startToCloseTimeout: input.runForMs + 5 * 60_000,
    heartbeatTimeout: input.heartbeatTimeoutMs,
    // Never give up: an engine that is away for long is retried, with backoff, until it is back.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  let cursor = input.cursor;
  for (let run = 0; run < RUNS_BEFORE_CONTINUE_AS_NEW; run++) {
    // Continue-as-new drops the static summary: every run says what it does at once.
    setCurrentDetails(
      `**Engine watcher**: follows the container engine's events (die, oom, health) of managed containers; run ${run + 1} of ${RUNS_BEFORE_CONTINUE_AS_NEW} before continuing as new`,
    );
    cursor = await followEngineEvents.executeWithOptions(
      { summary: `follow engine events for ${Math.round(input.runForMs / 1000)} s` },
      [
        {
          ...(cursor ? { cursor } : {}),
          runForMs: input.runForMs,
          heartbeatEveryMs: Math.max(200, Math.floor(input.heartbeatTimeoutMs / 3)),
        },
      ],
    );
  }
  await continueAsNew<typeof watcherWorkflow>({ ...input, ...(cursor ? { cursor } : {}) });
}
