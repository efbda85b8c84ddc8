// What can go wrong between Medic's clients and Temporal, as typed errors: each caller (the HTTP API, the
// engine watch) decides what they mean to its own audience, so this layer knows nothing about HTTP.

/** Temporal could not take or answer the request in time: the caller should retry later. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
  /** A sensible wait before retrying. */
  readonly retryAfterSeconds = 5;

  constructor(cause: unknown) {
    super(`Temporal is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class IncidentNotFoundError extends Error {
  override name = 'IncidentNotFoundError';

  constructor(readonly workflowId: string) {
    super(`no incident ${workflowId}`);
  }
}

/** A target's guard starts with Medic's first action on it; before that there is nothing to read or reset. */
export class GuardNotFoundError extends Error {
  override name = 'GuardNotFoundError';

  constructor(
    readonly target: string,
    consequence: string,
  ) {
    super(`no guard for ${target} yet: ${consequence}`);
  }
}

/** A decision arrived for an incident that is not waiting for one. */
export class NotAwaitingApprovalError extends Error {
  override name = 'NotAwaitingApprovalError';

  constructor(
    readonly workflowId: string,
    readonly status: string,
    verdict: 'approve' | 'reject',
  ) {
    super(`incident ${workflowId} is ${status}, not AWAITING_APPROVAL; nothing to ${verdict}`);
  }
}

/** No worker took a decision within the decision timeout: nothing was decided, the caller may retry. */
export class DecisionTimeoutError extends Error {
  override name = 'DecisionTimeoutError';
  readonly retryAfterSeconds = 5;

  constructor(
    readonly workflowId: string,
    timeoutMs: number,
    why = `no Medic worker took it within ${Math.round(timeoutMs / 1000)} s (is a worker running, and Temporal reachable?)`,
  ) {
    super(`nothing was decided for ${workflowId}: ${why}; retry with the same Idempotency-Key`);
  }
}

/** The workflow refused the decision's payload. */
export class InvalidDecisionError extends Error {
  override name = 'InvalidDecisionError';
}
