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
import { openRoute, RequestLimits } from './rate-limit.js';
import { runbookRoutes } from './runbook.js';
import { securityHeaders } from './security-headers.js';
import { SingleFlight } from './single-flight.js';
import { slackActionRoutes } from './slack-actions.js';
import { statsRoutes } from './stats.js';
import { WebhookSenders } from './webhook-senders.js';
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
  unauthenticatedRateLimit: {
    perSecond: defaultNumber('MEDIC_RATE_LIMIT_UNAUTHENTICATED_PER_SECOND'),
    burst: defaultNumber('MEDIC_RATE_LIMIT_UNAUTHENTICATED_BURST'),
  },
};

/** How long /healthz keeps Temporal's answer: a prober looping on it costs Temporal one call a second. */
const HEALTH_CACHE_MS = 1000;
const HEALTH_DEADLINE_MS = 2000;

/** The Temporal dev server's Web UI (MEDIC_TEMPORAL_UI_URL's default). */
const DEFAULT_TEMPORAL_UI_URL = defaultText('MEDIC_TEMPORAL_UI_URL');
/** MEDIC_DECISION_TIMEOUT's default. */
const DEFAULT_DECISION_TIMEOUT_MS = defaultMs('MEDIC_DECISION_TIMEOUT');

export interface AppDeps {
  client: Client;
  config: Pick<MedicConfig, 'temporal' | 'webhookSecret' | 'approverTokens' | 'incident'> &
    Partial<Pick<MedicConfig, 'ingest' | 'logLimits' | 'webhookSenders' | 'slack'>> & {
      /** `decisionTimeoutMs` (default 10 s) and `trustedProxies` (default none) are read here. */
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
  const senders = new WebhookSenders(config.webhookSenders ?? [], config.webhookSecret);
  if (!senders.configured) {
    throw new Error(
      'neither MEDIC_WEBHOOK_SENDERS nor MEDIC_WEBHOOK_SECRET is set: webhooks cannot be verified without one',
    );
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
  // The client address (for the unauthenticated requests' bucket) is the connection's peer, unless the
  // peer is a proxy the operator named: then X-Forwarded-For's nearest untrusted address.
  const trustedProxies = config.api?.trustedProxies ?? [];
  app.set('trust proxy', trustedProxies.length > 0 ? trustedProxies : false);
  app.use(securityHeaders);
  const limits = new RequestLimits(
    { authenticated: ingest.rateLimit, unauthenticated: ingest.unauthenticatedRateLimit },
    (bucket) => metrics.rateLimited.inc({ bucket }),
    deps.now,
  );
  const open = openRoute(limits);

  const health = new SingleFlight<void>({ ttlMs: HEALTH_CACHE_MS, keepFailures: true, now: deps.now });
  app.get('/healthz', open, async (_req, res) => {
    try {
      await health.get('temporal', async () => {
        await deps.client.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () =>
          deps.client.connection.workflowService.getSystemInfo({}),
        );
      });
      res.json({ status: 'ok', temporal: 'reachable' });
    } catch (err) {
      res.status(503).json({
        status: 'degraded',
        temporal: 'unreachable',
        error: { code: 'temporal_unavailable', message: (err as Error).message },
      });
    }
  });
  const requireReader = readerCheck(config, limits);
  const approvers = new ApproverAuth(config.approverTokens);
  const requireApprover: RequestHandler = (req, res, next) => {
    res.locals.approver = limits.check(
      req,
      'other',
      (name) => `approver:${name}`,
      () => approvers.authenticate(req),
    );
    next();
  };
  app.get('/metrics', requireReader, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(
    webhookRoutes({
      coalescer,
      senders,
      limits,
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
      limits,
      targetLabels: ingest.alertmanagerTargetLabels,
      hostLabels: ingest.alertmanagerHostLabels,
      logLimits,
      logger,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  app.use('/console', open);
  app.use(
    consoleRoutes({
      temporalUiUrl: config.temporalUiUrl ?? DEFAULT_TEMPORAL_UI_URL,
      namespace: config.temporal.namespace,
    }),
  );
  const decisionTimeoutMs = config.api?.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
  const doors = { gateway, requireApprover, requireReader };
  app.use(incidentRoutes({ ...doors, metrics, decisionTimeoutMs }));
  app.use(guardRoutes(doors));
  app.use('/integrations/slack', open);
  app.use(
    slackActionRoutes({
      gateway,
      settings: config.slack ?? { signingSecret: undefined, approvers: [], responseHosts: [] },
      decisionTimeoutMs,
      logger: logger.child({ component: 'slack-actions' }),
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  const runbook = new RunbookGateway(deps.client, config.temporal.taskQueue);
  app.use(runbookRoutes({ runbook, requireApprover, requireReader, timeoutMs: decisionTimeoutMs }));
  app.use(statsRoutes({ ...doors, ...(deps.now ? { now: deps.now } : {}) }));
  app.use(open, notFound);
  app.use(errorHandler(logger));
  return app;
}

/**
 * Reads need a viewer's or an approver's token once viewer tokens exist (each reader then has its own
 * bucket); without any, reads are open and limited per client address. /healthz stays open.
 */
function readerCheck(config: AppDeps['config'], limits: RequestLimits): RequestHandler {
  if (!config.viewerTokens?.length) return openRoute(limits);
  const readers = new ViewerAuth(config.viewerTokens, config.approverTokens);
  return (req, res, next) => {
    res.locals.reader = limits.check(
      req,
      'other',
      (name) => `reader:${name}`,
      () => readers.authenticate(req),
    );
    next();
  };
}
