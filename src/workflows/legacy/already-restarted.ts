// A retried restart that finds the restart already made: since patch `already-restarted-acted` it counts
// as the action it was; histories begun before it counted nothing.
import { isPatched } from '../versions.js';

export function alreadyRestartedCounts(): boolean {
  return isPatched('already-restarted-acted');
}
