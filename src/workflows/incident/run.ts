// One run of an incident workflow: its state, its alert ledger and the flags its handlers set, plus the
// ways it tells its story (timeline, status and search attributes, notifications, the runbook). The
// workflow's steps share this object instead of twenty closures in one scope.
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  isCancellation,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import type { Notification, NotificationEvent } from '../activities/notify.js';
import {
  type AlertLedger,
  applyAlert,
  judgeSenderResolved,
  newAlertLedger,
  newIncidentState,
  recordEvent,
} from '../domain/incident.js';
import { addPhase, incidentCurrentDetails } from '../domain/incident-story.js';
import { checkAlertPayload, checkResolvedPayload } from '../domain/message-checks.js';
import { hostTaskQueue, LOCAL_HOST, runbookTaskQueue } from '../domain/naming.js';
import type { IncidentSettings } from '../domain/settings.js';
import type {
  Diagnosis,
  FixOutcome,
  IncidentState,
  IncidentStatus,
  Phase,
  ResolvedPayload,
} from '../domain/types.js';
import { type ActivityRoutes, type IncidentActivities, incidentActivities } from './incident-activities.js';
import { incidentMetrics } from './incident-metrics.js';
import { alertSignal, resolvedSignal, statusQuery } from './messages.js';
import { IncidentSeverityKey, IncidentStatusKey } from './search-attributes.js';
import { isPatched } from './versions.js';

export interface IncidentWorkflowInput {
  target: string;
  alertType: string;
  /** The container host of the target; absent (incidents from before hosts were named): `local`. */
  host?: string;
  settings: IncidentSettings;
  /**
   * An incident refused by the allowlist, carried over by continue-as-new while it absorbs a storm
   * of copies of its alert (ingest).
   */
  refused?: IncidentState;
  /** Delivery ids already counted, carried over by continue-as-new (ingest). */
  seenDeliveries?: string[];
  /** An incident carried over by continue-as-new while it waited, and what it was waiting for. */
  resume?: IncidentResume;
}

/** Where a long wait left off: a person's decision (with the ladder's progress), or a recurrence. */
export type ResumePoint =
  | {
      for: 'decision';
      reason: string;
      proposed: string;
      waitStartedMs: number;
      level: number;
      stepEndsAtMs?: number;
    }
  | { for: 'recurrence'; firedAtFix: number; fixedAtMs: number };

export interface IncidentResume {
  state: IncidentState;
  ledger: AlertLedger;
  dryRun: boolean;
  waiting: ResumePoint;
}

/**
 * Past this many history events an incident that is waiting continues as new, even where the server does
 * not suggest it: a long approval wait under an alert storm must never reach Temporal's history limits.
 */
export const DEFAULT_HISTORY_EVENTS_LIMIT = 10_000;

const nowIso = () => new Date().toISOString();
/** The status an outcome's notification reports: it is sent just before the incident closes. */
const OUTCOME_STATUS: Partial<Record<NotificationEvent, IncidentStatus>> = {
  failed: 'FAILED',
  'needs-person': 'ESCALATED',
};

export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeFailure(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** No worker took the task from its queue in time: nobody serves that host (or its worker is down). */
export function noWorkerTookIt(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

type SearchAttributeUpdate = Parameters<typeof upsertSearchAttributes>[0];

export class IncidentRun {
  readonly state: IncidentState;
  readonly ledger: AlertLedger;
  /** The worker's settings once adopted (adoptWorkerSettings); until then the starter's. */
  settings: IncidentSettings;
  activities: IncidentActivities;
  /** The sender's `resolved`, accepted before Medic acted: the incident closes as recovered by itself. */
  resolvedBySender: ResolvedPayload | undefined;
  /** Medic has started acting on the target; a `resolved` now says nothing about Medic's fix. */
  acting = false;
  dryRun = false;
  /** The container host of the target: its guard, its queue. */
  readonly host: string;
  /** Where the activities run, for incidents since hosts were named; undefined for older ones. */
  readonly routes: ActivityRoutes | undefined;
  /** Steps that need the engine wait for it while it does not answer (MEDIC_ENGINE_OUTAGE_WAIT). */
  readonly waitsForEngine: boolean;

  constructor(readonly input: IncidentWorkflowInput) {
    const info = workflowInfo();
    this.host = input.host ?? LOCAL_HOST;
    this.routes = isPatched('host-queues')
      ? {
          hostQueue: hostTaskQueue(info.taskQueue, this.host),
          runbookQueue: runbookTaskQueue(info.taskQueue),
        }
      : undefined;
    this.waitsForEngine = isPatched('engine-outage-wait');
    this.settings = input.settings;
    this.activities = incidentActivities(input.settings, this.routes, this.waitsForEngine);
    this.dryRun = input.resume?.dryRun ?? false;
    this.state =
      input.resume?.state ??
      input.refused ??
      newIncidentState({
        id: info.firstExecutionRunId,
        workflowId: info.workflowId,
        target: input.target,
        ...(input.host ? { host: input.host } : {}),
        alertType: input.alertType,
        openedAt: nowIso(),
      });
    this.ledger = input.resume?.ledger ?? newAlertLedger(input.seenDeliveries);
    this.passStartedMs = Date.parse(this.state.openedAt);
    // Continue-as-new drops the static summary's details: a carried-over run tells its story at once.
    if (input.resume || input.refused) this.showDetails();
  }

  /** When this pass began (its first alert, or the reopening): time to healthy counts from here. */
  passStartedMs: number;

  /** The Web UI's current details: the incident in words, after every step. */
  showDetails(): void {
    setCurrentDetails(incidentCurrentDetails(this.state));
  }

  /** Times a phase: its milliseconds go to the state's `phases` and to the phase histogram. */
  async timed<T>(phase: Phase, step: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await step();
    } finally {
      this.notePhase(phase, Date.now() - started);
    }
  }

  notePhase(phase: Phase, elapsedMs: number): void {
    addPhase(this.state, phase, elapsedMs);
    incidentMetrics.phase(phase, elapsedMs);
    this.showDetails();
  }

  /**
   * The worker that runs the workflows owns the safety settings (dry-run, severity table, limits,
   * budgets): the starter's, captured by the API or the watcher, only show where they differ. Incidents
   * that began before this rule keep the settings they started with.
   */
  async adoptWorkerSettings(): Promise<void> {
    if (!isPatched('settings-from-worker')) return;
    const { workerIncidentSettings } = proxyLocalActivities<MedicActivities>({
      startToCloseTimeout: '10s',
      retry: { maximumAttempts: 5, initialInterval: '1s' },
    });
    const { settings, differing } = await workerIncidentSettings({
      workflowId: this.state.workflowId,
      starter: this.input.settings,
    });
    this.settings = settings;
    this.activities = incidentActivities(settings, this.routes, this.waitsForEngine);
    if (differing.length > 0) {
      const keys = differing.join(', ');
      this.record('settings-differ', `the starter's ${keys} differ from the worker's; the worker's apply`);
    }
  }

  /** Temporal suggests a new run, or the history has grown past the configured limit. */
  shouldContinueAsNew(): boolean {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    const limit = this.settings.historyEventsLimit ?? DEFAULT_HISTORY_EVENTS_LIMIT;
    return continueAsNewSuggested || historyLength > limit;
  }

  /** Continues as new where the wait left off, carrying the state, the alert ledger and the settings. */
  async continueAsNew(waiting: ResumePoint): Promise<never> {
    this.record(
      'continued-as-new',
      `history at ${workflowInfo().historyLength} events: continuing in a new run`,
    );
    const resume: IncidentResume = { state: this.state, ledger: this.ledger, dryRun: this.dryRun, waiting };
    const { refused: _refused, seenDeliveries: _seen, ...rest } = this.input;
    return continueAsNew<(input: IncidentWorkflowInput) => Promise<IncidentState>>({
      ...rest,
      settings: this.settings,
      resume,
    });
  }

  /** The status query, the sender's alerts and its `resolved`. */
  listen(): void {
    setHandler(statusQuery, () => this.state);
    setHandler(alertSignal, (alert) => {
      const problem = checkAlertPayload(alert, this.state.target, this.host);
      if (problem) return this.record('alert-refused', `an alert signal was refused: ${problem}`);
      const effect = applyAlert(this.state, this.ledger, alert, {
        at: nowIso(),
        refused: !!this.input.refused,
      });
      if (effect.kind === 'repeat' && effect.severityRaised) {
        this.upsert([{ key: IncidentSeverityKey, value: this.state.severity }]);
      }
    });
    setHandler(resolvedSignal, (payload) => {
      const problem = checkResolvedPayload(payload);
      if (problem) return this.record('resolved-refused', `a resolved signal was refused: ${problem}`);
      if (this.resolvedBySender) return;
      const verdict = judgeSenderResolved(this.state, this.ledger, payload, {
        at: nowIso(),
        acting: this.acting,
      });
      if (verdict === 'accepted') this.resolvedBySender = payload;
    });
  }

  /** Search attributes need registering on the server; one that cannot runs incidents with indexing off. */
  upsert(attributes: SearchAttributeUpdate): void {
    if (this.settings.searchAttributes) upsertSearchAttributes(attributes);
  }

  record(event: string, detail: string): void {
    recordEvent(this.state, nowIso(), event, detail);
    this.showDetails();
  }

  setStatus(status: IncidentStatus, detail: string): void {
    this.state.status = status;
    this.record(status, detail);
    this.upsert([{ key: IncidentStatusKey, value: status }]);
  }

  close(status: IncidentStatus, detail: string): IncidentState {
    this.setStatus(status, detail);
    this.state.closedAt = nowIso();
    incidentMetrics.closed(this.state);
    return this.state;
  }

  recoveredByItself(): IncidentState {
    return this.close(
      'RESOLVED',
      `recovered by itself: ${this.resolvedBySender?.source} reported the alert resolved before Medic acted; no action taken`,
    );
  }

  /** Best effort: a notifier that is down shows in the timeline and never fails the incident. */
  async tell(
    event: NotificationEvent,
    level: Notification['level'],
    title: string,
    message: string,
    recipient?: string,
  ): Promise<void> {
    const { state } = this;
    const diagnosis = state.diagnosis;
    try {
      await this.activities.notify.executeWithOptions(
        { summary: `notify ${recipient ?? 'people'}: ${title}` },
        [
          {
            level,
            workflowId: state.workflowId,
            incidentId: state.id,
            target: state.target,
            title,
            message,
            ...(recipient ? { recipient } : {}),
            // The facts a receiver needs to say what happened and what to do next.
            event,
            alertType: state.alertType,
            severity: state.severity,
            status: OUTCOME_STATUS[event] ?? state.status,
            ...(diagnosis
              ? {
                  proposed: {
                    action: diagnosis.action,
                    reason: state.approval?.reason ?? diagnosis.justification,
                  },
                  diagnosis: {
                    source: diagnosis.source,
                    rootCause: diagnosis.rootCause,
                    confidence: diagnosis.confidence,
                  },
                }
              : {}),
          },
        ],
      );
      this.record('notified', `${level}${recipient ? ` to ${recipient}` : ''}: ${title}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.record('notify-failed', describeFailure(err));
    }
  }

  /** Counts the outcome against the fix's signature in the runbook, once per incident pass. */
  learn(diagnosis: Diagnosis, outcome: FixOutcome, note?: string): Promise<void> {
    return this.timed('record', () => this.learnOutcome(diagnosis, outcome, note));
  }

  private async learnOutcome(diagnosis: Diagnosis, outcome: FixOutcome, note?: string): Promise<void> {
    const { state } = this;
    const summary = `record ${outcome} for ${state.target} in the runbook (${diagnosis.errorSignature.slice(0, 60)})`;
    try {
      const result = await this.activities.recordRunbookOutcome.executeWithOptions({ summary }, [
        {
          // The runbook keeps one entry per incident and outcome; a reopened incident's passes are distinct.
          incidentId: state.recurrences ? `${state.id}/reopened-${state.recurrences}` : state.id,
          workflowId: state.workflowId,
          target: state.target,
          alertType: state.alertType,
          errorSignature: diagnosis.errorSignature,
          action: diagnosis.action,
          rootCause: diagnosis.rootCause,
          outcome,
          note,
          at: nowIso(),
        },
      ]);
      state.runbookEntryId = result.fixId;
      this.record('runbook', `${outcome} recorded in ${result.fixId}${result.created ? ' (new fix)' : ''}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.record('runbook-failed', describeFailure(err));
      await this.tell('runbook-not-updated', 'warning', 'runbook not updated', describeFailure(err));
    }
  }

  /** Hands the incident to the last level of the ladder and ends it ESCALATED. */
  async escalate(reason: string): Promise<IncidentState> {
    const levels = this.settings.escalation.levels;
    await this.tell(
      'needs-person',
      'critical',
      `incident ${this.state.workflowId} needs a person`,
      reason,
      levels.at(-1),
    );
    return this.close('ESCALATED', reason);
  }
}
