// Ingest under pressure: the replay cache at its cap, and rate-limit buckets for IPv6.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/api/rate-limit.js';
import { ReplayCache } from '../../src/api/replay-cache.js';
import { canonicalAddress, isLoopbackAddress, rateLimitBucket } from '../../src/domain/ip-address.js';

const WINDOW_MS = 5 * 60 * 1000;

describe('a full replay cache never refuses every webhook', () => {
  it('takes a fresh signature when the cache is full of live ones', () => {
    const cache = new ReplayCache(WINDOW_MS, 3);
    const t0 = 1_900_000_000;
    for (const sig of ['a', 'b', 'c']) expect(cache.claim(sig, t0, t0 * 1000)).toBe('claimed');
    // Before the fix: 'full' (503) for every webhook until the entries expired.
    expect(cache.claim('d', t0 + 1, (t0 + 1) * 1000)).toBe('claimed');
    expect(cache.claim('e', t0 + 2, (t0 + 2) * 1000)).toBe('claimed');
    expect(cache.size).toBeLessThanOrEqual(3);
    // A copy of a forgotten signature is refused, never taken as new.
    expect(cache.claim('a', t0, (t0 + 2) * 1000)).toBe('forgotten');
    // Signatures still held are judged as before.
    expect(cache.claim('e', t0 + 2, (t0 + 3) * 1000)).toBe('pending');
  });

  it('never accepts a replay and always takes a signature newer than all before it, at any cap', () => {
    const claimOp = fc.record({
      signature: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      // Senders' clocks differ: a timestamp up to 20 s behind or ahead of Medic's.
      skewSeconds: fc.integer({ min: -20, max: 20 }),
      advanceMs: fc.nat({ max: 3000 }),
      release: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(claimOp, { maxLength: 80 }), (cap, ops) => {
        const cache = new ReplayCache(30_000, cap);
        const held = new Set<string>();
        let now = 1_000_000_000_000;
        let newest = Number.NEGATIVE_INFINITY;
        for (const op of ops) {
          now += op.advanceMs;
          const ts = Math.floor(now / 1000) + op.skewSeconds;
          const key = `${op.signature}@${ts}`;
          const claim = cache.claim(key, ts, now);
          if (held.has(key)) expect(claim).not.toBe('claimed');
          if (ts > newest) expect(claim).toBe('claimed');
          expect(cache.size).toBeLessThanOrEqual(cap);
          if (claim !== 'claimed') continue;
          newest = Math.max(newest, ts);
          if (op.release) cache.release(key, ts);
          else held.add(key);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('forgets a second once the age check refuses it anyway', () => {
    const cache = new ReplayCache(WINDOW_MS);
    const t0 = 1_900_000_000;
    cache.claim('a', t0, t0 * 1000);
    cache.settle('a', t0);
    expect(cache.claim('a', t0, t0 * 1000 + WINDOW_MS)).toBe('replayed');
    cache.claim('b', t0 + 400, t0 * 1000 + WINDOW_MS + 1);
    expect(cache.size).toBe(1);
  });
});

describe('rotating IPv6 addresses does not bypass the per-source rate limit', () => {
  it('buckets IPv6 peers by /64', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 });
    expect(limiter.take('2001:db8:1:2::1', 0)).toBe(0);
    expect(limiter.take('2001:db8:1:2::2', 0)).toBe(0);
    // Before the fix each new address had its own full bucket.
    expect(limiter.take('2001:db8:1:2:ffff:eeee:dddd:cccc', 0)).toBeGreaterThan(0);
    expect(limiter.take('2001:0db8:0001:0002:0:0:0:9', 0)).toBeGreaterThan(0);
    // Another /64 is another source.
    expect(limiter.take('2001:db8:1:3::1', 0)).toBe(0);
  });

  it('counts an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 });
    expect(limiter.take('::ffff:10.0.0.7', 0)).toBe(0);
    expect(limiter.take('10.0.0.7', 0)).toBeGreaterThan(0);
    expect(limiter.take('::ffff:a00:7', 0)).toBeGreaterThan(0);
    // IPv4 keeps one bucket per address.
    expect(limiter.take('10.0.0.8', 0)).toBe(0);
  });
});

describe('IP address text', () => {
  it('reads the usual spellings', () => {
    expect(rateLimitBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(rateLimitBucket('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(rateLimitBucket('not an address')).toBe('not an address');
    expect(canonicalAddress('[::1]')).toBe('0:0:0:0:0:0:0:1');
    expect(canonicalAddress('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(canonicalAddress('1::2::3')).toBeUndefined();
    expect(canonicalAddress('256.0.0.1')).toBeUndefined();
    expect(canonicalAddress('1.2.3.4::')).toBeUndefined();
    expect(isLoopbackAddress('127.5.6.7')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::2')).toBe(false);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
  });
});
