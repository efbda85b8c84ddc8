// Where a container's `medic.health-url` label may send Medic. The label is written by whoever runs
// the container, and Medic fetches it from inside the worker's network: left open it is a request
// forgery (cloud metadata at 169.254.169.254, internal admin pages), with the answer's first bytes
// copied into the incident. So only the container itself is probed: loopback (a container on the
// host's network, or a port published on the worker's host) and the container's own addresses, plus
// what the operator lists in MEDIC_HEALTH_URL_HOSTS.
import { canonicalAddress, isLoopbackAddress } from './ip-address.js';

export type HealthUrlVerdict = { allowed: true; url: string } | { allowed: false; reason: string };

export interface HealthUrlScope {
  container: string;
  /** The container's own IP addresses, as the engine reports them. */
  addresses: readonly string[];
  /** MEDIC_HEALTH_URL_HOSTS, as `normaliseHost` spells them. */
  extraHosts: readonly string[];
}

/** One spelling per host: a canonical address, or the lower-case name. */
export function normaliseHost(host: string): string {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  return canonicalAddress(bare) ?? bare.toLowerCase().replace(/\.$/, '');
}

export function judgeHealthUrl(raw: string, scope: HealthUrlScope): HealthUrlVerdict {
  const label = `health URL ${JSON.stringify(raw.slice(0, 200))} of ${scope.container}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { allowed: false, reason: `${label} is not a URL; Medic does not probe it` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { allowed: false, reason: `${label} uses ${url.protocol}; only http and https are probed` };
  }
  const host = normaliseHost(url.hostname);
  const own = new Set(scope.addresses.map(normaliseHost));
  if (host === 'localhost' || isLoopbackAddress(host) || own.has(host) || scope.extraHosts.includes(host)) {
    return { allowed: true, url: url.href };
  }
  const ownText = own.size > 0 ? `, nor one of its addresses (${[...own].join(', ')})` : '';
  return {
    allowed: false,
    reason: `${label} was refused: ${url.hostname} is not loopback${ownText}; Medic does not probe it. Point the label at the container itself, or add the host to MEDIC_HEALTH_URL_HOSTS`,
  };
}
