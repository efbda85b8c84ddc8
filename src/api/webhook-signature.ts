// HMAC-SHA256 over `<timestamp>.<raw body>`, the scheme the demo app and any generic sender use. The
// headers are checked first (present, well formed, fresh), so a request that cannot pass is refused
// before its body is read; the HMAC needs the body.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The sender's name (MEDIC_WEBHOOK_SENDERS); the plain MEDIC_WEBHOOK_SECRET needs none. */
export const SENDER_HEADER = 'x-medic-sender';
export const SIGNATURE_HEADER = 'x-medic-signature';
export const TIMESTAMP_HEADER = 'x-medic-timestamp';
export const DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;

export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

export type SignatureCheck = { ok: true; timestampSeconds: number } | { ok: false; reason: string };
export type HeaderCheck =
  | { ok: true; signature: string; timestampSeconds: number }
  | { ok: false; reason: string };

/** What can be judged without the body: both headers present, the signature's form, the timestamp's age. */
export function checkSignatureHeaders(input: {
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
  toleranceMs?: number;
}): HeaderCheck {
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
  if (!SIGNATURE_FORMAT.test(signature)) {
    return { ok: false, reason: `${SIGNATURE_HEADER} must be sha256=<64 lowercase hex digits>` };
  }
  return { ok: true, signature, timestampSeconds };
}

/** The signature against the body, in constant time. */
export function signatureMatches(
  secret: string,
  timestampSeconds: number,
  rawBody: Buffer,
  signature: string,
): boolean {
  const expected = Buffer.from(signWebhook(secret, timestampSeconds, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function verifyWebhookSignature(input: {
  secret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
  toleranceMs?: number;
}): SignatureCheck {
  const headers = checkSignatureHeaders(input);
  if (!headers.ok) return headers;
  if (!signatureMatches(input.secret, headers.timestampSeconds, input.rawBody, headers.signature)) {
    return { ok: false, reason: "signature does not match the body; check the sender's secret" };
  }
  return { ok: true, timestampSeconds: headers.timestampSeconds };
}
