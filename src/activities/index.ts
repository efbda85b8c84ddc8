// Every side effect of an incident, built from injected dependencies so the worker, tests and
// benchmarks wire in the real engine, runbook file and notifier of their choice. Two halves: what
// touches a host's engine (createHostActivities, run by that host's worker on its queue) and what
// decides, learns and tells (createCentralActivities, run by the central worker, which owns the safety
// settings, the model providers and the runbook). createActivities is both, for a single-host Medic.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../domain/failures.js';
import { DEFAULT_LOG_LIMITS } from '../domain/log-bounds.js';
import type { RunbookEntry, RunbookListing } from '../domain/runbook.js';
import type { IncidentSettings } from '../domain/settings.js';
import { differingSettings } from '../domain/settings.js';
import type { ActionRecord, Diagnosis, VerificationResult } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { HealthyImages } from '../temporal/healthy-image-port.js';
import { type AllowlistOptions, checkTarget, type TargetCheck } from './allowlist.js';
import type { ContainerInfo, ContainerRuntime } from './containers.js';
import {
  createDiagnosisPipeline,
  type DiagnoseInput,
  type DiagnosisSettings,
  describeTrail,
  type Evidence,
  gatherEvidence,
  RULES_ONLY,
} from './diagnose/index.js';
import { onEngine, whileHeartbeating } from './engine-call.js';
import { containerHealthProbe, probeUntilHealthy } from './health.js';
import { noteHealthyImage } from './healthy-image.js';
import type { Notification, Notifier } from './notify.js';
import { createRemedyActivities, REMEDY_ACTIVITY_NAMES } from './remedies/index.js';
import { type RestartInput, restartOnce } from './restart.js';
import {
  type OutcomeRecord,
  type RecordResult,
  RunbookFormatError,
  type RunbookStore,
  runbookEntry,
} from './runbook.js';
import type { RaiseEngineAlert } from './watch/raise-alert.js';

/** What a host worker needs: its engine, and how to judge and probe what runs there. */
export interface HostActivityDeps {
  runtime: ContainerRuntime;
  logger: Logger;
  healthProbeTimeoutMs?: number;
  /** Protected names and the label's text for the allowlist's messages. */
  allowlist?: AllowlistOptions;
  /** MEDIC_DRY_RUN of this worker: its restarts touch nothing, whoever asks. */
  dryRun?: boolean;
  /** Where a target's last healthy image is kept (its guard): read for evidence, told on a verified health. */
  healthyImages?: HealthyImages;
  /** Evidence time box and log limits (the diagnosis settings' own, where one process does both). */
  evidence?: Pick<DiagnosisSettings, 'evidenceTimeoutMs' | 'logLimits'>;
  /** Opens an incident for a container: a restarted target's unhealthy dependents get their own. */
  raiseAlert?: RaiseEngineAlert;
}

/** What the central worker needs: the safety settings, the runbook, the notifier and the providers. */
export interface CentralActivityDeps {
  /**
   * The incident settings of the worker that runs the workflows: dry-run, the severity table, limits,
   * budgets. They, not those of whichever process started an incident, are the ones that apply.
   */
  incidentSettings: IncidentSettings;
  runbook: RunbookStore;
  notifier: Notifier;
  logger: Logger;
  /** Providers and their settings; without it only the runbook and the rules diagnose. */
  diagnosis?: DiagnosisSettings;
}

export type ActivityDeps = HostActivityDeps & CentralActivityDeps;

export interface VerifyHealthInput {
  target: string;
  /**
   * The first attempt probes fast for this long while the target is down (health.ts FAST_PROBE_GAPS), so
   * a service that is back in 100 ms is seen within about 100 ms; absent (the old path of patch
   * `verify-cadence`), it probes once.
   */
  firstWindowMs?: number;
}

/** The activities that touch one host's engine; a host worker runs them on `<queue>-host-<name>`. */
export function createHostActivities(deps: HostActivityDeps) {
  const { runtime, logger } = deps;
  const probeTimeoutMs = deps.healthProbeTimeoutMs ?? 3000;
  return {
    ...createRemedyActivities(deps),

    /** The target allowlist, checked before anything else looks at or touches the target. */
    async checkTarget(input: { target: string }): Promise<TargetCheck> {
      const verdict = await onEngine(runtime, () => checkTarget(runtime, input.target, deps.allowlist ?? {}));
      if (!verdict.allowed) logger.warn({ target: input.target, reason: verdict.reason }, 'target refused');
      return verdict;
    },

    /** What the engine shows of the target, for the central worker to diagnose on. */
    async gatherEvidence(input: DiagnoseInput): Promise<Evidence> {
      return onEngine(runtime, () =>
        gatherEvidence(
          input,
          runtime,
          deps.evidence?.evidenceTimeoutMs,
          deps.evidence?.logLimits ?? DEFAULT_LOG_LIMITS,
          deps.healthyImages,
        ),
      );
    },

    /**
     * Compare-and-act, issued once (restart.ts). It heartbeats while the engine works, so a worker that dies
     * mid-restart is noticed within the heartbeat timeout, not the attempt's start-to-close timeout, and the
     * retry (on another worker) compares again. A worker in dry-run touches nothing, whatever the incident
     * believes.
     */
    async restartContainer(input: RestartInput): Promise<Omit<ActionRecord, 'at'>> {
      const dryRun = deps.dryRun ?? false;
      return whileHeartbeating(() =>
        onEngine(runtime, () => restartOnce(runtime, logger, input, { dryRun })),
      );
    },

    /**
     * Throws while unhealthy, so the workflow's retry policy provides the exponential backoff; the first
     * attempt of a paced verification probes fast for its window first.
     */
    async verifyHealth(input: VerifyHealthInput): Promise<VerificationResult> {
      const context = Context.current();
      const { attempt } = context.info;
      const windowMs = attempt === 1 ? (input.firstWindowMs ?? 0) : 0;
      let seen: ContainerInfo | undefined;
      const inspect = async () => {
        const info = await runtime.inspect(input.target);
        seen = info;
        if (!info) {
          throw ApplicationFailure.nonRetryable(
            `container ${input.target} no longer exists`,
            FAILURE.containerNotFound,
          );
        }
        return info;
      };
      const probe = await probeUntilHealthy(containerHealthProbe(inspect, probeTimeoutMs), windowMs, (ms) =>
        context.sleep(ms),
      );
      if (probe.refused) throw ApplicationFailure.nonRetryable(probe.detail, FAILURE.healthUrlRefused);
      const probes = probe.probes > 1 ? ` (probe ${probe.probes} of this check)` : '';
      if (!probe.ok) {
        logger.info({ target: input.target, attempt, detail: probe.detail }, 'not healthy yet');
        throw ApplicationFailure.retryable(`attempt ${attempt}: ${probe.detail}${probes}`, FAILURE.unhealthy);
      }
      await noteHealthyImage(deps, seen);
      return {
        healthy: true,
        attempts: attempt,
        detail: `${probe.detail}${probes}`,
        checkedAt: new Date().toISOString(),
      };
    },
  };
}

/** The activities that decide, learn and tell; the central worker runs them (never touching an engine). */
export function createCentralActivities(deps: CentralActivityDeps) {
  const { runbook, notifier, logger } = deps;
  const pipeline = createDiagnosisPipeline({ runbook, settings: deps.diagnosis ?? RULES_ONLY });
  const trust = (deps.diagnosis ?? RULES_ONLY).runbookTrust;
  return {
    /**
     * The settings this worker runs incidents with, and which of the starter's differ: the worker owns
     * the safety settings, so a dry-run or a stricter policy set on it alone still holds for every incident.
     */
    async workerIncidentSettings(input: {
      workflowId: string;
      starter: IncidentSettings;
    }): Promise<{ settings: IncidentSettings; differing: string[] }> {
      const differing = differingSettings(deps.incidentSettings, input.starter);
      if (differing.length > 0) {
        logger.warn(
          { workflowId: input.workflowId, differing },
          'the process that started this incident has other incident settings than this worker; the worker’s apply',
        );
      }
      return { settings: deps.incidentSettings, differing };
    },

    /** The runbook, then the models, then the rules, on evidence the target's host gathered. */
    async diagnoseEvidence(input: { input: DiagnoseInput; evidence: Evidence }): Promise<Diagnosis> {
      return logDiagnosis(logger, input.input, await pipeline.decide(input.input, input.evidence));
    },

    /**
     * On the runbook queue's one activity slot, its single writer (so are the two below); incidents on the old path of patch
     * `host-queues` call it on the central queue.
     */
    async recordRunbookOutcome(record: OutcomeRecord): Promise<RecordResult> {
      const result = await runbookFormatIsFinal(() => runbook.recordOutcome(record));
      logger.info({ incidentId: record.incidentId, ...result, outcome: record.outcome }, 'runbook updated');
      return result;
    },

    /** The fixes with their counts, rate and standing, read by the file's writer (GET /runbook). */
    async listRunbook(input: { notAfter: string }): Promise<RunbookListing> {
      stillWanted(input.notAfter);
      const { fixes } = await runbookFormatIsFinal(() => runbook.read());
      return { fixes: fixes.map((f) => runbookEntry(f, trust)), trust };
    },

    /** A person turns one fix off or on (POST /runbook/:id/disable|enable); `at` is the request's time. */
    async setFixEnabled(input: FixToggleInput): Promise<FixToggleResult> {
      stillWanted(input.notAfter);
      const { fixId, enabled, by, note, at } = input;
      const done = await runbookFormatIsFinal(() =>
        runbook.setEnabled(fixId, { enabled, by, at, ...(note ? { note } : {}) }),
      );
      if (!done) return { found: false };
      logger.info({ fixId, enabled, by, changed: done.changed }, enabled ? 'fix enabled' : 'fix disabled');
      return { found: true, fix: runbookEntry(done.fix, trust), changed: done.changed };
    },

    async notify(notification: Notification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}

export interface FixToggleInput {
  fixId: string;
  enabled: boolean;
  by: string;
  note?: string;
  at: string;
  /** Past it the caller has stopped waiting: nothing is done. */
  notAfter: string;
}

export type FixToggleResult = { found: false } | { found: true; fix: RunbookEntry; changed: boolean };

/** A runbook request that reached the writer after its caller gave up does nothing (it was told 503). */
function stillWanted(notAfter: string): void {
  if (Date.now() <= Date.parse(notAfter)) return;
  throw ApplicationFailure.nonRetryable(
    `this runbook request reached its writer after ${notAfter}, when its caller had stopped waiting; nothing was done`,
    FAILURE.runbookRequestExpired,
  );
}

/** A runbook that cannot be read as written is not retried: a person must repair it. */
async function runbookFormatIsFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RunbookFormatError)
      throw ApplicationFailure.nonRetryable(err.message, FAILURE.runbookFormat);
    throw err;
  }
}

function logDiagnosis(logger: Logger, input: DiagnoseInput, result: Diagnosis): Diagnosis {
  logger.info(
    {
      target: input.target,
      alertType: input.alertType,
      source: result.source,
      action: result.action,
      confidence: result.confidence,
      trail: describeTrail(result.trail),
    },
    'diagnosed',
  );
  return result;
}

/**
 * Both halves in one process (a single-host Medic), plus `diagnose`, the whole diagnosis in one activity,
 * which incidents on the old path of patch `host-queues` call.
 */
export function createActivities(deps: ActivityDeps) {
  const pipeline = createDiagnosisPipeline({
    runtime: deps.runtime,
    runbook: deps.runbook,
    settings: deps.diagnosis ?? RULES_ONLY,
  });
  return {
    ...createCentralActivities(deps),
    ...createHostActivities({
      ...deps,
      ...(deps.diagnosis ? { evidence: deps.diagnosis } : {}),
    }),
    async diagnose(input: DiagnoseInput): Promise<Diagnosis> {
      return logDiagnosis(deps.logger, input, await pipeline.diagnose(input));
    },
  };
}

/** The names of the activities a host worker runs (the engine watch's come with its own factory). */
export const HOST_ACTIVITY_NAMES = [
  'checkTarget',
  'gatherEvidence',
  'restartContainer',
  'verifyHealth',
  ...REMEDY_ACTIVITY_NAMES,
] as const;

/** The activities of the runbook's single writer, on `<queue>-runbook` with one slot: it alone opens the file. */
export const RUNBOOK_ACTIVITY_NAMES = ['recordRunbookOutcome', 'listRunbook', 'setFixEnabled'] as const;

export type HostActivities = ReturnType<typeof createHostActivities>;
export type CentralActivities = ReturnType<typeof createCentralActivities>;
export type MedicActivities = ReturnType<typeof createActivities>;
