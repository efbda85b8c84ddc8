// runbook.json: what Medic has learned, keyed by (target, alert type, error signature).
// Readable and hand-editable; writes are atomic (temp file + rename) and serialised across
// processes with a lock file, and recording the same incident outcome twice changes nothing. With many
// hosts there is still one file and one writer: the central worker that holds the file polls the runbook
// queue with one activity slot (worker.ts), and the lock covers any second process pointed at the file.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { issuesInWords } from '../domain/alert.js';
import { canonicalSignature } from '../domain/log-signature.js';
import type { FixToggle, RunbookEntry } from '../domain/runbook.js';
import {
  type FixOutcome,
  type KnownFix,
  REMEDY_NAME_PATTERN,
  type RemediationAction,
} from '../domain/types.js';
import type { RunbookTrust } from './diagnose/settings.js';

const OUTCOMES = ['resolved', 'failed', 'rejected', 'did-not-stick'] as const;
const HISTORY_LIMIT = 50;

const fixSchema = z.object({
  id: z.string().min(1),
  match: z.object({
    target: z.string().min(1),
    alertType: z.string().min(1),
    errorSignature: z.string().min(1),
  }),
  action: z.string().regex(REMEDY_NAME_PATTERN) as z.ZodType<RemediationAction>,
  rootCause: z.string(),
  enabled: z.boolean().default(true),
  note: z.string().optional(),
  /** The last time a person turned the fix off or on through the API: who, when, why. */
  toggled: z
    .object({ enabled: z.boolean(), by: z.string(), at: z.string(), note: z.string().optional() })
    .optional(),
  learnedFrom: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stats: z.object({
    resolved: z.number().int().min(0).default(0),
    failed: z.number().int().min(0).default(0),
    rejected: z.number().int().min(0).default(0),
    didNotStick: z.number().int().min(0).default(0),
  }),
  history: z
    .array(
      z.object({
        incidentId: z.string(),
        workflowId: z.string(),
        outcome: z.enum(OUTCOMES),
        at: z.string(),
        note: z.string().optional(),
      }),
    )
    .default([]),
});

const fileSchema = z.object({ version: z.literal(1), fixes: z.array(fixSchema) });

export type RunbookFix = z.output<typeof fixSchema>;
export type RunbookFile = z.output<typeof fileSchema>;

export interface OutcomeRecord {
  incidentId: string;
  workflowId: string;
  target: string;
  alertType: string;
  errorSignature: string;
  action: RemediationAction;
  rootCause: string;
  outcome: FixOutcome;
  note?: string;
  at: string;
}

export interface RecordResult {
  fixId: string;
  created: boolean;
  /** True when this incident's outcome was already in the runbook (a retried activity). */
  alreadyRecorded: boolean;
}

/** A runbook that cannot be read as written. Never "repaired" by overwriting: a person must look. */
export class RunbookFormatError extends Error {
  override name = 'RunbookFormatError';
}

const STAT_KEY: Record<FixOutcome, keyof RunbookFix['stats']> = {
  resolved: 'resolved',
  failed: 'failed',
  rejected: 'rejected',
  'did-not-stick': 'didNotStick',
};

export function fixIdFor(target: string, alertType: string, errorSignature: string): string {
  const hash = createHash('sha256').update(errorSignature).digest('hex').slice(0, 8);
  return `fix-${target}-${alertType}-${hash}`;
}

/** Outcomes that count as a failure of the fix itself (a rejection is a person's no, not a failure). */
const FAILURES: ReadonlySet<FixOutcome> = new Set(['failed', 'did-not-stick']);

/** How a fix stands: its counts, its success rate, and whether it may be applied without a model. */
export interface FixAssessment {
  uses: number;
  /** resolved / uses; 0 before the first use. */
  rate: number;
  trusted: boolean;
  /** Its last two uses failed: its signature goes back to the models, whatever its rate. */
  setAside: boolean;
  /** Why it is (not) trusted, in words for the incident's reader. */
  standing: string;
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;

const outcomeInWords = (h: RunbookFix['history'][number]) =>
  `${h.outcome === 'did-not-stick' ? 'did not stick' : h.outcome} in incident ${h.incidentId}`;

/** Who turned the fix off, when and why, as the file records it (or its hand-written note). */
function disabledInWords(fix: RunbookFix): string {
  const change = fix.toggled && !fix.toggled.enabled ? fix.toggled : undefined;
  if (!change) return `disabled by hand${fix.note ? ` (${fix.note})` : ''}`;
  return `disabled by ${change.by} at ${change.at}${change.note ? `: ${change.note}` : ''}`;
}

/**
 * Whether a fix may be applied without asking a model: it is enabled, it has been used at least
 * `minUses` times, and at least `minSuccessRate` of those uses resolved. A rejection counts as a use that
 * did not succeed (a person said no), a recurrence (`did-not-stick`) as a failure. A fix whose last two
 * uses failed is set aside whatever its rate, until it works again.
 */
export function assessFix(fix: RunbookFix, trust: RunbookTrust): FixAssessment {
  const { resolved, failed, rejected, didNotStick } = fix.stats;
  const uses = resolved + failed + rejected + didNotStick;
  const rate = uses > 0 ? resolved / uses : 0;
  const counts = `${resolved} of ${uses} use${uses === 1 ? '' : 's'} resolved (${percent(rate)})`;
  const required = `at least ${percent(trust.minSuccessRate)} over ${trust.minUses} use${trust.minUses === 1 ? '' : 's'} required`;
  const lastTwo = fix.history.slice(-2);
  const setAside = lastTwo.length === 2 && lastTwo.every((h) => FAILURES.has(h.outcome));
  const base = { uses, rate, setAside };
  if (!fix.enabled) return { ...base, trusted: false, standing: `${disabledInWords(fix)}; ${counts}` };
  if (setAside) {
    return {
      ...base,
      trusted: false,
      standing: `set aside: its last two uses failed (${lastTwo.map(outcomeInWords).join(', then ')}); the models diagnose this signature until the fix works again; ${counts}`,
    };
  }
  if (uses >= trust.minUses && rate >= trust.minSuccessRate) {
    return { ...base, trusted: true, standing: `${counts}, ${required}` };
  }
  const short = uses < trust.minUses ? 'not enough uses yet' : 'success rate too low';
  return { ...base, trusted: false, standing: `${short}: ${counts}, ${required}` };
}

/** What the diagnosis carries of a fix: its standing, and its last outcome for the policy. */
export function judgeFix(fix: RunbookFix, trust: RunbookTrust): KnownFix {
  const { trusted, standing } = assessFix(fix, trust);
  const last = fix.history.at(-1);
  return {
    fixId: fix.id,
    action: fix.action,
    enabled: fix.enabled,
    trusted,
    stats: { ...fix.stats },
    ...(last ? { lastOutcome: last.outcome, lastIncidentId: last.incidentId } : {}),
    ...(last?.note ? { lastNote: last.note } : {}),
    standing,
  };
}

/** A fix as the API and the console show it: the file's fields, its counts, rate and standing. */
export function runbookEntry(fix: RunbookFix, trust: RunbookTrust): RunbookEntry {
  const { uses, rate, trusted, setAside, standing } = assessFix(fix, trust);
  const last = fix.history.at(-1);
  return {
    id: fix.id,
    target: fix.match.target,
    alertType: fix.match.alertType,
    errorSignature: fix.match.errorSignature,
    action: fix.action,
    rootCause: fix.rootCause,
    enabled: fix.enabled,
    stats: { ...fix.stats },
    uses,
    rate,
    trusted,
    setAside,
    standing,
    ...(last ? { lastOutcome: last.outcome, lastIncidentId: last.incidentId, lastAt: last.at } : {}),
    ...(fix.learnedFrom ? { learnedFrom: fix.learnedFrom } : {}),
    ...(fix.note ? { note: fix.note } : {}),
    ...(fix.toggled ? { toggled: fix.toggled } : {}),
    createdAt: fix.createdAt,
    updatedAt: fix.updatedAt,
  };
}

const sameToggle = (a: FixToggle | undefined, b: FixToggle) =>
  a?.enabled === b.enabled && a.by === b.by && a.at === b.at && (a.note ?? '') === (b.note ?? '');

/** Signatures are compared in their canonical form, so one stored with a secret in it still matches. */
function findFix(
  fixes: RunbookFix[],
  target: string,
  alertType: string,
  errorSignature: string,
): RunbookFix | undefined {
  const wanted = canonicalSignature(errorSignature);
  return fixes.find(
    (f) =>
      f.match.target === target &&
      f.match.alertType === alertType &&
      canonicalSignature(f.match.errorSignature) === wanted,
  );
}

export class RunbookStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly filePath: string,
    private readonly lockTimeoutMs = 10_000,
  ) {}

  /** Reads and validates the file; a missing file is an empty runbook. */
  async read(): Promise<RunbookFile> {
    let text: string;
    try {
      text = await fs.readFile(this.filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, fixes: [] };
      throw err;
    }
    if (text.trim() === '') return { version: 1, fixes: [] };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new RunbookFormatError(
        `${this.filePath} is not valid JSON (${(err as Error).message}); fix it by hand, Medic will not overwrite it`,
      );
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const where = issuesInWords(parsed.error, 5, '(root)');
      throw new RunbookFormatError(`${this.filePath} does not match the runbook format: ${where}`);
    }
    return parsed.data;
  }

  /** The fix for one signature, if the runbook has one (also when it was learned before redaction). */
  async find(target: string, alertType: string, errorSignature: string): Promise<RunbookFix | undefined> {
    return findFix((await this.read()).fixes, target, alertType, errorSignature);
  }

  /** Adds one incident's outcome to the fix for its signature, creating the fix if new. Idempotent. */
  recordOutcome(record: OutcomeRecord): Promise<RecordResult> {
    return this.exclusive(async () => {
      const file = await this.read();
      const signature = canonicalSignature(record.errorSignature);
      let fix = findFix(file.fixes, record.target, record.alertType, signature);
      if (fix?.history.some((h) => h.incidentId === record.incidentId && h.outcome === record.outcome)) {
        return { fixId: fix.id, created: false, alreadyRecorded: true };
      }
      const created = !fix;
      if (!fix) {
        fix = {
          id: fixIdFor(record.target, record.alertType, signature),
          match: { target: record.target, alertType: record.alertType, errorSignature: signature },
          action: record.action,
          rootCause: record.rootCause,
          enabled: true,
          learnedFrom: record.incidentId,
          createdAt: record.at,
          updatedAt: record.at,
          stats: { resolved: 0, failed: 0, rejected: 0, didNotStick: 0 },
          history: [],
        };
        file.fixes.push(fix);
      }
      // A fix learned before redaction leaves its secret behind here (its id, a hash, stays).
      fix.match.errorSignature = signature;
      fix.stats[STAT_KEY[record.outcome]] += 1;
      fix.updatedAt = record.at;
      fix.history.push({
        incidentId: record.incidentId,
        workflowId: record.workflowId,
        outcome: record.outcome,
        at: record.at,
        ...(record.note ? { note: record.note } : {}),
      });
      if (fix.history.length > HISTORY_LIMIT) fix.history.splice(0, fix.history.length - HISTORY_LIMIT);
      await this.write(file);
      return { fixId: fix.id, created, alreadyRecorded: false };
    });
  }

  /**
   * Turns one fix off or on and records who, when and why; undefined when no fix has that id. A fix that
   * already is so is left as it is (`changed: false`), unless this very toggle made it so: a retried
   * activity gets the first attempt's answer.
   */
  setEnabled(fixId: string, toggle: FixToggle): Promise<{ fix: RunbookFix; changed: boolean } | undefined> {
    return this.exclusive(async () => {
      const file = await this.read();
      const fix = file.fixes.find((f) => f.id === fixId);
      if (!fix) return undefined;
      if (fix.enabled === toggle.enabled) return { fix, changed: sameToggle(fix.toggled, toggle) };
      fix.enabled = toggle.enabled;
      fix.toggled = {
        enabled: toggle.enabled,
        by: toggle.by,
        at: toggle.at,
        ...(toggle.note ? { note: toggle.note } : {}),
      };
      fix.updatedAt = toggle.at;
      await this.write(file);
      return { fix, changed: true };
    });
  }

  private async write(file: RunbookFile): Promise<void> {
    const dir = path.dirname(this.filePath);
    const tmp = path.join(
      dir,
      `.${path.basename(this.filePath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, this.filePath);
  }

  /** Serialises work within this process, and across processes through `<file>.lock`. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const release = await this.acquireFileLock();
      try {
        return await work();
      } finally {
        await release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acquireFileLock(): Promise<() => Promise<void>> {
    const lockPath = `${this.filePath}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      const mine = await createExclusive(lockPath);
      if (mine) return () => releaseIfMine(lockPath, mine);
      // A lock older than the timeout was left by a process that died mid-write.
      const stat = await statOf(lockPath);
      if (stat && Date.now() - stat.mtimeMs > this.lockTimeoutMs) {
        await breakStaleLock(lockPath, stat, this.lockTimeoutMs);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `could not lock ${lockPath} within ${this.lockTimeoutMs} ms; is another Medic writing it?`,
        );
      }
      await pause();
    }
  }
}

export type Stats = Awaited<ReturnType<typeof fs.stat>>;

/**
 * Not check-then-delete: two writers could both judge the same lock stale, one delete it and take a fresh
 * lock, and the other then delete that fresh lock too, so both would write. So only the holder of
 * `<lock>.break` may delete, and only the very file it judged stale (same inode and mtime, checked again
 * while it holds the breaker): a lock taken meanwhile is someone's, never touched.
 * What is left: a breaker is held for a moment, so only a process that dies inside that moment leaves
 * one, which is then removed after `staleMs` (compared by inode, like a lock's release).
 */
export async function breakStaleLock(lockPath: string, judged: Stats, staleMs: number): Promise<void> {
  const breakerPath = `${lockPath}.break`;
  const breaker = await createExclusive(breakerPath);
  if (!breaker) {
    // Another writer is breaking it. A breaker is held for a moment; one this old was left by a crash.
    const held = await statOf(breakerPath);
    if (held && Date.now() - held.mtimeMs > staleMs) await releaseIfMine(breakerPath, held);
    await pause();
    return;
  }
  try {
    const now = await statOf(lockPath);
    if (now && sameFile(now, judged)) await fs.rm(lockPath, { force: true });
  } finally {
    await releaseIfMine(breakerPath, breaker);
  }
}

const statOf = (file: string) => fs.stat(file).catch(() => undefined);
const sameFile = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev && a.mtimeMs === b.mtimeMs;
const pause = () => new Promise((r) => setTimeout(r, 10 + Math.random() * 20));

/** Creates `file` only if it does not exist (O_EXCL); its stat when this call created it, else undefined. */
async function createExclusive(file: string): Promise<Stats | undefined> {
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    return await handle.stat();
  } finally {
    await handle.close();
  }
}

/** Removes `file` if it is still the one given (a lock broken as stale and taken by another stays theirs). */
async function releaseIfMine(file: string, mine: Stats): Promise<void> {
  const now = await statOf(file);
  if (now && now.ino === mine.ino && now.dev === mine.dev) await fs.rm(file, { force: true });
}
