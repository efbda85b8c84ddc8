// A proxy in front of a real Docker Engine API socket, for chaos tests: it forwards every request to the
// engine unchanged, counts the restarts that reach the engine, can hold a restart's answer open after the
// engine has done it (a slow restart, without a container that ignores SIGTERM), and can be cut and
// restored (the engine's service stopped and started: connections refused, those open torn down).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RESTART = /^(\/v[\d.]+)?\/containers\/[^/]+\/restart(\?|$)/;

export interface EngineProxy {
  /** DOCKER_HOST for a worker that should reach the engine through the proxy. */
  dockerHost: string;
  /** Restart requests forwarded to the engine so far. */
  readonly restarts: number;
  /** From now on, a restart's answer is held this long after the engine gave it (0: none). */
  holdRestarts(ms: number): void;
  /** The engine goes away: new connections fail, open ones are torn down. */
  cut(): Promise<void>;
  /** The engine is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startEngineProxy(upstreamDockerHost: string): Promise<EngineProxy> {
  const upstream = upstreamDockerHost.replace(/^unix:\/\//, '');
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'medic-engine-proxy-')), 'engine.sock');
  let restarts = 0;
  let holdMs = 0;
  const open = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const isRestart = req.method === 'POST' && RESTART.test(req.url ?? '');
    if (isRestart) restarts += 1;
    const hold = isRestart ? holdMs : 0;
    const forward = http.request(
      { socketPath: upstream, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        setTimeout(() => {
          if (res.destroyed) return answer.resume();
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }, hold);
      },
    );
    // The engine finishes what it was asked even when the asker is gone, as a real engine does.
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
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
      return restarts;
    },
    holdRestarts: (ms) => {
      holdMs = ms;
    },
    cut: stop,
    restore: listen,
    close: stop,
  };
}
