// Medic's own eyes on the container engine: the activities behind the watcher and sweep workflows.
// `followEngineEvents` follows the engine's event stream; `sweepContainers` samples every managed
// container. Both go through the container runtime port and raise what they find as alerts with source
// `engine`. Containers without the managed label are never listed, watched or reported.

import type { Logger } from '../../logger.js';
import type { HealthyImages } from '../../temporal/healthy-image-port.js';
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
  incidents: Pick<IncidentPort, 'openOrJoin' | 'findOpenIncident'> &
    Partial<Pick<IncidentPort, 'tellTarget'>>;
  logger: Logger;
  /** Reads the kernel's OOM kills when the engine runs on this host; undefined elsewhere. */
  kernelOomKills?: KernelOomReader;
  /** Log lines attached to an engine alert. */
  logLines?: number;
  /** The host this engine runs on (MEDIC_HOST_NAME): the watch's incidents carry it. */
  host?: string;
  /** Where each target's last healthy image is kept (its guard): told what the sweep finds healthy. */
  healthyImages?: HealthyImages;
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
    ...(deps.host ? { host: deps.host } : {}),
  });
  return {
    followEngineEvents: eventFollower({
      runtime,
      raise,
      log,
      ...(incidents.tellTarget ? { tellTarget: incidents.tellTarget.bind(incidents) } : {}),
      ...(deps.host ? { host: deps.host } : {}),
      ...(deps.kernelOomKills ? { kernelOomKills: deps.kernelOomKills } : {}),
    }),
    sweepContainers: sweeper({
      runtime,
      incidents,
      raise,
      log,
      ...(deps.host ? { host: deps.host } : {}),
      ...(deps.healthyImages ? { healthyImages: deps.healthyImages } : {}),
    }),
  };
}

export type EngineWatchActivities = ReturnType<typeof createEngineWatchActivities>;

/** The names of the engine watch's activities: they run on the watched host's queue. */
export const ENGINE_WATCH_ACTIVITY_NAMES = ['followEngineEvents', 'sweepContainers'] as const;
