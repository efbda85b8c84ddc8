// What each decision of an incident was taken from, kept in its state (bounded) so that the policy backtest
// (npm run backtest) can take it again under another policy.
import { outcomeOfPolicy } from '../../domain/incident-story.js';
import type { PolicyDecision } from '../../domain/policy.js';
import { DECISIONS_KEPT, type DecisionRecord, type Diagnosis } from '../../domain/types.js';
import type { IncidentRun } from './run.js';

const nowIso = () => new Date().toISOString();

/** Records what the policy decided and from what, so the decision can be replayed (npm run backtest). */
export function noteDecision(
  run: IncidentRun,
  diagnosis: Diagnosis,
  policy: PolicyDecision,
  context: { recurrence?: string; unrecognisedSeverity?: string },
): DecisionRecord {
  const decision: DecisionRecord = {
    at: nowIso(),
    outcome: outcomeOfPolicy(policy.kind),
    policy: policy.kind,
    severity: run.state.severity,
    confidence: diagnosis.confidence,
    action: diagnosis.action,
    ...context,
  };
  const decisions = run.state.decisions ?? [];
  decisions.push(decision);
  if (decisions.length > DECISIONS_KEPT) decisions.splice(0, decisions.length - DECISIONS_KEPT);
  run.state.decisions = decisions;
  return decision;
}
