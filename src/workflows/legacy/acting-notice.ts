// The "restarting" notice of an automatic restart: sent without waiting since patch `notify-outcomes`, so
// a slow receiver never holds the lease; histories begun before it waited for the notice.
import { isPatched } from '../versions.js';

export async function noticeWithoutWaiting(telling: Promise<void>): Promise<void> {
  // tell() never throws but for a cancellation, which the incident's own cancellation handling covers.
  if (isPatched('notify-outcomes')) void telling.catch(() => undefined);
  else await telling;
}
