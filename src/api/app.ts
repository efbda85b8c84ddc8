// The HTTP API. Thin: validation and translation; Temporal work goes through the gateway.

import type { Client } from '@temporalio/client';
import express, { type Express, type RequestHandler } from 'express';
import type { IngestSettings, MedicConfig } from '../config.js';
import { DEFAULT_LOG_LIMITS } from '../domain/log-bounds.js';
import { defaultList, defaultMs, defaultNumber, defaultText } from '../domain/settings-table.js';
import type { Logger } from '../logger.js';
import { IncidentGateway } from '../temporal/incident-gateway.js';
import { RunbookGateway } from '../temporal/runbook-gateway.js';
import { alertmanagerRoutes } from './alertmanager.js';
import { AlertmanagerAuth, ApproverAuth, ViewerAuth } from './auth.js';
import { AlertCoalescer } from './coalescer.js';
import { consoleRoutes } from './console.js';
import { errorHandler, notFound } from './errors.js';
import { guardRoutes } from './guards.js';
import { incidentRoutes } from './incidents.js';
import { createApiMetrics } from './metrics.js';
import { RateLimiter, rateLimit } from './rate-limit.js';
import { runbookRoutes } from './runbook.js';
import { securityHeaders } from './security-headers.js';
import { statsRoutes } from './stats.js';
import { webhookRoutes } from './webhooks.js';

/** What an app built without ingest settings uses (the defaults of the MEDIC_* variables). */
export const DEFAULT_INGEST: IngestSettings = {
  alertmanagerTokens: [],
  alertmanagerTargetLabels: defaultList('MEDIC_ALERTMANAGER_TARGET_LABELS'),
  alertmanagerHostLabels: defaultList('MEDIC_ALERTMANAGER_HOST_LABELS'),
  coalesceWindowMs: defaultMs('MEDIC_COALESCE_WINDOW'),
  coalesceMaxWindowMs: defaultMs('MEDIC_COALESCE_MAX_WINDOW'),
  rateLimit: {
    perSecond: defaultNumber('MEDIC_RATE_LIMIT_PER_SECOND'),
    burst: defaultNumber('MEDIC_RATE_LIMIT_BURST'),
  },
};

/** The Temporal dev server's Web UI (MEDIC_TEMPORAL_UI_URL's default). */
const DEFAULT_TEMPORAL_UI_URL = defaultText('MEDIC_TEMPORAL_UI_URL');
/** MEDIC_DECISION_TIMEOUT's default. */
const DEFAULT_DECISION_TIMEOUT_MS = defaultMs('MEDIC_DECISION_TIMEOUT');

export interface AppDeps {
  client: Client;
  config: Pick<MedicConfig, 'temporal' | 'webhookSecret' | 'approverTokens' | 'incident'> &
    Partial<Pick<MedicConfig, 'ingest' | 'logLimits'>> & {
      /** Only `decisionTimeoutMs` is read here (default 10 s). */
      api?: Partial<MedicConfig['api']>;
      /** Where the console links incidents in the Temporal Web UI (default: the dev server's UI). */
      temporalUiUrl?: string;
      /** Without any, reads are open: the configuration allows that only on a loopback address. */
      viewerTokens?: MedicConfig['viewerTokens'];
    };
  logger: Logger;
  now?: () => number;
}

export interface MedicApp extends Express {
  /** Sends the coalesced alerts still held in memory; call it when the server stops. */
  drainIngest(): Promise<void>;
}

export function createApp(deps: AppDeps): MedicApp {
  const { config, logger } = deps;
  const ingest = config.ingest ?? DEFAULT_INGEST;
  const logLimits = config.logLimits ?? DEFAULT_LOG_LIMITS;
  if (!config.webhookSecret) {
    throw new Error('MEDIC_WEBHOOK_SECRET is not set: webhooks cannot be verified without it');
  }
  const gateway = new IncidentGateway(deps.client, config.temporal.taskQueue, config.incident, logLimits);
  const coalescer = new AlertCoalescer(
    gateway,
    { windowMs: ingest.coalesceWindowMs, maxWindowMs: ingest.coalesceMaxWindowMs },
    logger.child({ component: 'coalescer' }),
    deps.now,
  );
  const metrics = createApiMetrics({
    pendingAlerts: () => coalescer.pendingAlerts,
    runningIncidents: () => gateway.countRunning(),
  });
  const app = express() as MedicApp;
  app.drainIngest = () => coalescer.drain();
  app.disable('x-powered-by');
  // Answers are small, uncached JSON (Cache-Control: no-store): hashing each for an ETag is waste.
  app.set('etag', false);
  // Behind a proxy every request would share one source; run the API where it sees its senders.
  app.set('trust proxy', false);
  app.use(securityHeaders);
  app.use(rateLimit(new RateLimiter(ingest.rateLimit), () => metrics.rateLimited.inc(), deps.now));

  app.get('/healthz', async (_req, res) => {
    try {
      await deps.client.withDeadline(Date.now() + 2000, () =>
        deps.client.connection.workflowService.getSystemInfo({}),
      );
      res.json({ status: 'ok', temporal: 'reachable' });
    } catch (err) {
      res.status(503).json({
        status: 'degraded',
        temporal: 'unreachable',
        error: { code: 'temporal_unavailable', message: (err as Error).message },
      });
    }
  });
  const requireReader = readerCheck(config);
  app.get('/metrics', requireReader, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(
    webhookRoutes({
      coalescer,
      webhookSecret: config.webhookSecret,
      logLimits,
      logger,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  app.use(
    alertmanagerRoutes({
      coalescer,
      auth: new AlertmanagerAuth(ingest.alertmanagerTokens),
      targetLabels: ingest.alertmanagerTargetLabels,
      hostLabels: ingest.alertmanagerHostLabels,
      logLimits,
      logger,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  app.use(
    consoleRoutes({
      temporalUiUrl: config.temporalUiUrl ?? DEFAULT_TEMPORAL_UI_URL,
      namespace: config.temporal.namespace,
    }),
  );
  const auth = new ApproverAuth(config.approverTokens);
  const decisionTimeoutMs = config.api?.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
  app.use(incidentRoutes({ gateway, auth, requireReader, metrics, decisionTimeoutMs }));
  app.use(guardRoutes({ gateway, auth, requireReader }));
  const runbook = new RunbookGateway(deps.client, config.temporal.taskQueue);
  app.use(runbookRoutes({ runbook, auth, requireReader, timeoutMs: decisionTimeoutMs }));
  app.use(statsRoutes({ gateway, auth, requireReader, ...(deps.now ? { now: deps.now } : {}) }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/** Reads need a viewer's or an approver's token once viewer tokens exist; /healthz stays open. */
function readerCheck(config: AppDeps['config']): RequestHandler {
  if (!config.viewerTokens?.length) return (_req, _res, next) => next();
  const readers = new ViewerAuth(config.viewerTokens, config.approverTokens);
  return (req, res, next) => {
    res.locals.reader = readers.authenticate(req);
    next();
  };
}
