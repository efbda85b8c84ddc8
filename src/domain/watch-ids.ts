// The ids of Medic's own watch on a host's engine: the event watcher and the health sweeper.
import { LOCAL_HOST } from './naming.js';
import { defaultText } from './settings-table.js';

/**
 * `watcher` and `sweeper` for the default task queue and the local host. Each Medic deployment (task queue)
 * watches its own engines, so another queue gets its own ids (tests run several deployments on one Temporal
 * server), and each host its own pair: `watcher-host-<name>`, `sweeper-host-<name>`. The local host's pair
 * has no host part, the ids of a single-host Medic, so an upgraded worker adopts its running watcher instead
 * of adding a second one (docs/decisions/ids-carry-the-host.md). `scheduleId` is the sweep schedule that
 * came before the sweeper: a worker start deletes it.
 */
export function watchIds(
  taskQueue: string,
  host: string = LOCAL_HOST,
): { watcherId: string; sweeperId: string; scheduleId: string } {
  const suffix =
    (taskQueue === defaultText('MEDIC_TASK_QUEUE') ? '' : `-${taskQueue}`) +
    (host === LOCAL_HOST ? '' : `-host-${host}`);
  return { watcherId: `watcher${suffix}`, sweeperId: `sweeper${suffix}`, scheduleId: `sweep${suffix}` };
}

/** The sweeper of a host: an incident the sweep opened tells it when it ended unhealed. */
export const sweeperWorkflowId = (taskQueue: string, host: string = LOCAL_HOST) =>
  watchIds(taskQueue, host).sweeperId;
