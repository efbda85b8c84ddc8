// Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack): the
// signature is `v0=` + hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's
// signing secret; a timestamp more than 5 minutes from now is refused, and the comparison takes constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
export const SLACK_TOLERANCE_MS = 5 * 60 * 1000;

export function signSlackRequest(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`v0:${timestampSeconds}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

export type SlackHeaderCheck =
  | { ok: true; signature: string; timestampSeconds: number }
  | { ok: false; reason: string };

/** What can be judged before the body is read: both headers, their form, the timestamp's age. */
export function checkSlackHeaders(input: {
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
}): SlackHeaderCheck {
  const { signature, timestamp } = input;
  if (!signature || !timestamp)
    return {
      ok: false,
      reason: `missing ${!signature ? SLACK_SIGNATURE_HEADER : SLACK_TIMESTAMP_HEADER} header`,
    };
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: `${SLACK_TIMESTAMP_HEADER} must be Unix seconds` };
  const timestampSeconds = Number(timestamp);
  const ageMs = Math.abs(input.nowMs - timestampSeconds * 1000);
  if (ageMs > SLACK_TOLERANCE_MS)
    return {
      ok: false,
      reason: `request timestamp is ${Math.round(ageMs / 1000)} s away from now (limit ${SLACK_TOLERANCE_MS / 1000} s)`,
    };
  if (!/^v0=[0-9a-f]{64}$/.test(signature))
    return { ok: false, reason: `${SLACK_SIGNATURE_HEADER} must be v0=<64 lowercase hex digits>` };
  return { ok: true, signature, timestampSeconds };
}

/** The signature against the raw body, in constant time. */
export function slackSignatureMatches(
  secret: string,
  timestampSeconds: number,
  rawBody: Buffer,
  signature: string,
): boolean {
  const expected = Buffer.from(signSlackRequest(secret, timestampSeconds, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
