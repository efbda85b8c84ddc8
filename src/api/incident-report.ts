// A human-readable incident report (Markdown): what happened, how it was diagnosed and by whom,
// what was decided and done, and what Medic learned.
import { imageChangedAgoMs } from '../domain/plan.js';
import { describeTrailStep } from '../domain/trail.js';
import type { IncidentState } from '../domain/types.js';

/** Model-written and log-derived text stays on one line and cannot open Markdown structure. */
const inline = (text: string) => text.replace(/\s+/g, ' ').replace(/([`*_<>[\]|#])/g, '\\$1');

export function renderIncidentReport(state: IncidentState): string {
  const out: string[] = [];
  const d = state.diagnosis;
  out.push(`# Incident ${state.workflowId}`, '');
  out.push(
    `- Status: **${state.status}**`,
    `- Target: ${inline(state.target)}`,
    `- Alert: ${inline(state.alertType)} (${state.severity}), ${state.alertCount} alert(s)`,
    `- Opened: ${state.openedAt}${state.closedAt ? `, closed: ${state.closedAt}` : ''}`,
    `- Incident id: ${state.id}`,
    '',
  );
  out.push('## Diagnosis', '');
  if (!d) {
    out.push('Not diagnosed yet.', '');
  } else {
    out.push(
      `- Source: **${d.source}**`,
      `- Root cause: ${inline(d.rootCause)}`,
      `- Proposed action: **${d.action}** at confidence ${d.confidence}`,
      `- Justification: ${inline(d.justification)}`,
      `- Error signature: \`${d.errorSignature.replaceAll('`', "'")}\``,
    );
    if (d.knownFix) out.push(`- Runbook: ${d.knownFix.fixId}, ${inline(d.knownFix.standing)}`);
    const changedMs = imageChangedAgoMs(d.observed, Date.parse(state.openedAt));
    if (changedMs !== undefined)
      out.push(
        `- Deploy: the image changed ${Math.round(changedMs / 60_000)} min before the first alert (${inline(d.observed.image ?? d.observed.imageId ?? '')}; last healthy on ${inline(d.observed.previousHealthyImage?.name ?? d.observed.previousHealthyImage?.id ?? '')})`,
      );
    if (d.evidenceNotes?.length) out.push(`- Missing evidence: ${d.evidenceNotes.map(inline).join('; ')}`);
    out.push('', '### Trail (every provider tried, in order)', '');
    d.trail.forEach((t, i) => {
      out.push(`${i + 1}. ${inline(describeTrailStep(t))}`);
    });
    out.push('');
  }
  out.push('## Decision', '');
  if (!state.approval) out.push('No decision yet.');
  else {
    out.push(
      `- ${state.approval.required ? 'Approval required' : 'Automatic'}: ${inline(state.approval.reason)}`,
    );
    if (state.approval.decision) {
      out.push(
        `- ${state.approval.decision} by ${inline(state.approval.decidedBy ?? 'unknown')}${state.approval.comment ? `: ${inline(state.approval.comment)}` : ''}`,
      );
    }
  }
  const plan = state.plan;
  if (plan) {
    out.push('', '## Plan', '');
    out.push(`Planned: ${plan.steps.map((s) => s.name).join(', then ')} (${inline(plan.from.join('; '))}).`);
    if (plan.refused.length) out.push(`Refused: ${inline(plan.refused.join('; '))}.`);
    for (const s of state.steps ?? [])
      out.push(
        `- step ${s.step} of ${s.of}, ${s.remedy} (${s.risk} risk): **${s.outcome}**, ${inline(s.detail)}${s.approval?.decidedBy ? `; ${s.approval.decision} by ${inline(s.approval.decidedBy)}` : ''}`,
      );
  }
  out.push('', '## Actions', '');
  if (state.actions.length === 0) out.push('None: the target was not touched.');
  for (const a of state.actions) out.push(`- ${a.at} ${a.action}: ${a.outcome}, ${inline(a.detail)}`);
  if (state.verification) {
    out.push(
      '',
      `Verification: ${state.verification.healthy ? 'healthy' : 'not healthy'} after ${state.verification.attempts} check(s), ${inline(state.verification.detail)}`,
    );
  }
  if (state.runbookEntryId) out.push('', `Learned into runbook fix ${state.runbookEntryId}.`);
  out.push('', '## Timeline', '');
  for (const t of state.timeline) out.push(`- ${t.at} **${t.event}** ${inline(t.detail)}`);
  out.push('');
  return out.join('\n');
}
