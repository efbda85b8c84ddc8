// The worker's health for container health checks: while the worker runs and Temporal answers, it
// touches a file; `node dist/healthcheck.js worker` calls it healthy while that file is fresh.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A file, not a port: nothing to bind (host networking shares ports), nothing to expose or secure. */
export const DEFAULT_WORKER_HEALTH_FILE = path.join(os.tmpdir(), 'medic-worker.health');
export const WORKER_HEALTH_INTERVAL_MS = 10_000;
/** Three missed beats: one slow call to Temporal is not yet a sick worker. */
export const WORKER_HEALTH_MAX_AGE_MS = 3 * WORKER_HEALTH_INTERVAL_MS;

export function workerHealthFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEDIC_WORKER_HEALTH_FILE || DEFAULT_WORKER_HEALTH_FILE;
}

/**
 * Beats while `isRunning()` and `reachTemporal()` both hold: a worker that polls a Temporal it cannot
 * reach, or one that has stopped, goes stale and the engine marks the container unhealthy.
 */
export function startWorkerHeartbeat(options: {
  file: string;
  isRunning: () => boolean;
  reachTemporal: () => Promise<unknown>;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const beat = async () => {
    if (!options.isRunning()) return;
    try {
      await options.reachTemporal();
      await fs.writeFile(options.file, `${new Date().toISOString()}\n`);
    } catch {
      // stale file = unhealthy; the worker's own log already says why Temporal is unreachable
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), options.intervalMs ?? WORKER_HEALTH_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await fs.rm(options.file, { force: true });
    },
  };
}

/** Whether the heartbeat file was written within `maxAgeMs`. */
export async function workerHeartbeatFresh(
  file: string,
  maxAgeMs = WORKER_HEALTH_MAX_AGE_MS,
): Promise<boolean> {
  try {
    const { mtimeMs } = await fs.stat(file);
    return Date.now() - mtimeMs <= maxAgeMs;
  } catch {
    return false;
  }
}
