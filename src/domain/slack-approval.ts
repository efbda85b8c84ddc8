// Deciding from Slack: who may (MEDIC_SLACK_APPROVERS), what a button carries (the incident and a digest of
// the question it shows), and the words of an outcome. Pure: the worker renders the buttons, the API checks
// a click against the incident as it is now; both hash the same canonical text.
import type { ApprovalState, IncidentState } from './types.js';

/** `U0456` (any workspace) or `T0123/U0456` (that workspace only); a team id alone admits nobody. */
export interface SlackApprover {
  user: string;
  team?: string;
}

const USER_ID = /^[UW][A-Z0-9]{2,30}$/;
const TEAM_ID = /^[TE][A-Z0-9]{2,30}$/;

/** Parses `U0456,T0123/U0789`; throws with what is wrong (never admitting a whole workspace). */
export function parseSlackApprovers(text: string): SlackApprover[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.map((part, index) => {
    const [first = '', second, extra] = part.split('/');
    if (extra !== undefined) throw new Error(`approver ${index + 1}: expected U… or T…/U…, got two slashes`);
    if (second === undefined) {
      if (TEAM_ID.test(first))
        throw new Error(
          `approver ${index + 1}: ${first} is a workspace id; a workspace alone admits nobody: list its users as ${first}/U…`,
        );
      if (!USER_ID.test(first)) throw new Error(`approver ${index + 1}: expected a Slack user id like U0456`);
      return { user: first };
    }
    if (!TEAM_ID.test(first))
      throw new Error(`approver ${index + 1}: ${first} is not a Slack workspace id (T…)`);
    if (!USER_ID.test(second))
      throw new Error(`approver ${index + 1}: ${second} is not a Slack user id (U…)`);
    return { user: second, team: first };
  });
}

/** Whether the user (of the workspace `team`) is listed: a bound entry needs its own workspace. */
export function isSlackApprover(
  approvers: readonly SlackApprover[],
  user: string,
  team: string | undefined,
): boolean {
  return approvers.some((a) => a.user === user && (a.team === undefined || a.team === team));
}

/** What a question's digest covers: the incident, when it was asked, and what it showed. */
export interface QuestionFacts {
  workflowId: string;
  incidentId: string;
  askedAt: string;
  reason: string;
  proposed: string;
  rootCause: string;
}

/** The text both sides hash: a new question, a new step or new evidence gives another digest. */
export function questionText(facts: QuestionFacts): string {
  return [
    'medic-question/1',
    facts.workflowId,
    facts.incidentId,
    facts.askedAt,
    facts.reason,
    facts.proposed,
    facts.rootCause,
  ].join('\n');
}

/** The facts of the question an incident asks now; undefined when it asks none it could show in Slack. */
export function currentQuestion(state: IncidentState): QuestionFacts | undefined {
  const approval: ApprovalState | undefined = state.approval;
  if (state.status !== 'AWAITING_APPROVAL' || !approval?.askedAt || approval.proposed === undefined)
    return undefined;
  return {
    workflowId: state.workflowId,
    incidentId: state.id,
    askedAt: approval.askedAt,
    reason: approval.reason,
    proposed: approval.proposed,
    rootCause: state.diagnosis?.rootCause ?? '',
  };
}

/** What an Approve or Reject button carries (Slack allows 2000 characters). */
export interface ButtonValue {
  workflowId: string;
  digest: string;
}

export const SLACK_ACTION_IDS = { approve: 'medic_approve', reject: 'medic_reject' } as const;

export function encodeButtonValue(value: ButtonValue): string {
  return JSON.stringify({ v: 1, w: value.workflowId, d: value.digest });
}

/** The button's value, or undefined when it is not one Medic made. */
export function decodeButtonValue(text: string): ButtonValue | undefined {
  try {
    const parsed = JSON.parse(text) as { v?: unknown; w?: unknown; d?: unknown };
    if (parsed.v !== 1 || typeof parsed.w !== 'string' || typeof parsed.d !== 'string') return undefined;
    if (parsed.w.length > 500 || !/^[A-Za-z0-9_-]{8,64}$/.test(parsed.d)) return undefined;
    return { workflowId: parsed.w, digest: parsed.d };
  } catch {
    return undefined;
  }
}

/** Slack's mrkdwn gives `&`, `<` and `>` meaning (links, mentions): everything Medic quotes is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clock = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** Why a click no longer decides: what happened to the question it was shown. */
export function supersededText(state: IncidentState): string {
  const a = state.approval;
  if (a?.decidedBy && a.decision) {
    const how = a.channel ? ` via ${a.channel}` : '';
    const when = a.decidedAt ? ` at ${clock(a.decidedAt)}` : '';
    const then =
      state.status === 'AWAITING_APPROVAL' ? '; it now asks a new question' : `; it is ${state.status}`;
    return escapeMrkdwn(
      `This request no longer stands: ${a.decision} by ${a.decidedBy}${how}${when}${then}.`,
    );
  }
  if (state.status === 'AWAITING_APPROVAL')
    return 'This request no longer stands: the incident asks a new question (a new step, or new evidence); answer the newer message.';
  return escapeMrkdwn(
    `This request no longer stands: the incident is ${state.status} and waits for no decision.`,
  );
}

/** "Approved by <@U0456> at 2026-12-04 10:02 UTC: restart demo (REMEDIATING)". */
export function outcomeText(input: {
  verdict: 'approve' | 'reject';
  user: string;
  at: string;
  proposed?: string;
  status: string;
}): string {
  const verb = input.verdict === 'approve' ? 'Approved' : 'Rejected';
  const what = input.proposed ? `: ${escapeMrkdwn(input.proposed)}` : '';
  return `${verb} by <@${input.user}> at ${clock(input.at)}${what} (${input.status})`;
}
