// Checks for every signal and update payload, run inside the workflows at their boundary: a signal can
// come from anyone who can reach Temporal (the CLI, the Web UI, a script), not only from Medic's API, so
// a workflow never trusts its shape. Pure and dependency-free, so the workflow bundle stays small; each
// check answers what is wrong in words, or undefined when the payload is well formed.
import { LOCAL_HOST } from './naming.js';
import { type Alert, SEVERITIES } from './types.js';

type Check = string | undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown, field: string, max: number, optional = false): Check => {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '') return `${field} must be a non-empty string`;
  return value.length > max ? `${field} must be at most ${max} characters` : undefined;
};

const isoTime = (value: unknown, field: string): Check =>
  typeof value === 'string' && Number.isFinite(Date.parse(value))
    ? undefined
    : `${field} must be a date-time`;

const first = (...checks: Check[]): Check => checks.find((c) => c !== undefined);

/** `approve` / `reject`: `{ by, comment? }`. */
export function checkDecisionPayload(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be a JSON object like {"by":"alice"}';
  return first(
    text(payload.by, 'by', 100),
    text(payload.comment, 'comment', 2000, true),
    payload.notAfter === undefined ? undefined : isoTime(payload.notAfter, 'notAfter'),
  );
}

/** A refusal the API tells an incident: who, through which channel, and why. */
export function checkRefusedDecision(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  if (!['api', 'slack', 'temporal-update', 'temporal-signal'].includes(payload.channel as string))
    return 'channel must be one of api, slack, temporal-update, temporal-signal';
  return first(text(payload.by, 'by', 100), text(payload.reason, 'reason', 500));
}

/** The sender's `resolved`. */
export function checkResolvedPayload(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  return first(
    isoTime(payload.endedAt, 'endedAt'),
    isoTime(payload.receivedAt, 'receivedAt'),
    payload.sender === undefined ? undefined : text(payload.sender, 'sender', 64),
  );
}

/**
 * An `alert` for an incident about `target`. The severity is not checked here: one Medic does not know
 * is accepted and means a person decides (see `unrecognisedSeverity`).
 */
export function checkAlertPayload(payload: unknown, target: string, host: string = LOCAL_HOST): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  const shape = first(
    text(payload.target, 'target', 256),
    text(payload.alertType, 'alertType', 64),
    text(payload.source, 'source', 32),
    isoTime(payload.firedAt, 'firedAt'),
    isoTime(payload.receivedAt, 'receivedAt'),
    Array.isArray(payload.logs) && payload.logs.every((l) => typeof l === 'string')
      ? undefined
      : 'logs must be a list of strings',
    payload.count === undefined || (Number.isInteger(payload.count) && (payload.count as number) > 0)
      ? undefined
      : 'count must be a positive integer',
    text(payload.deliveryId, 'deliveryId', 512, true),
    text(payload.host, 'host', 64, true),
    text(payload.sender, 'sender', 64, true),
  );
  if (shape) return shape;
  // One container's alert never joins another's incident, whatever the workflow id says.
  if (payload.target !== target) return `the alert is about ${String(payload.target)}, not ${target}`;
  // Nor one host's alert another host's: the same name on two hosts is two containers.
  const alertHost = payload.host ?? LOCAL_HOST;
  if (alertHost !== host) return `the alert is about a container on ${String(alertHost)}, not on ${host}`;
  return undefined;
}

/** The severity an alert's payload names, when it is not one of Medic's four. */
export function unrecognisedSeverity(alert: Pick<Alert, 'severity'>): string | undefined {
  return (SEVERITIES as readonly string[]).includes(alert.severity)
    ? undefined
    : String(alert.severity).slice(0, 64);
}

const positiveNumbers = (value: unknown, field: string, keys: readonly string[]): Check => {
  if (!isObject(value)) return `${field} must be an object`;
  const bad = keys.find(
    (k) => typeof value[k] !== 'number' || !Number.isFinite(value[k]) || (value[k] as number) < 0,
  );
  return bad ? `${field}.${bad} must be a number >= 0` : undefined;
};

const GUARD_LIMIT_KEYS = [
  'cooldownMs',
  'maxRestartsPerHour',
  'breakerThreshold',
  'breakerResetMs',
  'leaseTtlMs',
];

/** A lease request to a guard (from an incident, or anyone who can signal it). */
export function checkLeaseRequest(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  return first(
    text(payload.requestId, 'requestId', 128),
    text(payload.incidentWorkflowId, 'incidentWorkflowId', 1024),
    payload.action === 'RESTART' ? undefined : 'action must be RESTART',
    typeof payload.dryRun === 'boolean' ? undefined : 'dryRun must be true or false',
    text(payload.approvedBy, 'approvedBy', 100, true),
    positiveNumbers(payload.limits, 'limits', GUARD_LIMIT_KEYS),
  );
}

export function checkLeaseRelease(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  const outcomes = ['succeeded', 'failed', 'not-acted', 'step-done'];
  return first(
    text(payload.requestId, 'requestId', 128),
    outcomes.includes(payload.outcome as string)
      ? undefined
      : `outcome must be one of ${outcomes.join(', ')}`,
  );
}

/** `resetBreaker` and other requests that only name who asks. */
export function checkByPayload(payload: unknown): Check {
  return isObject(payload)
    ? text(payload.by, 'by', 100)
    : 'the payload must be an object like {"by":"alice"}';
}

/** `healthyImage`: the image a target was verified healthy on (an image id, its name, when). */
export function checkHealthyImage(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object like {"id":"sha256:...","verifiedAt":"..."}';
  return first(
    typeof payload.id === 'string' && /^sha256:[0-9a-f]{64}$/.test(payload.id)
      ? undefined
      : 'id must be an image id (sha256: and 64 hex digits)',
    text(payload.name, 'name', 512, true),
    text(payload.verifiedAt, 'verifiedAt', 40),
  );
}

export function checkBudgetRequest(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  return first(
    text(payload.requestId, 'requestId', 128),
    text(payload.incidentWorkflowId, 'incidentWorkflowId', 1024),
    text(payload.target, 'target', 256),
    typeof payload.dryRun === 'boolean' ? undefined : 'dryRun must be true or false',
    text(payload.approvedBy, 'approvedBy', 100, true),
    positiveNumbers(payload.limits, 'limits', ['perHour', 'perDay']),
  );
}

export function checkBudgetRefund(payload: unknown): Check {
  return isObject(payload) ? text(payload.requestId, 'requestId', 128) : 'the payload must be an object';
}

/**
 * A refusal's `{ kind, until? }`, when there is one: answers from guards older than the kinds have none.
 * A kind this code does not know is accepted (a newer guard's); the permit counts it as it comes.
 */
const refusal = (value: unknown): Check => {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'decision.refusal must be an object like {"kind":"cooldown"}';
  return first(
    text(value.kind, 'decision.refusal.kind', 64),
    value.until === undefined ? undefined : isoTime(value.until, 'decision.refusal.until'),
  );
};

/** A guard's or the budget's answer to an incident. */
export function checkPermitAnswer(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  const decision = payload.decision;
  return first(
    text(payload.requestId, 'requestId', 128),
    payload.scope === 'lease' || payload.scope === 'budget' ? undefined : 'scope must be lease or budget',
    isObject(decision) && ['granted', 'denied', 'queued'].includes(decision.kind as string)
      ? first(text(decision.reason, 'decision.reason', 4000), refusal(decision.refusal))
      : 'decision.kind must be granted, denied or queued',
  );
}

/** The sweeper's settings, sent by every worker start of its host. */
export function checkSweepSettings(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  return first(
    positiveNumbers(payload.thresholds, 'thresholds', ['cpuPercent', 'memoryPercent', 'sustainedSweeps']),
    typeof payload.healthProbeTimeoutMs === 'number' && payload.healthProbeTimeoutMs > 0
      ? undefined
      : 'healthProbeTimeoutMs must be a positive number',
    typeof payload.searchAttributes === 'boolean' ? undefined : 'searchAttributes must be true or false',
    typeof payload.intervalMs === 'number' && payload.intervalMs >= 1000
      ? undefined
      : 'intervalMs must be at least 1000',
  );
}

/** An incident asks the sweeper to report its anomaly again, should it still be there. */
export function checkForgetAnomaly(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  return first(text(payload.target, 'target', 256), text(payload.check, 'check', 64));
}

/** To a target's guard: an incident's `ask` or `done`, or the engine watch's `started`. */
export function checkDeskMessage(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  switch (payload.kind) {
    case 'ask':
      return first(
        text(payload.incidentWorkflowId, 'incidentWorkflowId', 1024),
        text(payload.alertType, 'alertType', 64),
        payload.untilMs === undefined ||
          (typeof payload.untilMs === 'number' && Number.isFinite(payload.untilMs) && payload.untilMs > 0)
          ? undefined
          : 'untilMs must be a positive number of milliseconds since the epoch',
        payload.proposed === undefined ? undefined : text(payload.proposed, 'proposed', 64),
      );
    case 'done':
      return first(
        text(payload.incidentWorkflowId, 'incidentWorkflowId', 1024),
        payload.unanswered === undefined || typeof payload.unanswered === 'boolean'
          ? undefined
          : 'unanswered must be true or false',
      );
    case 'started':
      return first(isoTime(payload.at, 'at'), isoTime(payload.startedAt, 'startedAt'));
    default:
      return 'kind must be ask, done or started';
  }
}

/** From a target's guard to one of its incidents. */
export function checkTargetNews(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  switch (payload.kind) {
    case 'question':
      return text(payload.owner, 'owner', 1024);
    case 'joined':
      return first(
        text(payload.incidentWorkflowId, 'incidentWorkflowId', 1024),
        text(payload.alertType, 'alertType', 64),
      );
    case 'question-closed':
      return first(
        text(payload.owner, 'owner', 1024),
        typeof payload.unanswered === 'boolean' ? undefined : 'unanswered must be true or false',
      );
    case 'restarted':
      return first(
        isoTime(payload.at, 'at'),
        text(payload.by, 'by', 1024, true),
        payload.outcome === undefined || payload.outcome === 'succeeded' || payload.outcome === 'failed'
          ? undefined
          : 'outcome must be succeeded or failed',
      );
    default:
      return 'kind must be question, joined, question-closed or restarted';
  }
}

/** A decision passed on from the other incident of a joined question. */
export function checkPassedDecision(payload: unknown): Check {
  if (!isObject(payload)) return 'the payload must be an object';
  const channels = ['api', 'temporal-update', 'temporal-signal', 'slack'];
  return first(
    payload.verdict === 'approved' || payload.verdict === 'rejected'
      ? undefined
      : 'verdict must be approved or rejected',
    text(payload.by, 'by', 100),
    text(payload.comment, 'comment', 1000, true),
    channels.includes(payload.channel as string)
      ? undefined
      : `channel must be one of ${channels.join(', ')}`,
    text(payload.via, 'via', 1024),
  );
}
