// The images' HEALTHCHECK: `node dist/healthcheck.js api` asks the API's GET /healthz,
// `node dist/healthcheck.js worker` checks the worker's heartbeat file. Exit 0 healthy, 1 not.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultNumber, defaultText } from './domain/settings-table.js';
import { workerHealthFile, workerHeartbeatFresh } from './worker-health.js';

/** Reads only the two settings it needs, with the table's defaults: a health check must not fail on secrets. */
async function apiHealthy(env: NodeJS.ProcessEnv): Promise<boolean> {
  const listen = env.MEDIC_HOST || defaultText('MEDIC_HOST');
  const host = listen === '0.0.0.0' ? '127.0.0.1' : listen;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${env.MEDIC_PORT || defaultNumber('MEDIC_PORT')}/healthz`;
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
