// Ports for tests, without probing a port, letting it go and hoping it is still free later:
// servers in this process listen on port 0 and use the port they got; an address where nothing
// listens stays reserved for as long as a test uses it; and a port another process must be told up
// front comes from outside the range the kernel hands out by itself.
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ReservedPort {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  release(): Promise<void>;
}

/**
 * A port where nothing listens (a connection is refused at once) and nothing else can bind until
 * release(): it is the local end of a connection this process holds open, so the kernel will not give
 * it to another socket, and no listener is on it.
 */
export async function refusingPort(): Promise<ReservedPort> {
  const accepted: Socket[] = [];
  const server: Server = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve).once('error', reject);
  });
  const port = client.localPort as number;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    release: async () => {
      client.destroy();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The kernel's range for port 0 and outgoing connections (Linux default 32768-60999). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (low && high) return [Number(low), Number(high)];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49152, 65535];
}

/** True when 127.0.0.1:port can be listened on right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port for another process that must be told its port before it starts (a container on the host
 * network, a Temporal server's metrics). Such a process cannot take a socket from this one, so the
 * port is chosen where nobody else will be given it by accident: outside the kernel's ephemeral range,
 * which is where every listen(0) (every other test's servers) and every outgoing connection get theirs.
 * Only a process asking for this very number can race us for it, and readiness checks who answers.
 */
export async function portForAnotherProcess(): Promise<number> {
  const [ephemeralLow, ephemeralHigh] = ephemeralRange();
  const [low, high] = ephemeralLow > 20_000 ? [10_000, ephemeralLow - 1] : [ephemeralHigh + 1, 65_535];
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high} after 50 tries`);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
