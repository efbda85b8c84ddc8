// Is the target healthy? Running, not reported unhealthy by the engine, and (when it declares a
// health URL) answering 200 there.
import { redactSecrets } from '../domain/redact.js';
import type { ContainerInfo } from './containers.js';

/** Characters of an unhealthy answer's body kept as a hint (redacted): enough for an error message. */
const BODY_HINT_CHARS = 300;

export interface HealthProbe {
  ok: boolean;
  detail: string;
  /** The health URL names a host Medic may not probe: asking again cannot help. */
  refused?: boolean;
}

export async function probeHealthUrl(url: string, timeoutMs: number): Promise<HealthProbe> {
  const started = Date.now();
  try {
    // A redirect is an answer, not an address to follow: it could lead anywhere the label may not.
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const ok = response.status === 200;
    // The answer goes into histories, the API, reports, notifications and prompts: a healthy one says
    // nothing worth its risk, an unhealthy one keeps a redacted hint of why.
    const body = ok ? '' : bodyHint(await response.text());
    if (ok) await response.body?.cancel();
    return {
      ok,
      detail: `GET ${url} answered ${response.status} in ${Date.now() - started} ms${body ? `: ${body}` : ''}`,
    };
  } catch (err) {
    const reason =
      (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, detail: `GET ${url} failed: ${reason}${cause ? ` (${cause})` : ''}` };
  }
}

function bodyHint(text: string): string {
  return redactSecrets(text.slice(0, BODY_HINT_CHARS * 4))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, BODY_HINT_CHARS);
}

export async function checkContainerHealth(
  info: ContainerInfo,
  probeTimeoutMs: number,
): Promise<HealthProbe> {
  if (!info.running)
    return { ok: false, detail: `container ${info.name} is ${info.state} (exit code ${info.exitCode})` };
  if (info.health === 'unhealthy')
    return { ok: false, detail: `engine healthcheck reports ${info.name} unhealthy` };
  if (info.healthUrlRefused) return { ok: false, detail: info.healthUrlRefused, refused: true };
  if (info.healthUrl) return probeHealthUrl(info.healthUrl, probeTimeoutMs);
  if (info.health === 'starting')
    return { ok: false, detail: `engine healthcheck for ${info.name} is still starting` };
  return { ok: true, detail: `container ${info.name} is running${info.health ? ` and ${info.health}` : ''}` };
}

/**
 * The gaps between the fast probes of a verification's first window: a container's service usually
 * answers within a few hundred milliseconds of its start, so probe often at first and back off (x1.3)
 * only while it is still down.
 */
export const FAST_PROBE_FIRST_GAP_MS = 10;
const FAST_PROBE_GROWTH = 1.3;

/** How long a fast probe may rely on the engine's last answer before it asks the engine again. */
export const INSPECTION_REUSE_MS = 250;

/**
 * A probe of one container for a verification window. Once the engine says the container runs and has a
 * health URL, the next probes within INSPECTION_REUSE_MS ask only the URL (a local request; the engine's
 * inspection costs several times that), so the service's first answer is seen sooner. After that the
 * engine is asked again, so a container that died shows as such, not only as a URL that does not answer;
 * and a healthy answer on a reused inspection is confirmed by a fresh one before it counts.
 */
export function containerHealthProbe(
  inspect: () => Promise<ContainerInfo>,
  probeTimeoutMs: number,
  now: () => number = Date.now,
): () => Promise<HealthProbe> {
  let known: { info: ContainerInfo; at: number } | undefined;
  return async () => {
    const reusable = known && now() - known.at < INSPECTION_REUSE_MS ? known.info : undefined;
    const info = reusable ?? (await inspect());
    if (!reusable) {
      const urlOnly = info.running && info.healthUrl !== undefined && !info.healthUrlRefused;
      known = urlOnly && info.health !== 'unhealthy' ? { info, at: now() } : undefined;
    }
    const result = await checkContainerHealth(info, probeTimeoutMs);
    // Healthy only if the engine still says so: the URL could have been answered by something else.
    if (reusable && result.ok) {
      known = undefined;
      return checkContainerHealth(await inspect(), probeTimeoutMs);
    }
    return result;
  };
}

/**
 * Probes at once, then, while unhealthy, again after growing gaps until `windowMs` has passed (the
 * last probe at its end); a window of 0 is a single probe. Resolves with the last probe and how many.
 */
export async function probeUntilHealthy(
  probe: () => Promise<HealthProbe>,
  windowMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<HealthProbe & { probes: number }> {
  const started = Date.now();
  let gapMs = FAST_PROBE_FIRST_GAP_MS;
  for (let probes = 1; ; probes++) {
    const result = await probe();
    const leftMs = windowMs - (Date.now() - started);
    if (result.ok || result.refused || leftMs <= 0) return { ...result, probes };
    await sleep(Math.min(gapMs, leftMs));
    gapMs *= FAST_PROBE_GROWTH;
  }
}
