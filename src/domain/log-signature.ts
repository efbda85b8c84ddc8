// A normalised error signature from log lines: the same fault gives the same string,
// whatever the timestamps, counters, ids and secrets in its messages.
import { redactSecrets } from './redact.js';

const NOISE: Array<[RegExp, string]> = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  [/\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}(\.\d+)?(z|[+-]\d{2}:?\d{2})?\b/gi, '<time>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b[0-9a-f]{12,}\b/gi, '<hex>'],
  [/\d+/g, '<n>'],
  [/\s+/g, ' '],
];

const ERROR_WORDS = /\b(error|fatal|panic|exception|fail(ed|ure)?|oom|killed|timeout|timed out|refused)\b/i;

/** The message of a log line, whether it is JSON (`msg`/`message`) or plain text. */
export function logMessage(line: string): { level?: string; message: string } {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const message = parsed.msg ?? parsed.message;
      const level = parsed.level;
      return {
        level: typeof level === 'string' ? level.toLowerCase() : undefined,
        message: typeof message === 'string' ? message : trimmed,
      };
    } catch {
      // not JSON after all: treat as text
    }
  }
  return { message: trimmed };
}

export function normaliseMessage(message: string): string {
  let out = message.toLowerCase();
  for (const [pattern, replacement] of NOISE) out = out.replace(pattern, replacement);
  return out.trim().slice(0, 160);
}

/**
 * The signature is the normalised message of the most recent error-level line (or the most recent
 * line that reads like an error), redacted; `none` when the logs show no error at all.
 */
export function errorSignature(logs: readonly string[]): string {
  for (let i = logs.length - 1; i >= 0; i--) {
    const { level, message } = logMessage(logs[i] ?? '');
    if (level === 'error' || level === 'fatal' || (!level && ERROR_WORDS.test(message))) {
      const normalised = normaliseMessage(redactSecrets(message));
      if (normalised) return normalised;
    }
  }
  return 'none';
}

/**
 * The form signatures are compared and stored in. Signatures learned before redaction kept secrets
 * (`postgres://app:s<n>cretpassw<n>rd@db`); redaction re-applied to them gives the signature the same
 * line has now, so the fixes learned under them keep matching. A normalised signature holds no digit
 * (`<n>` stands for them), so `<n>` is read as a digit again while redacting: a token with digits in it
 * still looks like a token.
 */
export function canonicalSignature(signature: string): string {
  const normalised = !/\d/.test(signature);
  const redacted = redactSecrets(normalised ? signature.replaceAll('<n>', '0') : signature).toLowerCase();
  return normalised ? redacted.replace(/\d+/g, '<n>') : redacted;
}
