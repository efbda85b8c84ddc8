// One run of an incident workflow: its state, its alert ledger, the settings it runs with and the flags its
// handlers set, and the ways it writes its story down (timeline, status and search attributes, the Web UI's
// details, phases). The steps share this object; how a pass ends is finish.ts's alone.
import {
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ENGINE_ALERT_TYPES } from '../../domain/engine-events.js';
import {
  type AlertLedger,
  applyAlert,
  judgeSenderResolved,
  newAlertLedger,
  newIncidentState,
  recordEvent,
} from '../../domain/incident.js';
import { addPhase, incidentCurrentDetails } from '../../domain/incident-story.js';
import { checkAlertPayload, checkResolvedPayload, checkTargetNews } from '../../domain/message-checks.js';
import { hostTaskQueue, LOCAL_HOST, runbookTaskQueue } from '../../domain/naming.js';
import type { IncidentSettings } from '../../domain/settings.js';
import { outsideStartToIgnore, type TargetNews } from '../../domain/target-desk.js';
import type { IncidentState, IncidentStatus, Phase, ResolvedPayload } from '../../domain/types.js';
import { alertSignal, resolvedSignal, statusQuery, targetNewsSignal } from '../messages.js';
import { IncidentSeverityKey, IncidentStatusKey } from '../search-attributes.js';
import { isPatched } from '../versions.js';
import { type ActivityRoutes, type IncidentActivities, incidentActivities } from './activities.js';
import { incidentMetrics } from './metrics.js';
import type { IncidentResume, IncidentWorkflowInput, ResumePoint } from './types.js';

/**
 * Past this many history events an incident that is waiting continues as new, even where the server does
 * not suggest it: a long approval wait under an alert storm must never reach Temporal's history limits.
 */
export const DEFAULT_HISTORY_EVENTS_LIMIT = 10_000;

const nowIso = () => new Date().toISOString();
/** News kept: a storm of restarts of one target must not grow the run's memory without bound. */
const NEWS_KEPT = 50;
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
  /** A plan's step has acted (or may have) under the lease held now: a cancellation releases it `failed`. */
  leaseActed = false;
  dryRun = false;
  /** The container host of the target: its guard, its queue. */
  readonly host: string;
  /** Where the activities run (patch `host-queues`); undefined: the routes of legacy/routes.ts. */
  readonly routes: ActivityRoutes | undefined;
  /** Steps that need the engine wait for it while it does not answer (MEDIC_ENGINE_OUTAGE_WAIT). */
  readonly waitsForEngine: boolean;
  /** What the target's guard told this incident, oldest first, each with when it came (the workflow clock). */
  readonly news: Array<{ atMs: number; news: TargetNews }> = [];
  /** Joiners heard of before the question's approval state existed (both news can come in one activation). */
  joiners: Array<{ workflowId: string; alertType: string }> = [];
  /** The question is being withdrawn (still AWAITING_APPROVAL while people are told): no decision is taken. */
  withdrawing = false;
  /** This incident asked its guard's question (so it follows the target): it says `done` when it ends. */
  askedGuard = false;

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
    this.askedGuard = input.resume?.following ?? false;
    this.joiners = input.resume?.joiners ?? [];
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

  /** The first news of `kind` that came at or after `sinceMs` (the workflow clock). */
  newsSince<K extends TargetNews['kind']>(
    kind: K,
    sinceMs: number,
  ): Extract<TargetNews, { kind: K }> | undefined {
    const found = this.news.find((n) => n.atMs >= sinceMs && n.news.kind === kind);
    return found?.news as Extract<TargetNews, { kind: K }> | undefined;
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
    const resume: IncidentResume = {
      state: this.state,
      ledger: this.ledger,
      dryRun: this.dryRun,
      waiting,
      ...(this.askedGuard ? { following: true } : {}),
      ...(this.joiners.length > 0 ? { joiners: this.joiners } : {}),
    };
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
    setHandler(targetNewsSignal, (news) => {
      if (checkTargetNews(news)) return;
      const { target, alertType, diagnosis } = this.state;
      const seen = diagnosis?.observed.startedAt;
      const restartLoop = alertType === ENGINE_ALERT_TYPES.restartLoop;
      const ignored = outsideStartToIgnore(news, {
        target,
        restartLoop,
        ...(seen ? { seenStartedAt: seen } : {}),
      });
      if (ignored) return this.record('restart-ignored', ignored);
      this.news.push({ atMs: Date.now(), news });
      if (this.news.length > NEWS_KEPT) this.news.shift();
      if (news.kind === 'joined') {
        const joined = { workflowId: news.incidentWorkflowId, alertType: news.alertType };
        this.joiners = [...this.joiners.filter((w) => w.workflowId !== joined.workflowId), joined];
        const approval = this.state.approval;
        if (approval) approval.with = this.joiners;
        this.record('question-joined', `${joined.workflowId} (${joined.alertType}) joined this question`);
      }
    });
    setHandler(resolvedSignal, (payload) => {
      const problem = checkResolvedPayload(payload);
      if (problem) return this.record('resolved-refused', `a resolved signal was refused: ${problem}`);
      if (this.resolvedBySender) return;
      const verdict = judgeSenderResolved(this.state, this.ledger, payload, {
        at: nowIso(),
        acting: this.acting,
        onlyFromOpener: isPatched('resolved-from-opener'),
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
}
