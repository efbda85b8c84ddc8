// How an incident reads in the Temporal Web UI and CLI: the one-line static summary, the static details
// given at start, and the current details (Markdown) that follow each step. Pure: the workflow renders
// them, the gateway names them, tests read them back through describe().
import type { DecisionOutcome, IncidentState, Phase } from './types.js';
import { PHASES } from './types.js';

/** The list view's one line: `<target> · <alert type>`. Severity can rise later, so it is in the details. */
export function incidentSummary(target: string, alertType: string): string {
  return `${target} · ${alertType}`;
}

/** Fixed at start: what the workflow is and how to read or decide it from the CLI. */
export function incidentStaticDetails(workflowId: string, target: string, alertType: string): string {
  return [
    `**Incident** for container \`${target}\`, alert \`${alertType}\`.`,
    '',
    `- Workflow id: \`${workflowId}\``,
    `- Its state: \`temporal workflow query --workflow-id '${workflowId}' --type status\``,
    '- The current details below follow each step: status, diagnosis, decision, action, verification, phases.',
  ].join('\n');
}

/** The exact CLI commands that decide an incident awaiting approval (the signals of DESIGN's contract). */
export function decisionCommands(workflowId: string): string[] {
  return (['approve', 'reject'] as const).map(
    (name) =>
      `temporal workflow signal --workflow-id '${workflowId}' --name ${name} --input '{"by":"<your name>"}'`,
  );
}

const ms = (value: number) => (value >= 10_000 ? `${Math.round(value / 1000)} s` : `${value} ms`);

/** `diagnose 1.2 s · decide 40 ms · ...` for the phases ended so far, in the order they happen. */
export function describePhases(phases: IncidentState['phases']): string | undefined {
  if (!phases) return undefined;
  const parts = PHASES.filter((p) => phases[p] !== undefined).map((p) => `${p} ${ms(phases[p] ?? 0)}`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The incident's current details in Markdown: what a person needs to know now, in words. */
export function incidentCurrentDetails(state: IncidentState): string {
  const lines = [`**${state.status}** · severity ${state.severity} · ${state.alertCount} alert(s)`];
  const d = state.diagnosis;
  if (d) {
    lines.push(
      '',
      `**Diagnosis** (${d.source}, confidence ${d.confidence}): ${d.rootCause}; proposed ${d.action}`,
    );
  }
  if (state.status === 'AWAITING_APPROVAL') {
    lines.push('', `**Decision needed**: ${state.approval?.reason ?? 'a person decides'}`, '');
    lines.push(...decisionCommands(state.workflowId).map((c) => `- \`${c}\``));
    if (state.escalatedTo?.length) lines.push(`- told so far: ${state.escalatedTo.join(', ')}`);
  } else if (state.approval?.decision) {
    lines.push('', `**Decision**: ${state.approval.decision} by ${state.approval.decidedBy}`);
  } else if (state.approval) {
    lines.push('', `**Decision**: ${state.approval.reason}`);
  }
  const action = state.actions.at(-1);
  if (action) lines.push('', `**Action**: ${action.action} ${action.outcome}: ${action.detail}`);
  if (state.verification) {
    const v = state.verification;
    lines.push(
      '',
      `**Verification**: ${v.healthy ? 'healthy' : 'unhealthy'} after ${v.attempts} check(s): ${v.detail}`,
    );
  }
  const phases = describePhases(state.phases);
  if (phases) lines.push('', `**Phases**: ${phases}`);
  const last = state.timeline.at(-1);
  if (last) lines.push('', `_Last: ${last.event}: ${last.detail}_`);
  return lines.join('\n');
}

/** Adds a phase's time as it ends; a reopened incident's second pass adds to the first. */
export function addPhase(state: IncidentState, phase: Phase, elapsedMs: number): void {
  const phases = state.phases ?? {};
  phases[phase] = (phases[phase] ?? 0) + Math.max(0, Math.round(elapsedMs));
  state.phases = phases;
}

/** The decision outcome the policy's verdict leads to when nothing else intervenes. */
export function outcomeOfPolicy(kind: 'auto' | 'approval' | 'escalate' | 'record' | 'none'): DecisionOutcome {
  switch (kind) {
    case 'auto':
      return 'acted';
    case 'approval':
      return 'asked';
    case 'escalate':
      return 'escalated';
    default:
      return 'recorded';
  }
}
