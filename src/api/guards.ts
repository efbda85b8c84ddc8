// GET /guards/:target (the guard's state and the global budget) and POST /guards/:target/reset
// (a person closes an open circuit breaker; needs an approver token).
import express, { type RequestHandler, type Router } from 'express';
import { TARGET_NAME_PATTERN } from '../domain/naming.js';
import type { IncidentGateway } from '../temporal/incident-gateway.js';
import type { ApproverAuth } from './auth.js';
import { HttpError } from './errors.js';

function target(raw: string | string[] | undefined): string {
  const name = Array.isArray(raw) ? raw[0] : raw;
  if (!name || !TARGET_NAME_PATTERN.test(name)) {
    throw new HttpError(
      400,
      'invalid_target',
      'target must be a container name: letters, digits, _ . - (max 128)',
    );
  }
  return name;
}

export function guardRoutes(deps: {
  gateway: IncidentGateway;
  auth: ApproverAuth;
  /** Lets a request read only with a viewer's or approver's token, when reads need one. */
  requireReader: RequestHandler;
}): Router {
  const router = express.Router();

  router.get('/guards/:target', deps.requireReader, async (req, res) => {
    res.json(await deps.gateway.guard(target(req.params.target)));
  });

  router.post(
    '/guards/:target/reset',
    (req, res, next) => {
      res.locals.approver = deps.auth.authenticate(req);
      next();
    },
    async (req, res) => {
      const name = target(req.params.target);
      const by = res.locals.approver as string;
      await deps.gateway.resetBreaker(name, by);
      res.status(202).json({ target: name, reset: 'requested', by });
    },
  );
  return router;
}
