// After Medic's own fix, the incident watches for the same alert within the recurrence window; a new
// occurrence reopens it for another pass, and the runbook learns that the fix did not stick.
import { condition } from '@temporalio/workflow';
import { secondsText } from '../../domain/incident.js';
import type { Diagnosis } from '../../domain/types.js';
import { learn } from './record.js';
import type { IncidentRun } from './run.js';
import type { ResumePoint } from './types.js';

/**
 * Resolves with why the incident reopens, or undefined when the window passed quietly. A recurrence is a new
 * occurrence (fired after the one fixed), not a late copy of the old one, such as a coalesced batch of
 * copies received before the fix and delivered after it. A long watch continues as new where it was.
 */
export async function watchForRecurrence(
  run: IncidentRun,
  resumed?: Extract<ResumePoint, { for: 'recurrence' }>,
): Promise<string | undefined> {
  const { settings, ledger } = run;
  const window = secondsText(settings.recurrenceWindowMs);
  const watch = resumed ?? {
    for: 'recurrence' as const,
    firedAtFix: ledger.newestFiredAtMs,
    fixedAtMs: Date.now(),
  };
  if (!resumed) run.record('watching', `watching for the same alert for ${window}`);
  const cameBack = () => ledger.newestFiredAtMs > watch.firedAtFix;
  const remainingMs = Math.max(1, watch.fixedAtMs + settings.recurrenceWindowMs - Date.now());
  const woke = await condition(() => cameBack() || run.shouldContinueAsNew(), remainingMs, {
    summary: `watch ${run.state.target} for the same alert for ${window}`,
  });
  if (woke && !cameBack()) await run.continueAsNew(watch);
  if (!woke) {
    run.record('watch-ended', `no recurrence within ${window}`);
    return undefined;
  }
  return `the ${run.state.alertType} alert came back ${secondsText(Date.now() - watch.fixedAtMs)} after the fix`;
}

/** The fault came back: the fix did not stick, and the incident opens again for another pass. */
export async function reopen(run: IncidentRun, recurrence: string): Promise<void> {
  const { state } = run;
  state.recurrences = (state.recurrences ?? 0) + 1;
  state.closedAt = undefined;
  // The sender's `resolved` for the new occurrence counts again (ingest).
  run.acting = false;
  run.resolvedBySender = undefined;
  run.passStartedMs = Date.now();
  await learn(run, state.diagnosis as Diagnosis, 'did-not-stick', recurrence);
  run.setStatus('OPEN', `reopened: ${recurrence}`);
}
