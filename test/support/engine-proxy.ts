// A proxy in front of a real Docker Engine API socket, for chaos tests: it forwards every request to the
// engine unchanged, counts the restarts that reach the engine, can hold a restart's answer open after the
// engine has done it (a slow restart, without a container that ignores SIGTERM), can hold the restart request
// itself before forwarding it (still on its way while its worker dies), and can be cut and
// restored (the engine's service stopped and started: connections refused, those open torn down), by the
// test at any moment or by the proxy itself at a chosen request (cutAt), so a test hits one step exactly.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RESTART = /^(?:\/v[\d.]+)?\/containers\/([^/?]+)\/restart(?:\?|$)/;

/** The Engine API path of a container's inspect (`json`) or restart, with or without an API version. */
export function containerPath(nameOrId: string, endpoint: 'json' | 'restart'): RegExp {
  const escaped = nameOrId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(?:/v[\\d.]+)?/containers/${escaped}/${endpoint}(?:\\?|$)`);
}

/** Where the proxy cuts the engine by itself: at the n-th request matching, counted from when it is armed. */
export interface CutPoint {
  method: 'GET' | 'POST';
  path: RegExp;
  /** 1 (the default): the next matching request. */
  nth?: number;
  /**
   * `before-forwarding`: the engine went away just before that request; it never reaches the engine and
   * its connection is reset. `after-engine-answered`: the engine does what was asked, then goes away
   * before its answer leaves; the asker sees its connection reset.
   */
  when: 'before-forwarding' | 'after-engine-answered';
}

export interface EngineProxy {
  /** DOCKER_HOST for a worker that should reach the engine through the proxy. */
  dockerHost: string;
  /** Restart requests forwarded to the engine so far. */
  readonly restarts: number;
  /** Restart requests forwarded to the engine so far for this container (by the id or name in the path). */
  restartsOf(nameOrId: string): number;
  /** From now on, a restart's answer is held this long after the engine gave it (0: none). */
  holdRestarts(ms: number): void;
  /**
   * From now on, a restart request is held this long before it is forwarded to the engine (0: none), and then
   * forwarded even if its asker is gone: a request still on its way, or an engine slow to start the stop.
   */
  holdRestartForwarding(ms: number): void;
  /** Restart requests received so far, forwarded or still held. */
  readonly restartRequests: number;
  /** The engine goes away: new connections fail, open ones are torn down. */
  cut(): Promise<void>;
  /** Arms a cut at that request; resolves once the engine is away (then restore() brings it back). */
  cutAt(point: CutPoint): Promise<void>;
  /** The engine is back (if it was away), and a cut not reached yet is disarmed. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface ArmedCut {
  point: CutPoint;
  seen: number;
  done: () => void;
}

export async function startEngineProxy(upstreamDockerHost: string): Promise<EngineProxy> {
  const upstream = upstreamDockerHost.replace(/^unix:\/\//, '');
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'medic-engine-proxy-')), 'engine.sock');
  const restarts = new Map<string, number>();
  let holdMs = 0;
  let holdForwardMs = 0;
  let requested = 0;
  let armed: ArmedCut | undefined;
  const open = new Set<Socket>();

  /** The armed cut's moment if this request is its point; the cut is disarmed then. */
  const cutHere = (req: http.IncomingMessage): ArmedCut | undefined => {
    if (!armed || req.method !== armed.point.method || !armed.point.path.test(req.url ?? ''))
      return undefined;
    armed.seen += 1;
    if (armed.seen < (armed.point.nth ?? 1)) return undefined;
    const cut = armed;
    armed = undefined;
    return cut;
  };
  const cutNow = (cut: ArmedCut) => void stop().then(cut.done);

  const server = http.createServer((req, res) => {
    const cut = cutHere(req);
    if (cut?.point.when === 'before-forwarding') return cutNow(cut);
    const restarted = req.method === 'POST' ? RESTART.exec(req.url ?? '')?.[1] : undefined;
    if (restarted) requested += 1;
    const forwardAfter = restarted ? holdForwardMs : 0;
    if (forwardAfter > 0) {
      // The request is read now and sent later, whether or not its asker is still there.
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => setTimeout(() => send(Buffer.concat(body)), forwardAfter));
      req.on('error', () => undefined);
      return;
    }
    send();

    function send(body?: Buffer) {
      if (restarted) restarts.set(restarted, (restarts.get(restarted) ?? 0) + 1);
      const hold = restarted ? holdMs : 0;
      const forward = http.request(
        { socketPath: upstream, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          if (cut) {
            answer.resume();
            return cutNow(cut);
          }
          setTimeout(() => {
            if (res.destroyed) return answer.resume();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          }, hold);
        },
      );
      // The engine finishes what it was asked even when the asker is gone, as a real engine does.
      forward.on('error', () => res.destroy());
      if (body) forward.end(body);
      else req.pipe(forward);
    }
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      if (existsSync(socketPath)) rmSync(socketPath);
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of open) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  await listen();
  return {
    dockerHost: `unix://${socketPath}`,
    get restarts() {
      return [...restarts.values()].reduce((sum, n) => sum + n, 0);
    },
    restartsOf: (nameOrId) => restarts.get(nameOrId) ?? 0,
    holdRestarts: (ms) => {
      holdMs = ms;
    },
    holdRestartForwarding: (ms) => {
      holdForwardMs = ms;
    },
    get restartRequests() {
      return requested;
    },
    cut: stop,
    cutAt: (point) =>
      new Promise<void>((resolve) => {
        armed = { point, seen: 0, done: resolve };
      }),
    restore: () => {
      armed = undefined;
      return listen();
    },
    close: async () => {
      armed = undefined;
      await stop();
    },
  };
}
