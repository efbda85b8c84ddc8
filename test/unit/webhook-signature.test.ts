import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/api/webhook-signature.js';

const secret = 'a-shared-secret-of-some-length';
const body = Buffer.from('{"container_name":"svc"}');
const now = 1_760_000_000_000;
const ts = Math.floor(now / 1000);

const check = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
  verifyWebhookSignature({
    secret,
    rawBody: body,
    signature: signWebhook(secret, ts, body),
    timestamp: String(ts),
    nowMs: now,
    ...overrides,
  });

describe('webhook signatures', () => {
  it('accepts a fresh signature over the timestamp and the exact body', () => {
    expect(check({})).toEqual({ ok: true, timestampSeconds: ts });
  });

  it('is the documented scheme: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">', () => {
    // Computed outside this code, so a sender following docs/reference/http-api.md agrees with Medic:
    //   printf '%s' '1760000000.{"container_name":"svc"}' | openssl dgst -sha256 -hmac 'a-shared-secret-of-some-length'
    const documented = 'sha256=2900df4fb60383e61c553ee101a7af83d8e835399f6259d2234c2b8fb971687a';
    expect(signWebhook(secret, ts, body)).toBe(documented);
    expect(check({ signature: documented })).toEqual({ ok: true, timestampSeconds: ts });
    expect(signWebhook(secret, ts, body)).not.toBe(signWebhook(secret, ts + 1, body));
  });

  it('rejects a missing signature or timestamp', () => {
    expect(check({ signature: undefined })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('missing'),
    });
    expect(check({ timestamp: undefined })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('missing'),
    });
  });

  it('rejects a wrong secret and a body changed after signing', () => {
    expect(check({ signature: signWebhook('another-secret-entirely', ts, body) }).ok).toBe(false);
    expect(check({ rawBody: Buffer.from('{"container_name":"other"}') }).ok).toBe(false);
    expect(check({ signature: 'sha256=short' }).ok).toBe(false);
  });

  it('rejects signatures more than five minutes old or ahead', () => {
    const old = ts - 301;
    expect(check({ timestamp: String(old), signature: signWebhook(secret, old, body) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('301 s'),
    });
    const ahead = ts + 301;
    expect(check({ timestamp: String(ahead), signature: signWebhook(secret, ahead, body) }).ok).toBe(false);
    const edge = ts - 299;
    expect(check({ timestamp: String(edge), signature: signWebhook(secret, edge, body) }).ok).toBe(true);
  });

  it('rejects a timestamp that is not Unix seconds', () => {
    expect(check({ timestamp: '2025-01-01T00:00:00Z' }).ok).toBe(false);
  });
});
