// The incident's activities, each with its timeout and retry policy: what a retry may and may not
// repeat is decided here, in one place, from the incident's settings. What touches the engine runs on the
// incident's host queue (the host's worker owns its engine socket), the decision on the central queue, and
// the runbook's write on the runbook's single writer (one process owns the file). Histories without
// `routes` take the routes of legacy/routes.ts.
import { proxyActivities } from '@temporalio/workflow';
import type { MedicActivities } from '../../activities/index.js';
import { FAILURE, REMEDY_FINAL_FAILURES } from '../../domain/failures.js';
import { RESTART_ATTEMPTS, restartAttemptTimeoutMs, verificationCadence } from '../../domain/incident.js';
import type { IncidentSettings } from '../../domain/settings.js';
import { defaultMs } from '../../domain/settings-table.js';
import { allowlistAsLocalActivity } from '../legacy/routes.js';

/** Where an incident's activities run: its host's queue and the runbook writer's. */
export interface ActivityRoutes {
  hostQueue: string;
  runbookQueue: string;
}

/** An alert naming a host no worker serves waits this long for the first task to be taken (MEDIC_HOST_WAIT). */
export const DEFAULT_HOST_WAIT_MS = defaultMs('MEDIC_HOST_WAIT');
/** A restart attempt heartbeats every second: a worker that died mid-restart is noticed this soon. */
const RESTART_HEARTBEAT_TIMEOUT = '5s';

/**
 * `waitsForEngine` (patch `engine-outage-wait`, engine-outage.ts): an engine that does not answer fails
 * the step at once, and the incident waits for the engine, saying so; without it this policy retries it.
 */
export function incidentActivities(
  settings: IncidentSettings,
  routes?: ActivityRoutes,
  waitsForEngine = false,
) {
  const onHost = routes ? { taskQueue: routes.hostQueue } : {};
  const engineFinal: string[] = waitsForEngine ? [FAILURE.engineUnavailable] : [];
  const { diagnose } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  // Split diagnosis: the host gathers what its engine shows, the central queue decides.
  const { gatherEvidence } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3, initialInterval: '1s', nonRetryableErrorTypes: engineFinal },
  });
  const { diagnoseEvidence } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  // Compare-and-act on the start time makes a retried restart safe; a missing or unmanaged container is final.
  const { restartContainer } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: restartAttemptTimeoutMs(settings),
    heartbeatTimeout: RESTART_HEARTBEAT_TIMEOUT,
    retry: {
      maximumAttempts: RESTART_ATTEMPTS,
      initialInterval: '2s',
      nonRetryableErrorTypes: [FAILURE.containerNotFound, FAILURE.targetNotManaged, ...engineFinal],
    },
  });
  const remedies = remedyActivities(settings, onHost, engineFinal);
  const { verifyHealth, verifyHealthPaced } = verifyActivities(settings, onHost);
  // One look, no retries: a NOOP or a sender's `resolved` is taken only for a target healthy now.
  const { verifyHealth: checkHealthOnce } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 1 },
  });
  // No schedule-to-start timeout: while the writer is down the write waits in its queue, never lost.
  const { recordRunbookOutcome } = proxyActivities<MedicActivities>({
    ...(routes ? { taskQueue: routes.runbookQueue } : {}),
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 10, initialInterval: '1s', nonRetryableErrorTypes: [FAILURE.runbookFormat] },
  });
  // Notifications are best effort and may happen while a lease is held: bounded, so they cannot
  // hold a target for long.
  const { notify } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  return {
    diagnose,
    gatherEvidence,
    diagnoseEvidence,
    restartContainer,
    verifyHealth,
    verifyHealthPaced,
    checkHealthOnce,
    recordRunbookOutcome,
    notify,
    checkTarget: targetCheck(settings, routes, engineFinal),
    ...remedies,
  };
}

/**
 * A plan's remedies beyond the restart (patch `remedy-plans`), on the target's host: each compare-and-act and
 * issued once across retries and a worker's death (activities/remedies), heartbeating while the engine works;
 * what they compare having changed, or an engine that cannot do it, is final.
 */
function remedyActivities(settings: IncidentSettings, onHost: { taskQueue?: string }, engineFinal: string[]) {
  const retry = {
    maximumAttempts: RESTART_ATTEMPTS,
    initialInterval: '2s',
    nonRetryableErrorTypes: [...REMEDY_FINAL_FAILURES, ...engineFinal],
  };
  // A rollback stops one container and starts another: twice a restart's time.
  const onEngine = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: restartAttemptTimeoutMs(settings) * 2,
    heartbeatTimeout: RESTART_HEARTBEAT_TIMEOUT,
    retry,
  });
  // A declared action is bounded by its own timeout (10 s for HTTP, 30 s for a command); it heartbeats
  // from the moment it is about to send.
  const { runServiceAction } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '10s',
    retry,
  });
  // Lists a restarted target's unhealthy dependents and opens their incidents: it touches nothing.
  const { raiseDependents } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3, initialInterval: '1s', nonRetryableErrorTypes: engineFinal },
  });
  return {
    raiseDependents,
    rollbackContainer: onEngine.rollbackContainer,
    finishRollback: onEngine.finishRollback,
    undoRollback: onEngine.undoRollback,
    raiseMemoryLimit: onEngine.raiseMemoryLimit,
    restoreMemoryLimit: onEngine.restoreMemoryLimit,
    runServiceAction,
  };
}

/** The health checks after a restart, on the target's host: the old retry-policy backoff and the paced one. */
function verifyActivities(settings: IncidentSettings, onHost: { taskQueue?: string }) {
  // Throws while unhealthy: this retry policy is the verification's exponential backoff.
  const { verifyHealth } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: settings.healthRetry.initialIntervalMs,
      backoffCoefficient: settings.healthRetry.backoffCoefficient,
      maximumAttempts: settings.healthRetry.maximumAttempts,
      nonRetryableErrorTypes: [FAILURE.containerNotFound],
    },
  });
  // The paced verification: the first attempt probes fast for the first window, then this policy
  // takes over at the old policy's second wait (domain/incident.ts verificationCadence).
  const cadence = verificationCadence(settings.healthRetry);
  const { verifyHealth: verifyHealthPaced } = proxyActivities<MedicActivities>({
    ...onHost,
    startToCloseTimeout: cadence.attemptTimeoutMs,
    retry: {
      initialInterval: cadence.retry.initialIntervalMs,
      maximumInterval: cadence.retry.maximumIntervalMs,
      backoffCoefficient: cadence.retry.backoffCoefficient,
      maximumAttempts: cadence.retry.maximumAttempts,
      nonRetryableErrorTypes: [FAILURE.containerNotFound],
    },
  });
  return { verifyHealth, verifyHealthPaced };
}

/**
 * The allowlist check, the incident's first task on its host: its schedule-to-start timeout bounds the wait
 * for a host no worker serves (not retried: the incident escalates).
 */
function targetCheck(settings: IncidentSettings, routes: ActivityRoutes | undefined, engineFinal: string[]) {
  if (!routes) return allowlistAsLocalActivity();
  return proxyActivities<MedicActivities>({
    taskQueue: routes.hostQueue,
    scheduleToStartTimeout: settings.hostWaitMs ?? DEFAULT_HOST_WAIT_MS,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5, initialInterval: '1s', nonRetryableErrorTypes: engineFinal },
  }).checkTarget;
}

export type IncidentActivities = ReturnType<typeof incidentActivities>;
