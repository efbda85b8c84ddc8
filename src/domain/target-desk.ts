// What the incidents of one target know of each other, kept by the target's guard beside its leases, so
// that one container's trouble gets one action and at most one question:
// - incidents that wait on the target (for a person, or for a limit to end) follow it, and are told when it
//   was restarted: by another incident's action (with its outcome) or from outside Medic (the engine's
//   restart policy, a person), so they verify health instead of acting or asking;
// - the first incident to ask a person owns the target's question; another incident that would ask too
//   joins it instead, and the two learn of each other.
// Pure: the guard workflow holds the state and sends what these functions say to whom.

/** What the desk needs of the guard's actions: when each was granted and given back, and whether it counted. */
export interface DeskAction {
  grantedAt: number;
  releasedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'not-acted' | 'step-done';
  dryRun: boolean;
}

export interface TargetDeskState {
  /** Incidents waiting on this target, oldest first: told when it is restarted. */
  followers: string[];
  /** The target's open question to a person, if any, until its owner's longest wait ends. */
  question?: {
    owner: string;
    alertType: string;
    joined: Array<{ workflowId: string; alertType: string }>;
    /** Past this the owner is taken for gone (it ended without saying so): the next asker owns the question. */
    untilMs?: number;
    /** The remedy the question proposes (absent: a restart, as before plans). */
    proposed?: string;
  };
}

/** What an incident tells its target's guard, or the engine watch does. */
export type DeskMessage =
  /** It waits for a person (or a limit): follow the target, and own or join its question. */
  | { kind: 'ask'; incidentWorkflowId: string; alertType: string; untilMs?: number; proposed?: string }
  /** It no longer waits; `unanswered`: it ended because nobody answered its question. */
  | { kind: 'done'; incidentWorkflowId: string; unanswered?: boolean }
  /** The engine watch saw the container start (ISO times: when, and its new start time). */
  | { kind: 'started'; at: string; startedAt: string };

/** What the guard tells an incident of its target. */
export type TargetNews =
  /** The answer to `ask`: who owns the question (the asker itself, or the incident it joined). */
  | { kind: 'question'; owner: string }
  /** To the owner: another incident joined its question. */
  | { kind: 'joined'; incidentWorkflowId: string; alertType: string }
  /** To those who joined: the owner's question ended (`unanswered`: nobody decided it). */
  | { kind: 'question-closed'; owner: string; unanswered: boolean }
  /** The target was restarted: by incident `by` (with its outcome), or from outside Medic (no `by`). */
  | { kind: 'restarted'; at: string; by?: string; outcome?: 'succeeded' | 'failed'; startedAt?: string };

export type Tell = { to: string; news: TargetNews };

/** Followers kept per target; more than any storm of distinct alert types on one container. */
const FOLLOWERS_LIMIT = 100;
/** Engine and workflow clocks may differ a little: a start this close to one of Medic's actions is its own. */
const OWN_START_GRACE_MS = 1000;

export const newTargetDesk = (): TargetDeskState => ({ followers: [] });

export function onDeskMessage(
  desk: TargetDeskState,
  message: DeskMessage,
  context: { holder?: string; actions: readonly DeskAction[]; now: number },
): Tell[] {
  switch (message.kind) {
    case 'ask':
      return ask(desk, message, context.now);
    case 'done':
      return done(desk, message.incidentWorkflowId, message.unanswered === true);
    case 'started':
      // By the process's own start time: Medic's restart starts it while its lease is held.
      return startedOutside(context, Date.parse(message.startedAt))
        ? desk.followers.map((to) => ({
            to,
            news: { kind: 'restarted', at: message.at, startedAt: message.startedAt },
          }))
        : [];
  }
}

/** Medic's own action on the target ended: its followers hear of it (an action not made says nothing). */
export function onActionEnded(
  desk: TargetDeskState,
  action: {
    incidentWorkflowId: string;
    outcome: 'succeeded' | 'failed' | 'not-acted' | 'step-done';
    at: string;
  },
): Tell[] {
  // An action not made says nothing; a plan between its steps says nothing yet (its last step will).
  if (action.outcome === 'not-acted' || action.outcome === 'step-done') return [];
  const news: TargetNews = {
    kind: 'restarted',
    at: action.at,
    by: action.incidentWorkflowId,
    outcome: action.outcome,
  };
  return desk.followers.filter((to) => to !== action.incidentWorkflowId).map((to) => ({ to, news }));
}

function ask(desk: TargetDeskState, message: Extract<DeskMessage, { kind: 'ask' }>, now: number): Tell[] {
  const { incidentWorkflowId: asker, alertType } = message;
  if (!desk.followers.includes(asker)) desk.followers.push(asker);
  // An owner past its longest wait ended without saying so (terminated, or an older run): it is replaced.
  const closed: Tell[] = [];
  const stale = desk.question;
  if (stale && stale.untilMs !== undefined && now > stale.untilMs && stale.owner !== asker) {
    desk.followers = desk.followers.filter((f) => f !== stale.owner);
    desk.question = undefined;
    for (const j of stale.joined)
      if (j.workflowId !== asker)
        closed.push({
          to: j.workflowId,
          news: { kind: 'question-closed', owner: stale.owner, unanswered: true },
        });
  }
  if (desk.followers.length > FOLLOWERS_LIMIT)
    desk.followers.splice(0, desk.followers.length - FOLLOWERS_LIMIT);
  const question = desk.question;
  if (question && question.owner === asker) {
    // The owner asks again (it decides again after a limit): its question lasts as long as its new wait.
    if (message.untilMs !== undefined) question.untilMs = Math.max(question.untilMs ?? 0, message.untilMs);
    return [...closed, { to: asker, news: { kind: 'question', owner: asker } }];
  }
  if (!question) {
    desk.question = {
      owner: asker,
      alertType,
      joined: [],
      ...(message.untilMs !== undefined ? { untilMs: message.untilMs } : {}),
      ...(message.proposed !== undefined ? { proposed: message.proposed } : {}),
    };
    return [...closed, { to: asker, news: { kind: 'question', owner: asker } }];
  }
  // One question is one decision about one remedy: an incident that proposes another asks on its own, so
  // an approval of one remedy is never taken for another (a rollback nobody was shown).
  if ((question.proposed ?? 'RESTART') !== (message.proposed ?? 'RESTART'))
    return [...closed, { to: asker, news: { kind: 'question', owner: asker } }];
  if (!question.joined.some((j) => j.workflowId === asker)) {
    question.joined.push({ workflowId: asker, alertType });
    if (question.joined.length > FOLLOWERS_LIMIT)
      question.joined.splice(0, question.joined.length - FOLLOWERS_LIMIT);
  }
  return [
    { to: asker, news: { kind: 'question', owner: question.owner } },
    { to: question.owner, news: { kind: 'joined', incidentWorkflowId: asker, alertType } },
  ];
}

function done(desk: TargetDeskState, incident: string, unanswered: boolean): Tell[] {
  desk.followers = desk.followers.filter((f) => f !== incident);
  const question = desk.question;
  if (!question) return [];
  if (question.owner !== incident) {
    question.joined = question.joined.filter((j) => j.workflowId !== incident);
    return [];
  }
  desk.question = undefined;
  return question.joined.map((j) => ({
    to: j.workflowId,
    news: { kind: 'question-closed', owner: incident, unanswered },
  }));
}

/** A start while Medic holds the lease, or just after one of its actions, is Medic's own restart. */
function startedOutside(context: { holder?: string; actions: readonly DeskAction[] }, atMs: number): boolean {
  if (context.holder) return false;
  return !context.actions.some(
    (a) =>
      !a.dryRun &&
      a.outcome !== 'not-acted' &&
      atMs >= a.grantedAt - OWN_START_GRACE_MS &&
      atMs <= (a.releasedAt ?? Number.POSITIVE_INFINITY) + OWN_START_GRACE_MS,
  );
}

/**
 * A start from outside Medic that says nothing new to an incident: the start its diagnosis already saw, or
 * one more turn of the restart loop the incident is about (the engine restarting it is the fault, not a fix).
 * Why it is ignored, or undefined when the news counts.
 */
export function outsideStartToIgnore(
  news: TargetNews,
  incident: { target: string; restartLoop: boolean; seenStartedAt?: string },
): string | undefined {
  if (news.kind !== 'restarted' || news.by) return undefined;
  if (incident.restartLoop)
    return `${incident.target} started at ${news.at}: one more turn of its restart loop, not a fix`;
  const seen = incident.seenStartedAt;
  if (news.startedAt && seen && Date.parse(news.startedAt) === Date.parse(seen))
    return `${incident.target} started at ${news.startedAt}, the start its diagnosis already saw`;
  return undefined;
}
