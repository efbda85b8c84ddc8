// IP address text, parsed by hand: domain code runs without Node builtins (no node:net). Used to bucket
// rate-limit sources and to judge where a health URL may point.

export type ParsedAddress = { kind: 'ipv4'; bytes: number[] } | { kind: 'ipv6'; groups: number[] };

export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

/** The eight 16-bit groups; accepts `::`, a dotted IPv4 tail, a zone (`%eth0`) and brackets. */
export function parseIPv6(text: string): number[] | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  // Only the address's last piece may be dotted IPv4.
  const groupsOf = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      const v4 = last && i === pieces.length - 1 && piece.includes('.') ? parseIPv4(piece) : undefined;
      if (v4) out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '', true) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address it carries: the same peer either way. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { kind: 'ipv4', bytes: v4 };
  const groups = parseIPv6(text);
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (!mapped) return { kind: 'ipv6', groups };
  const [hi = 0, lo = 0] = groups.slice(6);
  return { kind: 'ipv4', bytes: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff] };
}

const hexGroups = (groups: number[]) => groups.map((g) => g.toString(16)).join(':');

/** One spelling per address (dotted IPv4, or eight uncompressed hex groups), for comparisons. */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text);
  if (!parsed) return undefined;
  return parsed.kind === 'ipv4' ? parsed.bytes.join('.') : hexGroups(parsed.groups);
}

/** 127.0.0.0/8 and ::1 (and 127/8 mapped into IPv6). */
export function isLoopbackAddress(text: string): boolean {
  const parsed = parseAddress(text);
  if (!parsed) return false;
  if (parsed.kind === 'ipv4') return parsed.bytes[0] === 127;
  return parsed.groups.slice(0, 7).every((g) => g === 0) && parsed.groups[7] === 1;
}

/**
 * The rate limiter's bucket for a peer address. One IPv6 host is usually handed a whole /64 and can
 * pick any address in it, so per-address buckets would let it rotate past the limit: IPv6 peers
 * share a bucket per /64. IPv4 (mapped or not) keeps one per address. Text that is no address is
 * its own bucket.
 */
export function rateLimitBucket(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed) return address;
  if (parsed.kind === 'ipv4') return parsed.bytes.join('.');
  return `${hexGroups(parsed.groups.slice(0, 4))}::/64`;
}

/**
 * MEDIC_TRUSTED_PROXIES: addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`), comma-separated. Only a
 * request whose peer is one of them has its client address read from X-Forwarded-For.
 */
export function parseTrustedProxies(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    const [address = '', prefix, extra] = item.split('/');
    const parsed = parseAddress(address);
    const bits = parsed?.kind === 'ipv4' && !address.includes(':') ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!parsed || extra !== undefined || !prefixOk)
      throw new Error(
        `${JSON.stringify(item.slice(0, 60))} is not an IP address or a CIDR range (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)`,
      );
  }
  return items;
}
