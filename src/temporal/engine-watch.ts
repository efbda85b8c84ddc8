// Starts Medic's own watch on the engine when a worker starts: the singleton watcher workflow and the
// long-lived sweeper, both idempotently (every worker start may call this; the sweeper takes the starting
// worker's sweep settings by signal). The activities they run are in src/activities/watch/.
import { type Client, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { MedicConfig } from '../config.js';
import type { SweepSettings } from '../domain/anomaly.js';
import { hostTaskQueue } from '../domain/naming.js';
import { watchIds } from '../domain/watch-ids.js';
import type { Logger } from '../logger.js';
import { sweepSettingsSignal } from '../workflows/messages.js';
import type { SweeperInput } from '../workflows/sweeper.js';
import type { WatcherInput } from '../workflows/watcher.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';

/** How long one run of the watch activity lasts before it hands its cursor back to the workflow. */
const WATCH_RUN_MS = 30 * 60_000;
const HEALTH_PROBE_TIMEOUT_MS = 3000;

export { watchIds } from '../domain/watch-ids.js';

/** Called by the worker of the host it watches (MEDIC_HOST_NAME): the workflows run centrally, the activities there. */
export async function ensureEngineWatch(client: Client, config: MedicConfig, logger: Logger): Promise<void> {
  const { taskQueue } = config.temporal;
  const host = config.worker.hostName;
  const hostQueue = hostTaskQueue(taskQueue, host);
  const { watcherId, sweeperId, scheduleId } = watchIds(taskQueue, host);
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

  await retireSweepSchedule(client, scheduleId, logger);
  if (config.watch.sweepIntervalMs <= 0) {
    await stopSweeper(client, sweeperId, logger);
    return;
  }
  const settings: SweepSettings = {
    thresholds: config.watch.thresholds,
    healthProbeTimeoutMs: HEALTH_PROBE_TIMEOUT_MS,
    searchAttributes: config.incident.searchAttributes,
    intervalMs: config.watch.sweepIntervalMs,
  };
  const input: SweeperInput = { settings, hostQueue };
  const every = Math.round(settings.intervalMs / 1000);
  await client.workflow.signalWithStart(WORKFLOW_TYPES.sweeper, {
    workflowId: sweeperId,
    taskQueue,
    args: [input],
    signal: sweepSettingsSignal,
    signalArgs: [settings],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `health sweep · ${host}, every ${every} s: restart loops, memory, CPU, health probes`,
  });
  logger.info({ workflowId: sweeperId, everyMs: settings.intervalMs, host }, 'health sweep running');
}

/** The sweep schedule of the code before the sweeper: its sweeps are the sweeper's now. */
async function retireSweepSchedule(client: Client, scheduleId: string, logger: Logger): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    logger.info({ scheduleId }, 'sweep schedule removed: the sweeper workflow sweeps now');
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** MEDIC_SWEEP_INTERVAL=0: no sweep. */
async function stopSweeper(client: Client, sweeperId: string, logger: Logger): Promise<void> {
  try {
    await client.workflow.getHandle(sweeperId).terminate('MEDIC_SWEEP_INTERVAL=0: no health sweep');
    logger.info({ workflowId: sweeperId }, 'health sweep stopped (MEDIC_SWEEP_INTERVAL=0)');
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
