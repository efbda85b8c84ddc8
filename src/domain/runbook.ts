// The runbook as its readers see it through Temporal: each fix with its counts, rate and standing, and the
// requests its single writer takes (list, turn a fix off or on). Pure types and names: the writer's
// activities build these, the runbook workflow carries them, the gateway and the API pass them on.
import type { FixOutcome, RemediationAction } from './types.js';

/** Who last turned a fix off or on through the API, when, and why. */
export interface FixToggle {
  enabled: boolean;
  by: string;
  at: string;
  note?: string;
}

export interface RunbookEntry {
  id: string;
  target: string;
  alertType: string;
  errorSignature: string;
  action: RemediationAction;
  rootCause: string;
  enabled: boolean;
  stats: { resolved: number; failed: number; rejected: number; didNotStick: number };
  uses: number;
  /** resolved / uses, 0 before the first use. */
  rate: number;
  /** Applied without asking a model. */
  trusted: boolean;
  /** Its last two uses failed: its signature goes back to the models until it works again. */
  setAside: boolean;
  /** Why it is (not) trusted, in words. */
  standing: string;
  lastOutcome?: FixOutcome;
  lastIncidentId?: string;
  lastAt?: string;
  learnedFrom?: string;
  /** A person's note written into the file by hand. */
  note?: string;
  toggled?: FixToggle;
  createdAt: string;
  updatedAt: string;
}

export interface RunbookListing {
  fixes: RunbookEntry[];
  /** The rule the standings were judged by (MEDIC_RUNBOOK_MIN_SUCCESS_RATE, MEDIC_RUNBOOK_MIN_USES). */
  trust: { minSuccessRate: number; minUses: number };
}

/** What the runbook workflow is asked to do. `notAfter`: past it the writer does nothing (the caller gave up). */
export type RunbookRequest =
  | { op: 'list'; notAfter: string }
  | { op: 'disable' | 'enable'; fixId: string; by: string; note?: string; notAfter: string };

export type RunbookAnswer =
  | { outcome: 'listed'; listing: RunbookListing }
  /** `changed: false`: it already was so (the toggle is recorded all the same). */
  | { outcome: 'toggled'; fix: RunbookEntry; changed: boolean }
  | { outcome: 'not-found'; fixId: string }
  /** runbook.json cannot be read as a runbook: a person must repair it. */
  | { outcome: 'unreadable'; message: string };

/** Fix ids are `fix-<target>-<alert type>-<8 hex>`, or whatever a person wrote: bounded, no path or spaces. */
export const FIX_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,299}$/;

/** The runbook's desk of one Medic deployment (task queue), as the budget's is `budget-<task queue>`. */
export const runbookDeskId = (taskQueue: string) => `runbook-${taskQueue}`;

/** What is wrong with a runbook request, in words; undefined when it is well formed (anyone may send one). */
export function checkRunbookRequest(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'the request must be an object';
  const r = request as Record<string, unknown>;
  if (typeof r.notAfter !== 'string' || !Number.isFinite(Date.parse(r.notAfter)))
    return 'notAfter must be a date-time';
  if (r.op === 'list') return undefined;
  if (r.op !== 'disable' && r.op !== 'enable') return 'op must be list, disable or enable';
  if (typeof r.fixId !== 'string' || !FIX_ID_PATTERN.test(r.fixId)) return 'fixId must be a fix id';
  if (typeof r.by !== 'string' || r.by.trim() === '' || r.by.length > 100) return 'by must name who asks';
  if (r.note !== undefined && (typeof r.note !== 'string' || r.note.length > 1000))
    return 'note must be a short text';
  return undefined;
}
