// GET /guards/:target (the guard's state and the global budget) and POST /guards/:target/reset
// (a person closes an open circuit breaker; needs an approver token). `?host=<name>` picks the container
// host (default `local`): the same name on two hosts has two guards.
import express, { type Router } from 'express';
import { z } from 'zod';
import { HOST_NAME_PATTERN, LOCAL_HOST, TARGET_NAME_PATTERN } from '../domain/naming.js';
import { parseBody, pathParam } from './errors.js';
import type { IncidentDoorDeps } from './route-deps.js';

const target = (raw: string | string[] | undefined) =>
  pathParam(
    raw,
    TARGET_NAME_PATTERN,
    'invalid_target',
    'target must be a container name: letters, digits, _ . - (max 128)',
  );

const hostQuerySchema = z.object({
  host: z
    .string()
    .regex(HOST_NAME_PATTERN, 'host must be a host name: letters, digits, _ . - (max 64)')
    .default(LOCAL_HOST),
});

const hostOf = (query: unknown) => parseBody(hostQuerySchema, query, 'invalid_query', 'invalid query').host;

export function guardRoutes(deps: IncidentDoorDeps): Router {
  const router = express.Router();

  router.get('/guards/:target', deps.requireReader, async (req, res) => {
    res.json(await deps.gateway.guard(target(req.params.target), hostOf(req.query)));
  });

  router.post('/guards/:target/reset', deps.requireApprover, async (req, res) => {
    const name = target(req.params.target);
    const host = hostOf(req.query);
    const by = res.locals.approver as string;
    await deps.gateway.resetBreaker(name, by, host);
    res.status(202).json({ target: name, host, reset: 'requested', by });
  });
  return router;
}
