// The incident's activities, each with its timeout and retry policy: what a retry may and may not
// repeat is decided here, in one place, from the incident's settings.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import { RESTART_ATTEMPTS, restartAttemptTimeoutMs } from '../domain/incident.js';
import type { IncidentSettings } from '../domain/settings.js';

export function incidentActivities(settings: IncidentSettings) {
  const { diagnose } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  // Compare-and-act on the start time makes a retried restart safe; a missing or unmanaged container is final.
  const { restartContainer } = proxyActivities<MedicActivities>({
    startToCloseTimeout: restartAttemptTimeoutMs(settings),
    retry: {
      maximumAttempts: RESTART_ATTEMPTS,
      initialInterval: '2s',
      nonRetryableErrorTypes: ['ContainerNotFound', 'TargetNotManaged'],
    },
  });
  // Throws while unhealthy: this retry policy is the verification's exponential backoff.
  const { verifyHealth } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: settings.healthRetry.initialIntervalMs,
      backoffCoefficient: settings.healthRetry.backoffCoefficient,
      maximumAttempts: settings.healthRetry.maximumAttempts,
      nonRetryableErrorTypes: ['ContainerNotFound'],
    },
  });
  const { recordRunbookOutcome } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 10, initialInterval: '1s', nonRetryableErrorTypes: ['RunbookFormat'] },
  });
  // Notifications are best effort and may happen while a lease is held: bounded, so they cannot
  // hold a target for long.
  const { notify } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  // A local activity: one engine inspect, done in a moment; it costs the server one marker event
  // instead of a scheduled task, which matters when a storm opens hundreds of incidents at once.
  const { checkTarget } = proxyLocalActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
  });
  return { diagnose, restartContainer, verifyHealth, recordRunbookOutcome, notify, checkTarget };
}

export type IncidentActivities = ReturnType<typeof incidentActivities>;
