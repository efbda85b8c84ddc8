// The images' HEALTHCHECK: `node dist/healthcheck.js api` asks the API's GET /healthz,
// `node dist/healthcheck.js worker` checks the worker's heartbeat file. Exit 0 healthy, 1 not.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerHealthFile, workerHeartbeatFresh } from './worker-health.js';

/** Reads only the two settings it needs, with config.ts's defaults: a health check must not fail on secrets. */
async function apiHealthy(env: NodeJS.ProcessEnv): Promise<boolean> {
  const host = !env.MEDIC_HOST || env.MEDIC_HOST === '0.0.0.0' ? '127.0.0.1' : env.MEDIC_HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${env.MEDIC_PORT || '3000'}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export async function healthy(role: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (role === 'api') return apiHealthy(env);
  if (role === 'worker') return workerHeartbeatFresh(workerHealthFile(env));
  throw new Error(`unknown role "${role}": use api or worker`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  healthy(process.argv[2] ?? '').then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
