// GET /stats?since=24h: outcomes, time to healthy (overall and per phase), automatic against approved
// restarts, and the top targets and error signatures of the incidents that ended in the window, from
// Temporal's visibility and the incidents' recorded states. It says what it cannot see. One read of
// Temporal runs at a time, within a deadline, stopping at its limit; its answer serves every request for
// the same window for a few seconds, so a reader looping on it costs Temporal little.
import express, { type Router } from 'express';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { computeStats } from '../domain/stats.js';
import { HttpError, parseBody } from './errors.js';
import type { IncidentDoorDeps } from './route-deps.js';
import { SingleFlight } from './single-flight.js';

const MAX_WINDOW_MS = 90 * 86_400_000;
/** Closed incidents read per request: each is one history read. */
export const STATS_INCIDENT_LIMIT = 1000;
/** How long one answer serves every request for its window. */
export const STATS_CACHE_MS = 5000;

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
  const now = deps.now ?? Date.now;
  const answers = new SingleFlight<Record<string, unknown>>({ ttlMs: STATS_CACHE_MS, now });
  router.get('/stats', deps.requireReader, async (req, res) => {
    const { since } = parseBody(statsQuerySchema, req.query, 'invalid_query', 'invalid query');
    const key = String(since);
    if (!answers.has(key) && answers.busy) {
      // Another window is being read: one read of Temporal at a time, whoever asks.
      throw new HttpError(
        503,
        'stats_busy',
        'another /stats window is being read from Temporal; retry shortly',
        undefined,
        { 'Retry-After': '2' },
      );
    }
    res.json(await answers.get(key, () => readStats(since)));
  });

  async function readStats(since: number): Promise<Record<string, unknown>> {
    const to = now();
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
    return {
      window: {
        since: formatDuration(since),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      },
      ...computeStats(history.states),
      running: history.running,
      retention: history.retentionMs === null ? null : formatDuration(history.retentionMs),
      cannotSee: blind,
    };
  }
  return router;
}
