// HMAC-SHA256 over `<timestamp>.<raw body>`, the scheme the demo app and any generic sender use.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-medic-signature';
export const TIMESTAMP_HEADER = 'x-medic-timestamp';
export const DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

export type SignatureCheck = { ok: true; timestampSeconds: number } | { ok: false; reason: string };

export function verifyWebhookSignature(input: {
  secret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
  toleranceMs?: number;
}): SignatureCheck {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) {
    return {
      ok: false,
      reason: `missing ${!signature ? SIGNATURE_HEADER : TIMESTAMP_HEADER} header; sign the request as docs/reference/http-api.md describes`,
    };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: `${TIMESTAMP_HEADER} must be Unix seconds` };
  }
  const timestampSeconds = Number(timestamp);
  const ageMs = Math.abs(input.nowMs - timestampSeconds * 1000);
  const tolerance = input.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  if (ageMs > tolerance) {
    return {
      ok: false,
      reason: `signature timestamp is ${Math.round(ageMs / 1000)} s away from now (limit ${tolerance / 1000} s); check the sender's clock`,
    };
  }
  const expected = Buffer.from(signWebhook(input.secret, timestampSeconds, input.rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match the body; check the shared webhook secret' };
  }
  return { ok: true, timestampSeconds };
}
