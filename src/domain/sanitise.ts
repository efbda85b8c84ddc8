// Text from outside made safe to keep, before anything is signalled or stored: bounded first (so the
// redaction patterns only ever see short lines), then redacted.
import { boundLogLines, cutLine, type LogLimits } from './log-bounds.js';
import { redactSecrets } from './redact.js';
import type { Alert } from './types.js';

/** Log lines within the limits and without the secrets the patterns recognise. */
export function sanitiseLogLines(lines: readonly string[], limits: LogLimits): string[] {
  // Bounded again after redacting: a replacement can be longer than what it replaced.
  return boundLogLines(boundLogLines(lines, limits).map(redactSecrets), limits);
}

/** One free-text field (an id, a reason, a detail): cut to one log line's length, then redacted. */
export function sanitiseText(text: string, limits: LogLimits): string {
  return cutLine(redactSecrets(cutLine(text, limits.maxLineChars)), limits.maxLineChars);
}

/**
 * The alert as Medic may keep it: every field a sender or a container wrote is bounded and redacted.
 * Idempotent, so the parsers and the incident gateway (every source's door into Temporal) both apply it.
 */
export function sanitiseAlert(alert: Alert, limits: LogLimits): Alert {
  const text = (value: string) => sanitiseText(value, limits);
  return {
    ...alert,
    logs: sanitiseLogLines(alert.logs, limits),
    ...(alert.externalId !== undefined ? { externalId: text(alert.externalId) } : {}),
    ...(alert.targetRejected !== undefined ? { targetRejected: text(alert.targetRejected) } : {}),
    ...(alert.evidence ? { evidence: { ...alert.evidence, detail: text(alert.evidence.detail) } } : {}),
  };
}
