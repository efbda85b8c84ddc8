// Before patch `host-queues`, an incident ran everything on the central queue, and its allowlist check was a
// local activity (one engine inspect). Histories begun then still take these routes.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { MedicActivities } from '../../activities/index.js';

export function allowlistAsLocalActivity() {
  return proxyLocalActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
  }).checkTarget;
}
