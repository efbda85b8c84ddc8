// Plain types shared by the workflows, activities and API. No runtime imports here:
// workflow code bundles this file, so it must stay free of Node APIs.
import type { AvailableRemedy } from './remedies.js';

export const INCIDENT_STATUSES = [
  'OPEN',
  'DIAGNOSING',
  'AWAITING_APPROVAL',
  'REMEDIATING',
  'VERIFYING',
  'RESOLVED',
  'FAILED',
  'ESCALATED',
  'REJECTED',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const TERMINAL_STATUSES: readonly IncidentStatus[] = ['RESOLVED', 'FAILED', 'ESCALATED', 'REJECTED'];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/**
 * The phases of an incident, one vocabulary for the state, metrics, reports, `/stats` and benchmarks:
 * ingest (alert received -> workflow holds it), diagnose, decide (policy + lease + budget), approve
 * (waiting for a person; 0 when automatic), act (the restart), verify, record (runbook).
 */
export const PHASES = ['ingest', 'diagnose', 'decide', 'approve', 'act', 'verify', 'record'] as const;
export type Phase = (typeof PHASES)[number];

/** What the policy and the guard made of an incident: the backtest's four outcomes. */
export const DECISION_OUTCOMES = ['acted', 'asked', 'recorded', 'escalated'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

/**
 * What the incident decided and what it decided from, recorded at decision time so the decision can be
 * replayed under another policy (npm run backtest).
 */
export interface DecisionRecord {
  /** When the policy was applied (ISO 8601, the workflow clock). */
  at: string;
  outcome: DecisionOutcome;
  /** The policy's verdict: auto, approval, escalate, record or none. */
  policy: 'auto' | 'approval' | 'escalate' | 'record' | 'none';
  severity: Severity;
  confidence: number;
  action: RemediationAction;
  recurrence?: string;
  unrecognisedSeverity?: string;
  /** The guard's or the budget's refusal that turned an automatic restart into a question. */
  permitDenied?: string;
  /** Taken again when the limit an earlier decision was refused for ended (the backtest replays it then). */
  decidedAgain?: boolean;
  /** Refused because another incident acted on the target while it waited in line: it looked instead. */
  actedMeanwhile?: boolean;
  /** The model proposed nothing but the target was not healthy: a person was asked (the backtest too). */
  unhealthyNoop?: boolean;
  /** The plan step decided (1-based) and its remedy's risk, when the plan has more than a restart. */
  step?: number;
  risk?: 'low' | 'medium' | 'high';
  /** Why a person had to agree to that step whatever the table says (a memory raise without a cap). */
  needsPerson?: string;
  /** The lease this pass held to act (automatic or approved): it shapes the next decision's cooldown. */
  lease?: { grantedAt: string; approvedBy?: string; releasedAt?: string; outcome?: string };
}

/** Decisions kept per incident (one per pass; a reopened incident decides again). */
export const DECISIONS_KEPT = 20;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What Medic may do to a target: the built-in remedies, and `ACTION:<name>` for a service action the target
 * declares (domain/remedies.ts). Which a target has is its catalogue's; anything else is refused.
 */
export const ACTIONS = ['RESTART', 'ROLLBACK', 'RAISE_MEMORY', 'NOOP', 'ESCALATE'] as const;
export type RemediationAction = (typeof ACTIONS)[number] | `ACTION:${string}`;

/** A remedy's name as an answer or a file may write it: a built-in one, or `ACTION:<lowercase name>`. */
export const REMEDY_NAME_PATTERN =
  /^(RESTART|ROLLBACK|RAISE_MEMORY|NOOP|ESCALATE|ACTION:[a-z0-9][a-z0-9-]{0,39})$/;

export type AlertSource = 'webhook' | 'alertmanager' | 'engine';

/** One alert, normalised from whichever sender produced it. */
export interface Alert {
  source: AlertSource;
  /**
   * The container host the target runs on (`local` when the sender names none): the incident, its guard
   * and the host queue its actions go to are that host's. The same container name on two hosts is two targets.
   */
  host?: string;
  /** The sender's own id for the alert, if it has one (e.g. the demo app's incident_id). */
  externalId?: string;
  /**
   * Who sent it: the webhook sender's name, or the Alertmanager token's. A `resolved` closes an incident only
   * when it comes from the source (and, for webhooks, the sender) that opened it.
   */
  sender?: string;
  target: string;
  alertType: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  /** Log lines the sender attached, oldest first. Untrusted text. */
  logs: string[];
  /** When the sender says the alert fired (ISO 8601). */
  firedAt: string;
  /** When Medic accepted it (ISO 8601). */
  receivedAt: string;
  /** The sender asks for a dry run of this incident. */
  dryRun?: boolean;
  /** The sender's severity word when Medic does not know it (`severity` is then critical): a person decides. */
  unrecognisedSeverity?: string;
  /** What the engine showed, when Medic found the fault itself (source `engine`). */
  evidence?: EngineEvidence;
  /**
   * How many sender alerts this signal stands for (default 1). The API coalesces duplicates of an
   * open incident and sends their number here, so `alertCount` stays exact under a storm.
   */
  count?: number;
  /** When the last of the coalesced alerts arrived (ISO 8601); `receivedAt` is the first. */
  lastSeenAt?: string;
  /**
   * Names this delivery: a delivery retried after a lost answer carries the same id and is counted
   * once. The request's signature for a signed webhook, the API's batch id for coalesced alerts.
   */
  deliveryId?: string;
  /**
   * Set when the API refused the sender's target name (path, shell or control characters, or no
   * target label): `target` is then a sanitised stand-in and the incident escalates without acting.
   */
  targetRejected?: string;
}

/** The engine's own account of a fault that no one alerted about. */
export interface EngineEvidence {
  /** The event stream (`die`, `oom`, `health_status`), the scheduled sweep, or a dependency's restart. */
  via: 'event' | 'sweep' | 'dependency';
  /** The event or sweep check that found it, e.g. `die`, `oom`, `restart-loop`, `memory`. */
  check: string;
  containerId: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** How the OOM kill is known: the engine's flag, its `oom` event, or the kernel's log. */
  oomKilledSource?: 'engine-state' | 'oom-event' | 'kernel-log';
  restartCount?: number;
  memoryLimitBytes?: number;
  detail: string;
}

/** Payload of the `resolved` signal: the sender says the alert stopped firing. */
export interface ResolvedPayload {
  source: AlertSource;
  /** The webhook sender's or the Alertmanager token's name (absent from older senders). */
  sender?: string;
  /** When the sender says the alert ended (ISO 8601). */
  endedAt: string;
  receivedAt: string;
}

/** What Medic saw of the target when it looked. */
export interface TargetObservation {
  name: string;
  exists: boolean;
  managed: boolean;
  containerId?: string;
  state?: string;
  running?: boolean;
  /** Start time of the current container process; the compare-and-act key for restarts. */
  startedAt?: string;
  restartCount?: number;
  exitCode?: number;
  oomKilled?: boolean;
  health?: string;
  healthUrl?: string;
  /** The image it runs (its id, a sha256), its name, and when the container was created (a deploy). */
  imageId?: string;
  image?: string;
  createdAt?: string;
  /** The image it last ran verified healthy, if another, and whether the engine still has it. */
  previousHealthyImage?: { id: string; name?: string; verifiedAt: string; present: boolean };
  memoryLimitBytes?: number;
  /** Its `medic.*` labels: the actions, plan, memory cap and dependency it declares (never other labels). */
  labels?: Record<string, string>;
  /** What its engine can do to it (domain/remedies.ts EngineCapability); absent: a restart only. */
  capabilities?: Array<'restart' | 'recreate' | 'update-limits' | 'exec'>;
}

export type DiagnosisSource = 'runbook' | 'gemini' | 'ollama' | 'rules' | 'fallback';

export interface DiagnosisTrailStep {
  provider: string;
  outcome: 'answered' | 'skipped' | 'failed' | 'invalid';
  detail: string;
  latencyMs: number;
}

/** What the runbook already knows about this signature, whoever diagnosed it this time. */
export interface KnownFix {
  fixId: string;
  action: RemediationAction;
  enabled: boolean;
  /** Applied without asking a model: it worked and has not failed since, or meets the success rate. */
  trusted: boolean;
  stats: { resolved: number; failed: number; rejected: number; didNotStick: number };
  lastOutcome?: FixOutcome;
  lastIncidentId?: string;
  lastNote?: string;
  /** Why it is (not) trusted, in words for the incident's reader. */
  standing: string;
}

export interface Diagnosis {
  source: DiagnosisSource;
  rootCause: string;
  action: RemediationAction;
  confidence: number;
  justification: string;
  trail: DiagnosisTrailStep[];
  /** Normalised error signature from the logs; part of the runbook key. */
  errorSignature: string;
  observed: TargetObservation;
  /** The runbook's fix for this signature, if there is one (trusted or not). */
  knownFix?: KnownFix;
  /** Evidence that could not be gathered (timed out, failed), noted instead of failing the diagnosis. */
  evidenceNotes?: string[];
  /** The remedies a model proposed after `action`, cheapest first (checked against the target's catalogue). */
  plan?: RemediationAction[];
  /** What the plain rules would do, when another source diagnosed: the proposal if a NOOP meets an unhealthy target. */
  rulesProposal?: { action: RemediationAction; rootCause: string };
}

/** How a decision reached the incident: Medic's API, or Temporal's own Update or signal (CLI, Web UI). */
export type DecisionChannel = 'api' | 'temporal-update' | 'temporal-signal' | 'slack';

export interface ApprovalState {
  required: boolean;
  reason: string;
  /** When this question was asked, and when it goes unanswered (the ladder's longest wait). */
  askedAt?: string;
  expiresAt?: string;
  /** The exact action or plan step the question proposes, in words. */
  proposed?: string;
  decidedBy?: string;
  decision?: 'approved' | 'rejected';
  comment?: string;
  decidedAt?: string;
  /** Absent for decisions taken before channels were recorded. */
  channel?: DecisionChannel;
  /** The Update id of the decision (an API decision's Idempotency-Key follows `api:`). */
  updateId?: string;
  /** This incident joined the question of another on its target (the owner's workflow id). */
  joined?: string;
  /** The incidents that joined this one's question, with their alert types. */
  with?: Array<{ workflowId: string; alertType: string }>;
  /** The decision was taken on the other incident of a joined question, and passed on from it. */
  via?: string;
  /** Asked while only a limit stood in the way: the incident decides again when it ends (ISO time). */
  limitEndsAt?: string;
}

/** A decision taken on one incident of a joined question, passed on to the other. */
export interface PassedDecision {
  verdict: 'approved' | 'rejected';
  by: string;
  comment?: string;
  channel: DecisionChannel;
  /** The incident that received the decision. */
  via: string;
}

export interface ActionRecord {
  action: RemediationAction;
  at: string;
  /**
   * `already-restarted`: this incident's own restart, issued by an earlier attempt; `healed-by-other`: the
   * container was restarted by someone else (its restart policy, a person, another incident) since the
   * diagnosis; `would-restart`: a dry run.
   */
  outcome:
    | 'restarted'
    | 'already-restarted'
    | 'healed-by-other'
    | 'failed'
    | 'would-restart'
    /** A plan's other remedies: done (or found done by an earlier attempt), undone, or a dry run's. */
    | 'acted'
    | 'undone'
    | 'would-have';
  detail: string;
  previousStartedAt?: string;
  newStartedAt?: string;
  /** The plan step it was (1-based) and the plan's length: "step 2 of 3". Absent before plans. */
  step?: number;
  of?: number;
}

/** One step of an incident's plan as it went: its remedy, its approval if one was asked, its outcome. */
export interface PlanStepRecord {
  step: number;
  of: number;
  remedy: RemediationAction;
  risk: 'low' | 'medium' | 'high';
  words: string;
  /** The decision a person took for this step, when one was asked. */
  approval?: ApprovalState;
  /**
   * `healed`: verified healthy after it; `not-healed`: done, still unhealthy (`undone` when its inverse ran);
   * `failed`: it could not be done; `would-have`: a dry run; `healed-by-other`: someone else's restart came first.
   */
  outcome: 'healed' | 'not-healed' | 'undone' | 'failed' | 'would-have' | 'healed-by-other';
  detail: string;
  at: string;
}

/** The incident's plan: the remedies it tries in order, where each came from, and what was refused. */
export interface PlanState {
  steps: AvailableRemedy[];
  from: string[];
  refused: string[];
  /** The step being decided or carried out (0-based). */
  at: number;
}

export interface VerificationResult {
  healthy: boolean;
  attempts: number;
  detail: string;
  checkedAt: string;
}

export interface TimelineEntry {
  at: string;
  event: string;
  detail: string;
}

export interface IncidentState {
  /** Unique per incident (the first run id of the workflow chain). */
  id: string;
  workflowId: string;
  status: IncidentStatus;
  target: string;
  /** The container host of the target (absent in histories older than hosts: `local`). */
  host?: string;
  alertType: string;
  severity: Severity;
  openedAt: string;
  closedAt?: string;
  alertCount: number;
  lastAlertAt?: string;
  diagnosis?: Diagnosis;
  approval?: ApprovalState;
  actions: ActionRecord[];
  verification?: VerificationResult;
  runbookEntryId?: string;
  /** Whether this incident runs without touching anything. */
  dryRun?: boolean;
  /** The alert's severity word when Medic does not know it: the incident never acts without a person. */
  unrecognisedSeverity?: string;
  /** The guard's last word on this incident's action (lease and budget). */
  guard?: { decision: 'granted' | 'denied' | 'queued'; reason: string; at: string };
  /** Times the same fault came back after a fix (within the recurrence window). */
  recurrences?: number;
  /** Escalation levels notified so far while waiting for a decision. */
  escalatedTo?: string[];
  /** The engine's evidence, when the incident was found by the watcher or the sweep. */
  evidence?: EngineEvidence;
  /** Milliseconds spent in each phase, added as each ends (a reopened incident adds its next pass). */
  phases?: Partial<Record<Phase, number>>;
  /** Each pass's decision by the policy and the guard, oldest first, and what it was taken from. */
  decisions?: DecisionRecord[];
  /** The current pass's plan (patch `remedy-plans`), and each step tried so far, over the passes. */
  plan?: PlanState;
  steps?: PlanStepRecord[];
  timeline: TimelineEntry[];
}

/** Payload of the `approve` and `reject` signals and Updates. */
export interface DecisionPayload {
  by: string;
  comment?: string;
  /**
   * Set by Medic's API: an Update still undelivered by then (no worker took it before the API answered
   * 503) is refused when it arrives, so a decision the caller was told did not happen never happens.
   */
  notAfter?: string;
}

/** What the `approve` and `reject` Updates answer once the decision is taken. */
/** A decision refused outside the incident, told to it for its timeline. */
export interface RefusedDecision {
  channel: DecisionChannel;
  by: string;
  reason: string;
}

export interface DecisionResult {
  workflowId: string;
  decision: 'approve' | 'reject';
  by: string;
  /** REMEDIATING after an approval, REJECTED after a rejection. */
  status: IncidentStatus;
}

/** Runbook outcomes that change a fix's standing. */
export type FixOutcome = 'resolved' | 'failed' | 'rejected' | 'did-not-stick';
