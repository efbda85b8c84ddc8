// Medic's own Prometheus metrics, served at GET /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createApiMetrics(
  sources: {
    pendingAlerts?: () => number;
    /** Counted in Temporal's visibility at each scrape; a failed count leaves the last values. */
    runningIncidents?: () => Promise<{ running: number; awaitingApproval: number }>;
  } = {},
) {
  // One visibility count serves both gauges of a scrape.
  let counting: Promise<{ running: number; awaitingApproval: number } | undefined> | undefined;
  const counts = () => {
    counting ??= (sources.runningIncidents?.() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => {
          counting = undefined;
        }, 1000).unref();
      });
    return counting;
  };
  type Counts = { running: number; awaitingApproval: number };
  const visibilityGauge = (name: string, help: string, pick: (c: Counts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const c = await counts();
        if (c) this.set(pick(c));
      },
    });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'medic_' });
  return {
    registry,
    webhooks: new Counter({
      name: 'medic_webhooks_total',
      help: 'Generic webhook alerts by outcome (accepted, coalesced, resolved, invalid, unauthenticated, out-of-scope, replayed, unavailable)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    alertmanager: new Counter({
      name: 'medic_alertmanager_alerts_total',
      help: 'Alerts in Alertmanager notifications by outcome (opened, coalesced, resolved, no-open-incident, out-of-scope, unavailable)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    alertmanagerTruncated: new Counter({
      name: 'medic_alertmanager_truncated_alerts_total',
      help: 'Alerts Alertmanager left out of its notifications (truncatedAlerts); raise max_alerts',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'medic_rate_limited_requests_total',
      help: "Requests refused for load (503 on the alert doors, 429 elsewhere) by bucket: a sender's own, or the unauthenticated requests' of a client address",
      labelNames: ['bucket'] as const,
      registers: [registry],
    }),
    pendingAlerts: new Gauge({
      name: 'medic_coalesced_pending_alerts',
      help: 'Duplicate alerts counted in memory and not yet signalled to their incidents',
      registers: [registry],
      collect() {
        if (sources.pendingAlerts) this.set(sources.pendingAlerts());
      },
    }),
    admission: new Histogram({
      name: 'medic_alert_admission_seconds',
      help: 'Time to answer an alert: opened (waits for Temporal) or coalesced (counted in memory)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    incidentsRunning: visibilityGauge(
      'medic_incidents_running',
      'Incident workflows running now (Temporal visibility)',
      (c) => c.running,
    ),
    awaitingApproval: visibilityGauge(
      'medic_incidents_awaiting_approval',
      'Running incidents waiting for a person to approve or reject (Temporal visibility)',
      (c) => c.awaitingApproval,
    ),
    decisions: new Counter({
      name: 'medic_approval_decisions_total',
      help: 'Approve and reject decisions made through the API',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
