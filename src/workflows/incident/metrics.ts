// Medic's own series, recorded from the incident workflow through the SDK's metricMeter: the worker's
// Prometheus exporter serves them beside the runtime's temporal_* series. The SDK drops them on replay,
// so each is counted once however often a history is replayed. Names are a contract: the Grafana
// dashboard (deploy/grafana/dashboards/medic.json) queries them and a test checks every one exists.
import { metricMeter } from '@temporalio/workflow';
import type { Refusal } from '../../domain/guard.js';
import { MEDIC_WORKFLOW_METRICS } from '../../domain/metric-names.js';
import type { IncidentState, Phase } from '../../domain/types.js';

const M = MEDIC_WORKFLOW_METRICS;

export const incidentMetrics = {
  closed(state: IncidentState): void {
    metricMeter
      .createCounter(
        M.incidentsClosed,
        '',
        'Incident passes closed, by status, alert type and diagnosis source',
      )
      .add(1, {
        status: state.status,
        alert_type: state.alertType,
        diagnosis_source: state.diagnosis?.source ?? 'none',
      });
  },
  healthy(elapsedMs: number): void {
    metricMeter
      .createHistogram(M.timeToHealthy, 'float', 's', 'Time from the alert to a verified healthy target')
      .record(Math.max(0, elapsedMs) / 1000, {});
  },
  phase(phase: Phase, elapsedMs: number): void {
    metricMeter
      .createHistogram(M.phase, 'float', 's', 'Time spent in each phase of an incident')
      .record(Math.max(0, elapsedMs) / 1000, { phase });
  },
  /** `remedy`: RESTART, ROLLBACK, RAISE_MEMORY, or ACTION for a declared action (its name would be unbounded). */
  acted(mode: 'automatic' | 'approved', remedy = 'RESTART'): void {
    metricMeter
      .createCounter(M.actions, '', 'Actions Medic made (each plan step), automatic or approved, by remedy')
      .add(1, { mode, remedy: remedy.startsWith('ACTION:') ? 'ACTION' : remedy });
  },
  /** Labelled by the refusal's kind (`cooldown`, `hourly-limit`, `breaker-open`, `budget`, `no-answer`, ...). */
  denied(refusal: Refusal): void {
    metricMeter
      .createCounter(M.guardDenials, '', 'Automatic restarts the guard or the budget refused, by reason')
      .add(1, { reason: refusal.kind });
  },
  runbookHit(alertType: string): void {
    metricMeter
      .createCounter(M.runbookHits, '', 'Diagnoses answered by the learned runbook')
      .add(1, { alert_type: alertType });
  },
};
