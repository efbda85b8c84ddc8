// The incident workflow's input, where a carried-over run resumes, and the typed results its steps return:
// a step either hands the story on (`diagnosed`, `permitted`) or ends the pass with an `Ending`, which
// only the finishing step (finish.ts) turns into a closing status, a notification and metrics.
import type { AlertLedger } from '../../domain/incident.js';
import type { IncidentSettings } from '../../domain/settings.js';
import type { Diagnosis, IncidentState } from '../../domain/types.js';

export interface IncidentWorkflowInput {
  target: string;
  alertType: string;
  /** The container host of the target; absent on incidents begun before hosts were named: `local`. */
  host?: string;
  settings: IncidentSettings;
  /** An incident refused by the allowlist, carried over by continue-as-new while it absorbs a storm. */
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
      /** Asked only because of a limit that ends then: the incident decides again at that time. */
      limitEndsAtMs?: number;
      /** The owner of the target's question this incident joined (it does not tell people itself). */
      joined?: string;
    }
  | { for: 'recurrence'; firedAtFix: number; fixedAtMs: number };

export interface IncidentResume {
  state: IncidentState;
  ledger: AlertLedger;
  dryRun: boolean;
  waiting: ResumePoint;
  /** It follows its target at the guard (it asked its question): the new run says `done` when it ends. */
  following?: boolean;
  /** The incidents that joined its question. */
  joiners?: Array<{ workflowId: string; alertType: string }>;
}

/**
 * How a pass of the incident ends. `healed` is the only one after which the incident watches for the fault
 * coming back, and only when Medic's own restart healed it (`restarted`).
 */
export type Ending =
  | { kind: 'healed'; diagnosis: Diagnosis; restarted: boolean }
  /** Healthy after a restart Medic did not make for this incident: another incident's (`by`), or anyone's. */
  | { kind: 'healed-by-other'; diagnosis: Diagnosis; by?: string }
  | { kind: 'failed'; diagnosis: Diagnosis; reason: string }
  | { kind: 'rejected'; diagnosis: Diagnosis; by: string; comment?: string }
  /** `unanswered`: nobody decided the incident's question. */
  | { kind: 'escalated'; reason: string; unanswered?: boolean }
  /** Refused by the allowlist: escalated, then kept open to absorb copies of the alert. */
  | { kind: 'refused'; reason: string }
  /** The sender reported the alert resolved before Medic acted. */
  | { kind: 'recovered-by-itself' }
  /** The policy decided nothing is to be done (NOOP, or a severity that is only recorded). */
  | { kind: 'nothing-to-do'; reason: string };

export type Ended = { kind: 'ended'; ending: Ending };

export const ended = (ending: Ending): Ended => ({ kind: 'ended', ending });

/** The diagnosis step's result. */
export type Diagnosed = { kind: 'diagnosed'; diagnosis: Diagnosis } | Ended;

/** The decide step's result: permitted to act (by policy, or by a person), or the pass ended. */
export type Decided =
  | { kind: 'permitted'; requestId: string; diagnosis: Diagnosis }
  /** The target changed under the incident (restarted, still failing): diagnose it again, with fresh evidence. */
  | DiagnoseAgain
  | Ended;

export type DiagnoseAgain = { kind: 'diagnose-again'; reason: string };
