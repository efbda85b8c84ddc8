// The incident's first steps: open on the first alert, and check that the target may be touched at all
// (the allowlist: names that are unsafe, missing, unmanaged or protected never get an action, only a
// person). A refused incident stays open, escalated, absorbing copies of its alert.
import { condition, continueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import { secondsText } from '../../domain/incident.js';
import type { IncidentState } from '../../domain/types.js';
import { IncidentSeverityKey, IncidentTargetKey } from '../search-attributes.js';
import { DEFAULT_HOST_WAIT_MS } from './activities.js';
import { whileEngineAway } from './engine-outage.js';
import { describeFailure, noWorkerTookIt } from './failures.js';
import type { IncidentRun } from './run.js';
import { type Ended, ended } from './types.js';

/** A refused incident stays open to absorb copies of its alert until this long without one. */
const REFUSED_QUIET_MS = 10 * 60 * 1000;
/** Past this many history events a refused incident continues as new, so a long storm stays bounded. */
const REFUSED_HISTORY_LIMIT = 2000;

export async function openOnFirstAlert(run: IncidentRun): Promise<void> {
  const { state, input } = run;
  run.upsert([{ key: IncidentTargetKey, value: input.target }]);
  run.setStatus('OPEN', `incident opened for ${input.target} (${input.alertType})`);
  await condition(() => run.ledger.first !== undefined);
  // ingest: from the API accepting the alert to the workflow holding it.
  const receivedMs = Date.parse(run.ledger.first?.receivedAt ?? '');
  if (Number.isFinite(receivedMs)) {
    run.passStartedMs = Math.min(receivedMs, Date.now());
    run.notePhase('ingest', Date.now() - receivedMs);
  }
  run.upsert([{ key: IncidentSeverityKey, value: state.severity }]);
  run.dryRun = run.settings.dryRun || run.ledger.first?.dryRun === true;
  if (run.dryRun) {
    state.dryRun = true;
    run.record('dry-run', 'dry run: everything runs, nothing is touched');
  }
}

/** `admitted`, or the pass ends: refused by the allowlist, or no worker serves the target's host. */
export async function admitTarget(run: IncidentRun): Promise<{ kind: 'admitted' } | Ended> {
  const rejected = run.ledger.first?.targetRejected;
  if (rejected) return ended({ kind: 'refused', reason: rejected });
  try {
    const allowlist = await whileEngineAway(run, 'checking the allowlist', () =>
      run.activities.checkTarget.executeWithOptions(
        { summary: `check that ${run.state.target} may be touched (allowlist, managed label)` },
        [{ target: run.state.target }],
      ),
    );
    if (!allowlist.allowed)
      return ended({ kind: 'refused', reason: `not on the allowlist: ${allowlist.reason}` });
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (noWorkerTookIt(err)) {
      const waited = secondsText(run.settings.hostWaitMs ?? DEFAULT_HOST_WAIT_MS);
      const reason = `no Medic worker serves host ${run.host}: nothing took the allowlist check from task queue ${run.routes?.hostQueue} within ${waited}. Start a worker there with MEDIC_HOST_NAME=${run.host} (MEDIC_WORKER_ROLE=host), or check the alert's host name`;
      return ended({ kind: 'escalated', reason });
    }
    return ended({
      kind: 'escalated',
      reason: `could not check the target against the allowlist: ${describeFailure(err)}`,
    });
  }
  return { kind: 'admitted' };
}

/**
 * A refused incident stays open, escalated, while its alert keeps firing: one incident per storm, not
 * one per copy. It ends when the sender resolves the alert or the copies stop. One timer per quiet
 * period, not one per copy: a storm costs its signals and nothing more.
 */
export async function absorbWhileRefused(run: IncidentRun): Promise<IncidentState> {
  for (;;) {
    const seen = run.state.alertCount;
    await condition(() => run.resolvedBySender !== undefined, REFUSED_QUIET_MS, {
      summary: `refused: absorb copies of the alert until ${secondsText(REFUSED_QUIET_MS)} without one`,
    });
    if (run.resolvedBySender || run.state.alertCount === seen) return run.state;
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    if (continueAsNewSuggested || historyLength > REFUSED_HISTORY_LIMIT) {
      await continueAsNew<(input: typeof run.input) => Promise<IncidentState>>({
        ...run.input,
        refused: run.state,
        seenDeliveries: run.ledger.seenDeliveries,
      });
    }
  }
}
