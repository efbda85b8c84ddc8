// What the route factories share: the alert doors (webhook, Alertmanager) and the incident and guard doors.
import type { RequestHandler } from 'express';
import type { LogLimits } from '../domain/log-bounds.js';
import type { Logger } from '../logger.js';
import type { IncidentGateway } from '../temporal/incident-gateway.js';
import type { AlertCoalescer } from './coalescer.js';
import type { ApiMetrics } from './metrics.js';
import type { RequestLimits } from './rate-limit.js';

/** A door alerts come in by: they are authenticated, limited per sender, bounded, coalesced and counted. */
export interface AlertDoorDeps {
  coalescer: AlertCoalescer;
  logLimits: LogLimits;
  logger: Logger;
  metrics: ApiMetrics;
  /** The rate limits, taken after the credential check; absent: none. */
  limits?: RequestLimits;
  /** The clock, for tests. */
  now?: () => number;
}

/** A door onto incidents and guards: reads need a reader, changes an approver. */
export interface IncidentDoorDeps {
  gateway: IncidentGateway;
  /** Lets a request change something only with an approver's token; sets `res.locals.approver` (the name). */
  requireApprover: RequestHandler;
  /** Lets a request read only with a viewer's or approver's token, when reads need one. */
  requireReader: RequestHandler;
}
