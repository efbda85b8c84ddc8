// Medic's own Prometheus metrics, served at GET /metrics.
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'medic_' });
  return {
    registry,
    webhooks: new Counter({
      name: 'medic_webhooks_total',
      help: 'Webhook alerts by outcome (accepted, invalid, unauthenticated, unavailable)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'medic_approval_decisions_total',
      help: 'Approve and reject decisions made through the API',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
