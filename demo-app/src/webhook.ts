// Signed alert delivery to Medic, with exponential backoff on failures Medic may recover from.
// Medic names a delivery by its signature (which covers the timestamp), so every retry of one alert
// resends the very same signed request: a retry whose first answer was lost is then counted once.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DEFAULT_TOLERANCE_MS,
  SENDER_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../../src/api/webhook-signature.js';
import { withDeadline } from './deadline.js';
import type { Log } from './log.js';
import type { AlertType, Severity } from './symptoms.js';

/** The body of POST /webhooks/alert. */
export interface AlertPayload {
  incident_id: string;
  container_name: string;
  /** The container host, as Medic's host worker there is named; absent: Medic's `local`. */
  host?: string;
  alert_type: AlertType;
  severity: Severity;
  logs: string[];
  timestamp: string;
}

export const ALERT_LOG_LINES = 50;

export function alertPayload(input: {
  alertType: AlertType;
  severity: Severity;
  containerName: string;
  hostName?: string;
  log: Log;
  nowMs: number;
}): AlertPayload {
  return {
    incident_id: randomUUID(),
    container_name: input.containerName,
    ...(input.hostName ? { host: input.hostName } : {}),
    alert_type: input.alertType,
    severity: input.severity,
    logs: input.log.recent(ALERT_LOG_LINES),
    timestamp: new Date(input.nowMs).toISOString(),
  };
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per attempt; a timed-out attempt is retried like a network error. */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  attemptTimeoutMs: 10_000,
};

/** The wait after failed attempt number `attempt` (1-based): base, 2×base, 4×base … capped. */
export function backoffDelayMs(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
): number {
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

export type DeliveryResult =
  | { outcome: 'accepted'; status: number; attempts: number }
  | { outcome: 'rejected'; status: number; attempts: number }
  | { outcome: 'gave-up'; reason: string; attempts: number }
  | { outcome: 'cancelled'; attempts: number };

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface WebhookSenderOptions {
  url: string;
  /** The secret of the sender named below, or Medic's plain MEDIC_WEBHOOK_SECRET when none is. */
  secret: string;
  /** The sender's name in Medic's MEDIC_WEBHOOK_SENDERS, sent as X-Medic-Sender. */
  sender?: string;
  log: Log;
  fetch?: typeof fetch;
  sleep?: Sleep;
  now?: () => number;
  retry?: Partial<RetryPolicy>;
}

const RESPONSE_EXCERPT_CHARS = 500;
/**
 * A signed request is resent as is until its timestamp is this old, then signed afresh (a new delivery
 * to Medic): Medic refuses timestamps older than its window, and a request may spend an attempt's
 * timeout in flight.
 */
const RESIGN_AFTER_MS = DEFAULT_TOLERANCE_MS - 60_000;

interface SignedRequest {
  body: string;
  timestampSeconds: number;
  signature: string;
}

type AttemptResult =
  | { answered: true; status: number; text: string; retryAfterMs: number | undefined }
  | { answered: false; error: string };

export class WebhookSender {
  private readonly fetch: typeof fetch;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  private readonly policy: RetryPolicy;
  private readonly closing = new AbortController();

  constructor(private readonly options: WebhookSenderOptions) {
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.now = options.now ?? Date.now;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /** Delivers one alert. Never throws: every outcome is returned and logged. */
  async send(payload: AlertPayload, override: Partial<RetryPolicy> = {}): Promise<DeliveryResult> {
    const policy = { ...this.policy, ...override };
    const about = { alertType: payload.alert_type, incidentId: payload.incident_id };
    let request = this.sign(JSON.stringify(payload));
    let reason = 'no attempt made';
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      if (this.closing.signal.aborted) return { outcome: 'cancelled', attempts: attempt - 1 };
      if (this.now() - request.timestampSeconds * 1000 > RESIGN_AFTER_MS) {
        // Medic would refuse the old timestamp: this is a new delivery, which Medic may count again.
        request = this.sign(request.body);
        this.options.log.warn('alert signed afresh: the first signature is too old to resend', about);
      }
      this.options.log.info('alert sent', { ...about, attempt, url: this.options.url });
      const result = await this.attempt(request, policy.attemptTimeoutMs);
      if (this.closing.signal.aborted) return { outcome: 'cancelled', attempts: attempt };
      if (result.answered && result.status >= 200 && result.status < 300) {
        this.options.log.info('alert accepted', { ...about, status: result.status, attempts: attempt });
        return { outcome: 'accepted', status: result.status, attempts: attempt };
      }
      if (result.answered && attempt > 1 && isReplayRefusal(result)) {
        // An earlier attempt of this very request was taken; only its answer was lost.
        this.options.log.info('alert already accepted by an earlier attempt', {
          ...about,
          attempts: attempt,
        });
        return { outcome: 'accepted', status: result.status, attempts: attempt };
      }
      if (result.answered && result.status < 500 && result.status !== 429) {
        this.options.log.error('alert rejected by Medic; not retrying', {
          ...about,
          status: result.status,
          response: result.text,
          attempts: attempt,
          hint: "check MEDIC_WEBHOOK_SENDER, MEDIC_WEBHOOK_SECRET (the sender's secret in Medic's MEDIC_WEBHOOK_SENDERS) and the payload",
        });
        return { outcome: 'rejected', status: result.status, attempts: attempt };
      }
      reason = result.answered ? `HTTP ${result.status}: ${result.text}` : result.error;
      if (attempt === policy.maxAttempts) break;
      const retryAfterMs = result.answered ? (result.retryAfterMs ?? 0) : 0;
      const waitMs = Math.min(Math.max(backoffDelayMs(attempt, policy), retryAfterMs), policy.maxDelayMs);
      this.options.log.warn('alert delivery failed, will retry', {
        ...about,
        attempt,
        reason,
        retryInMs: waitMs,
      });
      try {
        await this.sleep(waitMs, this.closing.signal);
      } catch {
        return { outcome: 'cancelled', attempts: attempt };
      }
    }
    this.options.log.error('alert delivery failed, giving up', {
      ...about,
      attempts: policy.maxAttempts,
      reason,
      url: this.options.url,
    });
    return { outcome: 'gave-up', reason, attempts: policy.maxAttempts };
  }

  /** Cancels waits and requests in progress; pending sends resolve as cancelled. */
  close(): void {
    this.closing.abort();
  }

  private sign(body: string): SignedRequest {
    const timestampSeconds = Math.floor(this.now() / 1000);
    return { body, timestampSeconds, signature: signWebhook(this.options.secret, timestampSeconds, body) };
  }

  private async attempt(request: SignedRequest, timeoutMs: number): Promise<AttemptResult> {
    try {
      return await withDeadline(timeoutMs, this.closing.signal, async (signal) => {
        const response = await this.fetch(this.options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.options.sender ? { [SENDER_HEADER]: this.options.sender } : {}),
            [TIMESTAMP_HEADER]: String(request.timestampSeconds),
            [SIGNATURE_HEADER]: request.signature,
          },
          body: request.body,
          signal,
        });
        const text = (await response.text()).slice(0, RESPONSE_EXCERPT_CHARS);
        return {
          answered: true,
          status: response.status,
          text,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        } as const;
      });
    } catch (err) {
      const error = err as Error & { cause?: { code?: string; message?: string } };
      if (error.name === 'TimeoutError')
        return { answered: false, error: `no answer within ${timeoutMs} ms` };
      const cause = error.cause?.code ?? error.cause?.message;
      return { answered: false, error: cause ? `${error.message} (${cause})` : error.message };
    }
  }
}

/** Medic's answer to a signature it already took (401 replayed_signature). */
function isReplayRefusal(result: { status: number; text: string }): boolean {
  if (result.status !== 401) return false;
  try {
    return (JSON.parse(result.text) as { error?: { code?: unknown } }).error?.code === 'replayed_signature';
  } catch {
    return false;
  }
}

/** Retry-After in seconds; the HTTP-date form is ignored (the backoff applies). */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
