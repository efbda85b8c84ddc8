// The names of the series the incident workflow records (workflows/incident/metrics.ts), and their
// histogram buckets, which the worker hands to the Prometheus exporter. A contract: the Grafana dashboard
// (deploy/grafana/dashboards/medic.json) queries them, and a test checks every one it queries exists.
export const MEDIC_WORKFLOW_METRICS = {
  incidentsClosed: 'medic_incidents_closed_total',
  timeToHealthy: 'medic_time_to_healthy_seconds',
  phase: 'medic_phase_seconds',
  actions: 'medic_actions_total',
  guardDenials: 'medic_guard_denials_total',
  runbookHits: 'medic_runbook_hits_total',
} as const;

/** Bucket bounds in seconds for the histograms (the worker passes them to the exporter). */
export const MEDIC_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [MEDIC_WORKFLOW_METRICS.timeToHealthy]: [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
  [MEDIC_WORKFLOW_METRICS.phase]: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
};
