// The pure part of the self-monitor: readings and thresholds in, the symptoms that are present out.
import type { Thresholds } from './config.js';

export const ALERT_TYPES = [
  'memory-leak',
  'cpu-spike',
  'db-latency',
  'error-storm',
  'hang',
  'crash',
  'bad-config',
  'bad-release',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export const ALERT_SEVERITY: Record<AlertType, Severity> = {
  'memory-leak': 'medium',
  'cpu-spike': 'medium',
  'db-latency': 'high',
  'error-storm': 'medium',
  hang: 'critical',
  crash: 'high',
  'bad-config': 'medium',
  'bad-release': 'high',
};

export type ProbeOutcome = 'answered' | 'timed-out' | 'failed';

/** What the monitor measured over one interval. */
export interface SymptomReadings {
  rssMb: number;
  /** RSS now minus RSS at start. */
  rssGrowthMb: number;
  /** Longest event-loop delay over the last two intervals (see EventLoopLag). */
  eventLoopLagMs: number;
  /** Slowest simulated query of the interval (see SimulatedDatabase.takeLatencyReading). */
  dbLatencyMs: number;
  /** Application errors (failed requests and jobs) in the interval. */
  errors: number;
  /** How the latest finished self-probe of /health went; undefined before the first one finished. */
  healthProbe: ProbeOutcome | undefined;
  /** What is wrong with the settings file; undefined when it is fine. */
  configProblem?: string;
  /** What a bad release breaks once it fails; undefined for a good release. */
  releaseProblem?: string;
}

export interface Symptom {
  alertType: AlertType;
  severity: Severity;
  /** The name /health gives it; a hang has none because /health cannot answer then. */
  healthReason: string | undefined;
  /** The log message a diagnosis reads. */
  message: string;
  fields: Record<string, number | string>;
}

/** A symptom is present when its reading reaches its threshold. */
export function evaluateSymptoms(readings: SymptomReadings, thresholds: Thresholds): Symptom[] {
  const symptoms: Symptom[] = [];
  const add = (
    alertType: AlertType,
    healthReason: string | undefined,
    message: string,
    fields: Symptom['fields'],
  ) => symptoms.push({ alertType, severity: ALERT_SEVERITY[alertType], healthReason, message, fields });

  if (readings.rssGrowthMb >= thresholds.memoryGrowthMb) {
    add('memory-leak', 'memory high', 'memory usage above threshold', {
      rssMb: round(readings.rssMb),
      rssGrowthMb: round(readings.rssGrowthMb),
      thresholdMb: thresholds.memoryGrowthMb,
    });
  }
  if (readings.eventLoopLagMs >= thresholds.eventLoopLagMs) {
    add('cpu-spike', 'event-loop lag', 'event loop blocked', {
      lagMs: round(readings.eventLoopLagMs),
      thresholdMs: thresholds.eventLoopLagMs,
    });
  }
  if (readings.dbLatencyMs >= thresholds.dbLatencyMs) {
    add('db-latency', 'slow database', 'database latency above threshold', {
      queryMs: round(readings.dbLatencyMs),
      thresholdMs: thresholds.dbLatencyMs,
    });
  }
  if (readings.errors >= thresholds.errorsPerInterval) {
    add('error-storm', 'error rate', 'error rate above threshold', {
      errors: readings.errors,
      threshold: thresholds.errorsPerInterval,
    });
  }
  if (readings.configProblem) {
    // A constant message: the diagnosis keys its runbook on it; the detail goes in the fields.
    add('bad-config', 'invalid configuration', 'invalid configuration: refusing to serve orders', {
      problem: readings.configProblem,
    });
  }
  if (readings.releaseProblem) {
    add('bad-release', 'bad release', 'order lookups fail since the release', {
      problem: readings.releaseProblem,
    });
  }
  if (readings.healthProbe === 'timed-out') {
    add('hang', undefined, 'service unresponsive: health probe got no answer', { probe: 'timed-out' });
  }
  return symptoms;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
