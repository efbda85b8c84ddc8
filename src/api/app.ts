// The HTTP API. Thin: validation and translation; Temporal work goes through the gateway.

import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { MedicConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { ApproverAuth } from './auth.js';
import { errorHandler, notFound } from './errors.js';
import { guardRoutes } from './guards.js';
import { IncidentGateway } from './incident-gateway.js';
import { incidentRoutes } from './incidents.js';
import { createApiMetrics } from './metrics.js';
import { webhookRoutes } from './webhooks.js';

export interface AppDeps {
  client: Client;
  config: Pick<MedicConfig, 'temporal' | 'webhookSecret' | 'approverTokens' | 'incident'>;
  logger: Logger;
  now?: () => number;
}

export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  if (!config.webhookSecret) {
    throw new Error('MEDIC_WEBHOOK_SECRET is not set: webhooks cannot be verified without it');
  }
  const gateway = new IncidentGateway(deps.client, config.temporal.taskQueue, config.incident);
  const metrics = createApiMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

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
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(
    webhookRoutes({
      gateway,
      webhookSecret: config.webhookSecret,
      logger,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  const auth = new ApproverAuth(config.approverTokens);
  app.use(incidentRoutes({ gateway, auth, metrics }));
  app.use(guardRoutes({ gateway, auth }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
