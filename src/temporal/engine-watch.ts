// Starts Medic's own watch on the engine when a worker starts: the singleton watcher workflow and the
// sweep's Temporal Schedule, both created or updated idempotently, so every worker start may call this.
// The activities they run are in src/activities/watch/.
import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { MedicConfig } from '../config.js';
import { hostTaskQueue, LOCAL_HOST } from '../domain/naming.js';
import { defaultText } from '../domain/settings-table.js';
import type { Logger } from '../logger.js';
import type { SweepWorkflowInput } from '../workflows/sweep.js';
import type { WatcherInput } from '../workflows/watcher.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';

/** How long one run of the watch activity lasts before it hands its cursor back to the workflow. */
const WATCH_RUN_MS = 30 * 60_000;
const HEALTH_PROBE_TIMEOUT_MS = 3000;

/**
 * `watcher` and `sweep` for the default task queue and the local host. Each Medic deployment (task queue)
 * watches its own engines, so another queue gets its own ids (tests run several deployments on one Temporal
 * server), and each host its own pair: `watcher-host-<name>`, `sweep-host-<name>`. The local host's pair has
 * no host part, the ids of a single-host Medic, so an upgraded worker adopts its running watcher instead of
 * adding a second one (docs/decisions/ids-carry-the-host.md).
 */
export function watchIds(
  taskQueue: string,
  host: string = LOCAL_HOST,
): { watcherId: string; scheduleId: string } {
  const base =
    taskQueue === defaultText('MEDIC_TASK_QUEUE')
      ? { watcherId: 'watcher', scheduleId: 'sweep' }
      : { watcherId: `watcher-${taskQueue}`, scheduleId: `sweep-${taskQueue}` };
  if (host === LOCAL_HOST) return base;
  return { watcherId: `${base.watcherId}-host-${host}`, scheduleId: `${base.scheduleId}-host-${host}` };
}

/** Called by the worker of the host it watches (MEDIC_HOST_NAME): the workflows run centrally, the activities there. */
export async function ensureEngineWatch(client: Client, config: MedicConfig, logger: Logger): Promise<void> {
  const { taskQueue } = config.temporal;
  const host = config.worker.hostName;
  const hostQueue = hostTaskQueue(taskQueue, host);
  const { watcherId, scheduleId } = watchIds(taskQueue, host);
  const watcherInput: WatcherInput = {
    heartbeatTimeoutMs: config.watch.heartbeatTimeoutMs,
    runForMs: WATCH_RUN_MS,
    hostQueue,
  };
  const handle = await client.workflow.start(WORKFLOW_TYPES.watcher, {
    workflowId: watcherId,
    taskQueue,
    args: [watcherInput],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `engine watcher · ${taskQueue}: follows container deaths, OOM kills and health events`,
  });
  logger.info(
    { workflowId: watcherId, runId: handle.firstExecutionRunId, host },
    'engine event watcher running',
  );

  if (config.watch.sweepIntervalMs <= 0) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      logger.info({ scheduleId }, 'sweep schedule removed (MEDIC_SWEEP_INTERVAL=0)');
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    return;
  }
  const sweepInput: SweepWorkflowInput = {
    thresholds: config.watch.thresholds,
    healthProbeTimeoutMs: HEALTH_PROBE_TIMEOUT_MS,
    searchAttributes: config.incident.searchAttributes,
    hostQueue,
  };
  const every = config.watch.sweepIntervalMs;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPES.sweep,
    workflowId: scheduleId,
    taskQueue,
    args: [sweepInput],
    staticSummary: `health sweep · every ${Math.round(every / 1000)} s: restart loops, memory, CPU, health probes`,
    // A sweep nobody ran (no worker) must not linger: the next one will look again.
    workflowExecutionTimeout: Math.max(60_000, every * 4),
  };
  const spec = { intervals: [{ every }] };
  const policies = { overlap: 'SKIP' as const, catchupWindow: Math.max(60_000, every * 2) };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    logger.info({ scheduleId, everyMs: every }, 'sweep schedule created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, spec, action, policies }));
    logger.info({ scheduleId, everyMs: every }, 'sweep schedule updated');
  }
}
