// Parsing of alerts from outside. Every field is validated; errors name the field.
import { z } from 'zod';
import { DEFAULT_LOG_LIMITS, type LogLimits } from './log-bounds.js';
import { ALERT_TYPE_PATTERN, HOST_NAME_PATTERN, normaliseAlertType } from './naming.js';
import { sanitiseAlert } from './sanitise.js';
import { checkTargetName } from './target-name.js';
import { type Alert, SEVERITIES } from './types.js';

// Any length is taken (the body limit bounds it): alertFromWebhook cuts the lines to the shared limit,
// so a long line costs the sender its end, not the alert.
const logsSchema = z
  .union([z.array(z.string()), z.string()])
  .optional()
  .transform((logs) => {
    const lines = logs === undefined ? [] : typeof logs === 'string' ? logs.split(/\r?\n/) : logs;
    return lines.filter((l) => l.trim() !== '');
  });

/** The generic webhook payload (the demo app's, inherited from the AegisOps design). */
export const webhookAlertSchema = z.object({
  incident_id: z.string().min(1).max(200).optional(),
  // Any non-empty name is accepted here: an unsafe one becomes an escalated incident (checkTargetName),
  // so a person sees it, instead of a 4xx only the sender's logs would show.
  container_name: z
    .string({ error: 'container_name is required (the container the alert is about)' })
    .min(1, 'container_name is required (the container the alert is about)')
    .max(1024, 'container_name is at most 1024 characters'),
  alert_type: z
    .string({ error: 'alert_type is required (e.g. memory-leak)' })
    .min(1)
    .max(64)
    .transform(normaliseAlertType)
    .pipe(z.string().regex(ALERT_TYPE_PATTERN, 'alert_type must contain letters or digits')),
  severity: z.enum(SEVERITIES, { error: `severity must be one of ${SEVERITIES.join(', ')}` }),
  status: z.enum(['firing', 'resolved']).default('firing'),
  logs: logsSchema,
  timestamp: z.iso.datetime({ offset: true, error: 'timestamp must be an ISO 8601 date-time' }),
  /** The container host the target runs on, as its Medic host worker is named (MEDIC_HOST_NAME); default `local`. */
  host: z
    .string({ error: 'host must be a string' })
    .regex(
      HOST_NAME_PATTERN,
      'host must be a host name as its worker is named: letters, digits, _ . - (max 64), starting with a letter or digit',
    )
    .optional(),
  /** Run this incident in dry-run: everything but the action itself. */
  dry_run: z.boolean({ error: 'dry_run must be true or false' }).optional(),
});

export type WebhookAlertPayload = z.input<typeof webhookAlertSchema>;

/** The alert as Medic keeps it: its logs bounded (the newest lines) and redacted, like its other text. */
export function alertFromWebhook(
  payload: z.output<typeof webhookAlertSchema>,
  receivedAt: Date,
  logLimits: LogLimits = DEFAULT_LOG_LIMITS,
): Alert {
  const target = checkTargetName(payload.container_name);
  return sanitiseAlert(
    {
      source: 'webhook',
      ...(payload.host ? { host: payload.host } : {}),
      externalId: payload.incident_id,
      target: target.ok ? target.name : target.standIn,
      ...(target.ok ? {} : { targetRejected: target.reason }),
      alertType: payload.alert_type,
      severity: payload.severity,
      status: payload.status,
      logs: payload.logs,
      firedAt: new Date(payload.timestamp).toISOString(),
      receivedAt: receivedAt.toISOString(),
      ...(payload.dry_run ? { dryRun: true } : {}),
    },
    logLimits,
  );
}

/** Field-by-field messages, e.g. `{ path: "container_name", message: "..." }`. */
export function describeZodError(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
}

/** The first `max` issues in one line, e.g. `fixes.0.action: Invalid enum value`; `root` names the whole. */
export function issuesInWords(error: z.ZodError, max: number, root: string): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.join('.') || root}: ${i.message}`)
    .join('; ');
}

export const decisionSchema = z.object({
  by: z.string().trim().min(1, 'by is required: who decides').max(100),
  comment: z.string().max(2000).optional(),
});
