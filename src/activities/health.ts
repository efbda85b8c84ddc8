// Is the target healthy? Running, not reported unhealthy by the engine, and (when it declares a
// health URL) answering 200 there.
import type { ContainerInfo } from './containers.js';

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
    const body = (await response.text()).slice(0, 300).replace(/\s+/g, ' ').trim();
    return {
      ok: response.status === 200,
      detail: `GET ${url} answered ${response.status} in ${Date.now() - started} ms${body ? `: ${body}` : ''}`,
    };
  } catch (err) {
    const reason =
      (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, detail: `GET ${url} failed: ${reason}${cause ? ` (${cause})` : ''}` };
  }
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
