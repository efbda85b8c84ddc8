// GET /stats?since=24h: outcomes, time to healthy (overall and per phase), automatic against approved
// restarts, and the top targets and error signatures of the incidents that ended in the window, from
// Temporal's visibility and the incidents' recorded states. It says what it cannot see.
import express, { type Router } from 'express';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { computeStats } from '../domain/stats.js';
import { parseBody } from './errors.js';
import type { IncidentDoorDeps } from './route-deps.js';

const MAX_WINDOW_MS = 90 * 86_400_000;
/** Closed incidents read per request: each is one history read. */
export const STATS_INCIDENT_LIMIT = 1000;

const statsQuerySchema = z.object({
  since: z
    .string()
    .regex(/^\d{1,6}(m|h|d)$/, 'since must be a number of minutes, hours or days, e.g. 30m, 24h, 7d')
    .default('24h')
    .transform((text) => parseDuration(text))
    .refine((ms) => ms > 0 && ms <= MAX_WINDOW_MS, 'since must be more than 0 and at most 90d'),
});

export function statsRoutes(deps: IncidentDoorDeps & { now?: () => number }): Router {
  const router = express.Router();
  router.get('/stats', deps.requireReader, async (req, res) => {
    const { since } = parseBody(statsQuerySchema, req.query, 'invalid_query', 'invalid query');
    const to = deps.now?.() ?? Date.now();
    const from = to - since;
    const history = await deps.gateway.history(from, STATS_INCIDENT_LIMIT);
    const blind: string[] = [];
    if (history.retentionMs !== null && history.retentionMs < since) {
      blind.push(
        `the namespace keeps closed workflows for ${formatDuration(history.retentionMs)} (the dev server: 24h): incidents that ended earlier in the window are gone`,
      );
    }
    if (history.running > 0)
      blind.push(`${history.running} incident(s) still running are not counted until they end`);
    if (history.withoutState > 0)
      blind.push(
        `${history.withoutState} incident run(s) ended without a state (terminated, cancelled or failed)`,
      );
    if (history.truncated > 0)
      blind.push(
        `${history.truncated} more incident(s) ended in the window than the ${STATS_INCIDENT_LIMIT} read`,
      );
    res.json({
      window: {
        since: formatDuration(since),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      },
      ...computeStats(history.states),
      running: history.running,
      retention: history.retentionMs === null ? null : formatDuration(history.retentionMs),
      cannotSee: blind,
    });
  });
  return router;
}
