// Every side effect of an incident, built from injected dependencies so the worker, tests and
// benchmarks wire in the real engine, runbook file and notifier of their choice.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { IncidentSettings } from '../domain/settings.js';
import { differingSettings } from '../domain/settings.js';
import type { ActionRecord, Diagnosis, VerificationResult } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { type AllowlistOptions, checkTarget, type TargetCheck } from './allowlist.js';
import { ContainerNotFoundError, type ContainerRuntime } from './containers.js';
import {
  createDiagnosisPipeline,
  type DiagnoseInput,
  type DiagnosisSettings,
  describeTrail,
  RULES_ONLY,
} from './diagnose/index.js';
import { checkContainerHealth } from './health.js';
import type { Notification, Notifier } from './notify.js';
import { type OutcomeRecord, type RecordResult, RunbookFormatError, type RunbookStore } from './runbook.js';

export interface ActivityDeps {
  /**
   * The incident settings of the worker that runs the workflows: dry-run, the severity table, limits,
   * budgets. They, not those of whichever process started an incident, are the ones that apply.
   */
  incidentSettings: IncidentSettings;
  runtime: ContainerRuntime;
  runbook: RunbookStore;
  notifier: Notifier;
  logger: Logger;
  healthProbeTimeoutMs?: number;
  /** Providers and their settings; without it only the runbook and the rules diagnose. */
  diagnosis?: DiagnosisSettings;
  /** Protected names and the label's text for the allowlist's messages. */
  allowlist?: AllowlistOptions;
}

export interface RestartInput {
  incidentId: string;
  target: string;
  /** The start time seen at diagnosis: restart only if the container still runs that process. */
  expectedStartedAt: string;
  stopTimeoutMs: number;
}

export interface VerifyHealthInput {
  target: string;
}

export function createActivities(deps: ActivityDeps) {
  const { runtime, runbook, notifier, logger } = deps;
  const probeTimeoutMs = deps.healthProbeTimeoutMs ?? 3000;
  const pipeline = createDiagnosisPipeline({ runtime, runbook, settings: deps.diagnosis ?? RULES_ONLY });

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

    /** The target allowlist, checked before anything else looks at or touches the target. */
    async checkTarget(input: { target: string }): Promise<TargetCheck> {
      const verdict = await checkTarget(runtime, input.target, deps.allowlist ?? {});
      if (!verdict.allowed) logger.warn({ target: input.target, reason: verdict.reason }, 'target refused');
      return verdict;
    },

    async diagnose(input: DiagnoseInput): Promise<Diagnosis> {
      const result = await pipeline.diagnose(input);
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
    },

    /**
     * Compare-and-act: a retry after a restart that already happened sees a new start time and stops,
     * and the restart goes to the id whose name and start time were compared.
     */
    async restartContainer(input: RestartInput): Promise<Omit<ActionRecord, 'at'>> {
      const before = await runtime.inspect(input.target);
      if (!before) {
        throw ApplicationFailure.nonRetryable(
          `container ${input.target} no longer exists`,
          'ContainerNotFound',
        );
      }
      if (before.name !== input.target) {
        throw ApplicationFailure.nonRetryable(
          `${input.target} resolves to container ${before.name} (${before.id.slice(0, 12)}), not to a container of that name; refusing to touch it`,
          'TargetNameMismatch',
        );
      }
      if (!before.managed) {
        throw ApplicationFailure.nonRetryable(
          `container ${input.target} is not managed by Medic; refusing to touch it`,
          'TargetNotManaged',
        );
      }
      if (before.startedAt !== input.expectedStartedAt) {
        logger.info(
          { target: input.target, incidentId: input.incidentId },
          'restart skipped: already restarted',
        );
        return {
          action: 'RESTART',
          outcome: 'already-restarted',
          detail: `start time changed since diagnosis (${input.expectedStartedAt} -> ${before.startedAt}); not restarting again`,
          previousStartedAt: input.expectedStartedAt,
          newStartedAt: before.startedAt,
        };
      }
      // By the id just inspected: the container whose name, label and start time were checked, not
      // whatever the name means by the time the engine acts (a replacement's restart then fails as gone).
      try {
        await runtime.restart(before.id, { stopTimeoutMs: input.stopTimeoutMs });
      } catch (err) {
        if (err instanceof ContainerNotFoundError)
          throw ApplicationFailure.nonRetryable(err.message, 'ContainerNotFound');
        throw err;
      }
      const after = await runtime.inspect(before.id);
      logger.info({ target: input.target, incidentId: input.incidentId }, 'container restarted');
      return {
        action: 'RESTART',
        outcome: 'restarted',
        detail: `restarted through the ${runtime.kind}`,
        previousStartedAt: input.expectedStartedAt,
        newStartedAt: after?.startedAt,
      };
    },

    /** Throws while unhealthy, so the workflow's retry policy provides the exponential backoff. */
    async verifyHealth(input: VerifyHealthInput): Promise<VerificationResult> {
      const { attempt } = Context.current().info;
      const info = await runtime.inspect(input.target);
      if (!info) {
        throw ApplicationFailure.nonRetryable(
          `container ${input.target} no longer exists`,
          'ContainerNotFound',
        );
      }
      const probe = await checkContainerHealth(info, probeTimeoutMs);
      if (probe.refused) throw ApplicationFailure.nonRetryable(probe.detail, 'HealthUrlRefused');
      if (!probe.ok) {
        logger.info({ target: input.target, attempt, detail: probe.detail }, 'not healthy yet');
        throw ApplicationFailure.retryable(`attempt ${attempt}: ${probe.detail}`, 'Unhealthy');
      }
      return { healthy: true, attempts: attempt, detail: probe.detail, checkedAt: new Date().toISOString() };
    },

    async recordRunbookOutcome(record: OutcomeRecord): Promise<RecordResult> {
      try {
        const result = await runbook.recordOutcome(record);
        logger.info({ incidentId: record.incidentId, ...result, outcome: record.outcome }, 'runbook updated');
        return result;
      } catch (err) {
        if (err instanceof RunbookFormatError)
          throw ApplicationFailure.nonRetryable(err.message, 'RunbookFormat');
        throw err;
      }
    },

    async notify(notification: Notification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}

export type MedicActivities = ReturnType<typeof createActivities>;
