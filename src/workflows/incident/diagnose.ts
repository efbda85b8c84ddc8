// The diagnose step: the target's host gathers the evidence, the central queue judges it (the learned
// runbook, then the models, then the rules). The diagnosis is shown in the state, timeline, memo and
// search attributes; a diagnosis that cannot be had at all ends the pass escalated.
import { isCancellation, upsertMemo } from '@temporalio/workflow';
import { describeTrail } from '../../domain/trail.js';
import type { Diagnosis } from '../../domain/types.js';
import { diagnoseInOneActivity } from '../legacy/diagnose-in-one.js';
import { DiagnosisSourceKey } from '../search-attributes.js';
import { whileEngineAway } from './engine-outage.js';
import { describeFailure } from './failures.js';
import { incidentMetrics } from './metrics.js';
import type { IncidentRun } from './run.js';
import { type Diagnosed, ended } from './types.js';

export async function diagnoseTarget(run: IncidentRun): Promise<Diagnosed> {
  const { state } = run;
  run.setStatus('DIAGNOSING', `looking at ${state.target}`);
  let diagnosis: Diagnosis;
  try {
    diagnosis = await run.timed('diagnose', () => judgeEvidence(run));
  } catch (err) {
    if (isCancellation(err)) throw err;
    return ended({ kind: 'escalated', reason: `diagnosis failed: ${describeFailure(err)}` });
  }
  state.diagnosis = diagnosis;
  if (diagnosis.source === 'runbook') incidentMetrics.runbookHit(state.alertType);
  run.upsert([{ key: DiagnosisSourceKey, value: diagnosis.source }]);
  const { source, rootCause, action, confidence, trail, knownFix } = diagnosis;
  run.record('diagnosed', `${source}: ${rootCause} -> ${action} (confidence ${confidence})`);
  run.record('diagnosis-trail', describeTrail(trail));
  if (knownFix) run.record('runbook-standing', `${knownFix.fixId}: ${knownFix.standing}`);
  // The memo shows in the Web UI's workflow view: how this incident was diagnosed, at a glance.
  upsertMemo({ diagnosis: { source, action, confidence, trail: describeTrail(trail) } });
  return { kind: 'diagnosed', diagnosis };
}

async function judgeEvidence(run: IncidentRun): Promise<Diagnosis> {
  const { state } = run;
  const alert = run.ledger.latest ?? run.ledger.first;
  const input = {
    target: state.target,
    alertType: state.alertType,
    severity: state.severity,
    logs: alert?.logs ?? [],
  };
  const summary = `diagnose ${state.target}: ${state.alertType} (runbook, then models, then rules)`;
  if (!run.routes) return diagnoseInOneActivity(run, input, summary);
  const evidence = await whileEngineAway(run, 'gathering evidence', () =>
    run.activities.gatherEvidence.executeWithOptions(
      { summary: `gather evidence on ${state.target}'s host: logs, state, restarts` },
      [input],
    ),
  );
  return run.activities.diagnoseEvidence.executeWithOptions({ summary }, [{ input, evidence }]);
}
