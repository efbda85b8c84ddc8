// Rate limits after authentication. A request whose credentials pass takes from its sender's own bucket
// (the webhook sender, the Alertmanager token, the approver or viewer), so nobody else's traffic uses it
// up. A request without valid credentials (an open endpoint, or credentials that failed) takes from its
// client address's bucket, a smaller one: a flood of those is refused without touching any sender's. The
// client address is the connection's peer, or X-Forwarded-For's client when the peer is a trusted proxy
// (Express's `trust proxy`, set from MEDIC_TRUSTED_PROXIES). Alert senders are refused for load with 503
// and Retry-After: Alertmanager retries a 5xx and drops a 4xx for good. Other doors answer 429.
import type { Request, RequestHandler } from 'express';
import { rateLimitBucket } from '../domain/ip-address.js';
import { HttpError } from './errors.js';

export interface RateLimitSettings {
  /** Sustained requests per second per bucket; 0 turns the limit off. */
  perSecond: number;
  /** How many requests a bucket may take at once above the sustained rate. */
  burst: number;
}

/** Buckets kept at once: the least recently seen go first, so a scan of many addresses stays bounded. */
const MAX_BUCKETS = 10_000;

/**
 * A token bucket per key. A key that is an address is bucketed as rateLimitBucket says (an IPv4 address,
 * an IPv6 /64); any other key (a sender's name) is its own bucket.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly settings: RateLimitSettings) {}

  /** 0 when the request may pass, else the seconds to wait. */
  take(key: string, nowMs: number): number {
    const { perSecond, burst } = this.settings;
    if (perSecond <= 0) return 0;
    const source = rateLimitBucket(key);
    let bucket = this.buckets.get(source);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond);
      bucket.at = nowMs;
      // Re-insert: the map's order is then least recently seen first.
      this.buckets.delete(source);
    } else {
      if (this.buckets.size >= MAX_BUCKETS) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: burst, at: nowMs };
    }
    this.buckets.set(source, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}

/** Which kind of door refuses: an alert door answers 503 (senders retry it), any other 429. */
export type Door = 'alert' | 'other';
export type Bucket = 'sender' | 'unauthenticated';

export class RequestLimits {
  private readonly senders: RateLimiter;
  private readonly strangers: RateLimiter;

  constructor(
    settings: { authenticated: RateLimitSettings; unauthenticated: RateLimitSettings },
    private readonly onLimited: (bucket: Bucket) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.senders = new RateLimiter(settings.authenticated);
    // One switch turns every limit off.
    this.strangers = new RateLimiter(
      settings.authenticated.perSecond <= 0 ? settings.authenticated : settings.unauthenticated,
    );
  }

  /** A request whose credentials passed: `who` is its sender's bucket, e.g. `alertmanager:am-prod`. */
  authenticated(who: string, door: Door): void {
    this.refuseIfEmpty(this.senders.take(`sender:${who}`, this.now()), 'sender', door);
  }

  /** A request without valid credentials: its client address's bucket. */
  unauthenticated(req: Request, door: Door): void {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    this.refuseIfEmpty(this.strangers.take(address, this.now()), 'unauthenticated', door);
  }

  /**
   * Runs a credential check: on success its name takes from that sender's bucket; on failure the request
   * is a stranger's, and the failure is thrown unless the stranger's bucket is empty (then that refusal).
   */
  check<T>(req: Request, door: Door, bucketOf: (who: T) => string, authenticate: () => T): T {
    let who: T;
    try {
      who = authenticate();
    } catch (err) {
      this.unauthenticated(req, door);
      throw err;
    }
    this.authenticated(bucketOf(who), door);
    return who;
  }

  private refuseIfEmpty(waitSeconds: number, bucket: Bucket, door: Door): void {
    if (waitSeconds === 0) return;
    this.onLimited(bucket);
    const whose = bucket === 'sender' ? 'this sender' : 'unauthenticated requests from this address';
    throw new HttpError(
      door === 'alert' ? 503 : 429,
      'rate_limited',
      `too many requests from ${whose}; retry after ${waitSeconds} s`,
      undefined,
      { 'Retry-After': String(waitSeconds) },
    );
  }
}

/** For routes open to anyone: the request takes from its client address's bucket. */
export const openRoute =
  (limits: RequestLimits): RequestHandler =>
  (req, _res, next) => {
    limits.unauthenticated(req, 'other');
    next();
  };
