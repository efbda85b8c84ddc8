// The settings a workflow runs with, as plain types: config.ts fills them from the environment, and the
// workflows, which must not read the environment or the config module, receive them in their input.
import type { BudgetLimits, GuardLimits } from './guard.js';
import type { ApprovalPolicy } from './policy.js';
import { WORKER_ROLES } from './settings-table.js';

export interface HealthRetrySettings {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumAttempts: number;
}

/** The settings an incident workflow runs with; captured at start so a run is reproducible. */
export interface IncidentSettings {
  approvalTimeoutMs: number;
  policy: ApprovalPolicy;
  healthRetry: HealthRetrySettings;
  restartStopTimeoutMs: number;
  /** Write Medic's custom search attributes (the Web UI's incident columns). */
  searchAttributes: boolean;
  /** Everything runs, the action is recorded as "would restart", nothing is touched. */
  dryRun: boolean;
  /** Per-target limits, enforced by the target's guard workflow. */
  guard: GuardLimits;
  /** Limits across all targets, enforced by the budget workflow of this task queue. */
  budget: BudgetLimits;
  /** Who is told, in order, each time an approval wait times out; the incident ends ESCALATED after maxWaitMs. */
  escalation: { levels: string[]; maxWaitMs: number };
  /** After RESOLVED, the same alert within this window reopens the incident (the fix did not stick). */
  recurrenceWindowMs: number;
  /** How remedies are sized and chosen; absent in histories begun before remedies other than a restart. */
  remedies?: RemedySettings;
  /**
   * How long an incident waits for a worker on its host's queue to take its first task (the allowlist
   * check) before it escalates: an alert naming a host no worker serves (default 2 minutes).
   */
  hostWaitMs?: number;
  /**
   * How long an incident waits, retrying with backoff, for its host's container engine to answer again when
   * a step needs it (the allowlist check, the evidence, the restart) before it escalates (default 5 minutes).
   */
  engineOutageWaitMs?: number;
  /** A waiting incident continues as new past this many history events (default 10,000; tests set it low). */
  historyEventsLimit?: number;
}

/** MEDIC_MEMORY_RAISE_FACTOR, MEDIC_MEMORY_MAX (text: `2g`; empty: no cap) and MEDIC_DEPLOY_WINDOW. */
export interface RemedySettings {
  memoryRaiseFactor: number;
  memoryMax: string;
  deployWindowMs: number;
}

/** What a worker process runs (MEDIC_WORKER_ROLE): the central queue and its own host's (`all`), or one of them. */
export { WORKER_ROLES };
export type WorkerRole = (typeof WORKER_ROLES)[number];

/** The top-level incident settings in which two processes differ, e.g. `dryRun` or `policy`. */
export function differingSettings(mine: IncidentSettings, theirs: IncidentSettings): string[] {
  const keys = new Set([...Object.keys(mine), ...Object.keys(theirs)]) as Set<keyof IncidentSettings>;
  return [...keys].filter((key) => JSON.stringify(mine[key]) !== JSON.stringify(theirs[key])).sort();
}
