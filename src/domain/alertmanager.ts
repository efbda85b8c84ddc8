// Alertmanager's webhook payload (version "4") and its mapping to Medic's alerts.
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
import { z } from 'zod';
import { DEFAULT_LOG_LIMITS, type LogLimits } from './log-bounds.js';
import { ALERT_TYPE_PATTERN, HOST_NAME_PATTERN, normaliseAlertType } from './naming.js';
import { sanitiseAlert } from './sanitise.js';
import { checkTargetName } from './target-name.js';
import type { Alert, ResolvedPayload, Severity } from './types.js';

export const MAX_ALERTS_PER_NOTIFICATION = 1000;

const labelSet = z
  .record(
    z.string().min(1, 'label names are not empty').max(256, 'label names are at most 256 characters'),
    z.string().max(4096, 'label values are at most 4096 characters'),
  )
  .refine((labels) => Object.keys(labels).length <= 200, 'at most 200 labels');

// Alertmanager writes RFC 3339 with nanoseconds; Go's zero time ("0001-01-01T00:00:00Z") means "unset".
const timestamp = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' });

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'status must be firing or resolved' }),
  labels: labelSet.refine((l) => (l.alertname ?? '').trim() !== '', 'labels.alertname is required'),
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(128).optional(),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4', { error: 'version must be "4" (Alertmanager webhook format)' }),
  groupKey: z.string().max(8192),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved'], { error: 'status must be firing or resolved' }),
  receiver: z.string().max(1024),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(4096).default(''),
  alerts: z
    .array(alertSchema)
    .max(MAX_ALERTS_PER_NOTIFICATION, `at most ${MAX_ALERTS_PER_NOTIFICATION} alerts per notification`),
});

export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>;
export type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];

/** Common severity words, Prometheus' and PagerDuty's, mapped onto Medic's four. */
const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical',
  page: 'critical',
  emergency: 'critical',
  fatal: 'critical',
  disaster: 'critical',
  high: 'high',
  error: 'high',
  major: 'high',
  medium: 'medium',
  warning: 'medium',
  warn: 'medium',
  minor: 'medium',
  average: 'medium',
  low: 'low',
  info: 'low',
  informational: 'low',
  notice: 'low',
  none: 'low',
};

/** What a missing `severity` label is called where the incident says why a person decides. */
export const MISSING_SEVERITY = '(no severity label)';

/**
 * Medic's severity for the label's word. A word Medic does not know, or no label at all, is kept as
 * `unrecognised` (and shown as critical), so the incident asks a person instead of acting on a guess.
 * Own properties only: `__proto__` or `constructor` are words like any other, not keys of the object.
 */
export function severityFromLabel(value: string | undefined): { severity: Severity; unrecognised?: string } {
  const word = (value ?? '').trim().toLowerCase();
  if (word === '') return { severity: 'critical', unrecognised: MISSING_SEVERITY };
  if (Object.hasOwn(SEVERITY_WORDS, word)) return { severity: SEVERITY_WORDS[word] as Severity };
  return { severity: 'critical', unrecognised: word.slice(0, 64) };
}

export type MappedAlert =
  | { kind: 'firing'; alert: Alert }
  | { kind: 'resolved'; target: string; alertType: string; host?: string; resolved: ResolvedPayload };

/**
 * The host an alert names: the first of `hostLabels` present. A value that is not a host name cannot be
 * routed, so it is kept as the reason a person must look (the target is then refused, never acted on).
 */
function hostOf(
  labels: Record<string, string>,
  hostLabels: readonly string[],
): { host?: string; problem?: string } {
  const label = hostLabels.find((l) => labels[l] !== undefined);
  if (!label) return {};
  const value = (labels[label] ?? '').trim();
  if (HOST_NAME_PATTERN.test(value)) return { host: value };
  return {
    problem: `the host label ${label}=${JSON.stringify(value.slice(0, 80))} is not a host name Medic can route to (letters, digits, _ . -)`,
  };
}

/**
 * One Alertmanager alert as Medic sees it. The target comes from the first of `targetLabels` present;
 * a missing or unsafe name keeps the alert (it becomes an escalated incident) under a stand-in target.
 */
export function mapAlertmanagerAlert(
  am: AlertmanagerAlert,
  options: {
    targetLabels: readonly string[];
    /** Labels that name the host, first present wins (MEDIC_ALERTMANAGER_HOST_LABELS); none: `local`. */
    hostLabels?: readonly string[];
    receivedAt: Date;
    logLimits?: LogLimits;
  },
): MappedAlert {
  const { host, problem: hostProblem } = hostOf(am.labels, options.hostLabels ?? ['host']);
  const labelName = options.targetLabels.find((l) => am.labels[l] !== undefined);
  const target = checkTargetName(
    labelName ? am.labels[labelName] : undefined,
    `the alert has none of the target labels ${options.targetLabels.join(', ')}; Medic cannot tell what to act on`,
  );
  const normalised = normaliseAlertType(am.labels.alertname ?? '');
  const alertType = ALERT_TYPE_PATTERN.test(normalised) ? normalised : 'unnamed-alert';
  const targetName = target.ok ? target.name : target.standIn;
  const receivedAt = options.receivedAt.toISOString();
  if (am.status === 'resolved') {
    const endedAt = am.endsAt && !am.endsAt.startsWith('0001-') ? am.endsAt : receivedAt;
    return {
      kind: 'resolved',
      target: targetName,
      alertType,
      ...(host ? { host } : {}),
      resolved: { source: 'alertmanager', endedAt: new Date(endedAt).toISOString(), receivedAt },
    };
  }
  // Only what Medic keeps is copied, sanitised: the annotations are not (nothing reads them).
  const severity = severityFromLabel(am.labels.severity);
  const alert: Alert = {
    source: 'alertmanager',
    ...(am.fingerprint ? { externalId: am.fingerprint } : {}),
    ...(host ? { host } : {}),
    target: targetName,
    alertType,
    severity: severity.severity,
    ...(severity.unrecognised ? { unrecognisedSeverity: severity.unrecognised } : {}),
    status: 'firing',
    // Alertmanager carries no log lines; the diagnosis reads them from the engine.
    logs: [],
    firedAt: new Date(am.startsAt).toISOString(),
    receivedAt,
    ...(target.ok ? {} : { targetRejected: target.reason }),
    ...(target.ok && hostProblem ? { targetRejected: hostProblem } : {}),
  };
  return { kind: 'firing', alert: sanitiseAlert(alert, options.logLimits ?? DEFAULT_LOG_LIMITS) };
}
