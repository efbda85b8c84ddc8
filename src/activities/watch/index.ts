// Medic's own eyes on the container engine: the activities behind the watcher and sweep workflows.
// `followEngineEvents` follows the engine's event stream; `sweepContainers` samples every managed
// container. Both go through the container runtime port and raise what they find as alerts with source
// `engine`. Containers without the managed label are never listed, watched or reported.
import type { Logger } from '../../logger.js';
import type { IncidentPort } from '../../temporal/incident-port.js';
import type { WatchableRuntime } from '../containers.js';
import { eventFollower } from './follow-events.js';
import type { KernelOomReader } from './kernel-log.js';
import { engineAlerter } from './raise-alert.js';
import { sweeper } from './sweep.js';

export type { FollowEventsInput } from './follow-events.js';
export type { SweepInput, SweepResult } from './sweep.js';

export interface EngineWatchDeps {
  runtime: WatchableRuntime;
  incidents: Pick<IncidentPort, 'openOrJoin' | 'findOpenIncident'>;
  logger: Logger;
  /** Reads the kernel's OOM kills when the engine runs on this host; undefined elsewhere. */
  kernelOomKills?: KernelOomReader;
  /** Log lines attached to an engine alert. */
  logLines?: number;
}

/** The activity names are a contract: the watcher and sweep workflows (and their recorded histories) call them. */
export function createEngineWatchActivities(deps: EngineWatchDeps) {
  const { runtime, incidents } = deps;
  const log = deps.logger.child({ component: 'engine-watch' });
  const raise = engineAlerter({
    runtime,
    incidents,
    log,
    ...(deps.logLines !== undefined ? { logLines: deps.logLines } : {}),
  });
  return {
    followEngineEvents: eventFollower({
      runtime,
      raise,
      log,
      ...(deps.kernelOomKills ? { kernelOomKills: deps.kernelOomKills } : {}),
    }),
    sweepContainers: sweeper({ runtime, incidents, raise, log }),
  };
}

export type EngineWatchActivities = ReturnType<typeof createEngineWatchActivities>;
