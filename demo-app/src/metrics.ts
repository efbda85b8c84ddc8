// Prometheus metrics of the demo app, in a registry of its own so that several instances (tests)
// do not collide in prom-client's global one.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ALERT_TYPES } from './symptoms.js';

export interface DemoMetrics {
  registry: Registry;
  httpRequests: Counter<'status'>;
  activeFaults: Gauge<'fault'>;
  eventLoopLag: Gauge;
}

export function createMetrics(): DemoMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: DemoMetrics = {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by status code',
      labelNames: ['status'],
      registers: [registry],
    }),
    activeFaults: new Gauge({
      name: 'demo_active_faults',
      help: '1 while the fault is active, else 0',
      labelNames: ['fault'],
      registers: [registry],
    }),
    eventLoopLag: new Gauge({
      name: 'demo_event_loop_lag_seconds',
      help: 'Longest event-loop delay over the last two monitor intervals',
      registers: [registry],
    }),
  };
  for (const fault of ALERT_TYPES) metrics.activeFaults.set({ fault }, 0);
  return metrics;
}
