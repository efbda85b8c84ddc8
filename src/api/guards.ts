// GET /guards/:target (the guard's state and the global budget) and POST /guards/:target/reset
// (a person closes an open circuit breaker; needs an approver token).
import express, { type Router } from 'express';
import { TARGET_NAME_PATTERN } from '../domain/naming.js';
import { pathParam } from './errors.js';
import type { IncidentDoorDeps } from './route-deps.js';

const target = (raw: string | string[] | undefined) =>
  pathParam(
    raw,
    TARGET_NAME_PATTERN,
    'invalid_target',
    'target must be a container name: letters, digits, _ . - (max 128)',
  );

export function guardRoutes(deps: IncidentDoorDeps): Router {
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
