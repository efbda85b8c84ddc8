// A token bucket per source: an IPv4 address, or an IPv6 /64 (see rateLimitBucket). Buckets are kept
// for recent sources only, so a scan of many addresses cannot grow memory without bound.
import type { RequestHandler } from 'express';
import { rateLimitBucket } from '../domain/ip-address.js';
import { HttpError } from './errors.js';

export interface RateLimitSettings {
  /** Sustained requests per second per source; 0 turns the limit off. */
  perSecond: number;
  /** How many requests a source may send at once above the sustained rate. */
  burst: number;
}

const MAX_SOURCES = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly settings: RateLimitSettings) {}

  /** 0 when the request may pass, else the seconds to wait. `address` is the peer's IP address. */
  take(address: string, nowMs: number): number {
    const { perSecond, burst } = this.settings;
    if (perSecond <= 0) return 0;
    const source = rateLimitBucket(address);
    let bucket = this.buckets.get(source);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * perSecond);
      bucket.at = nowMs;
      // Re-insert: the map's order is then least recently seen first.
      this.buckets.delete(source);
    } else {
      if (this.buckets.size >= MAX_SOURCES) {
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

export function rateLimit(
  limiter: RateLimiter,
  onLimited: () => void = () => undefined,
  now: () => number = Date.now,
): RequestHandler {
  return (req, _res, next) => {
    const waitSeconds = limiter.take(req.socket.remoteAddress ?? 'unknown', now());
    if (waitSeconds === 0) {
      next();
      return;
    }
    onLimited();
    next(
      new HttpError(429, 'rate_limited', 'too many requests from this source; slow down', undefined, {
        'Retry-After': String(waitSeconds),
      }),
    );
  };
}
