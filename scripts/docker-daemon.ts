// Starts Medic's own Docker daemon (Debian's docker.io, installed by `npm run setup:docker`) for the compose
// deployment test and the two-host test. Its socket and data live in the per-user cache (~/.cache/medic/docker),
// never in a Docker the machine already runs, and outside the clone, so that a second CI run (a fresh clone)
// finds the images the first one built, tagged by content hash, instead of building them again. No bridge, no iptables: containers run with host networking and
// all traffic stays on 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDockerClient } from '../src/activities/containers.js';
import type { Engine } from './engine.js';

export const DOCKER_DIR = path.join(
  process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
  'medic',
  'docker',
);
export const DOCKER_SOCKET = path.join(DOCKER_DIR, 'docker.sock');

export interface DockerDaemon extends Engine {
  /** Environment for the docker and docker-compose clients: DOCKER_HOST pointing at this daemon. */
  clientEnv: NodeJS.ProcessEnv;
}

/** Starts dockerd, or reuses one already serving this project's socket. Throws with the daemon's own words. */
export async function startDockerDaemon(log: (line: string) => void = console.log): Promise<DockerDaemon> {
  const dockerHost = `unix://${DOCKER_SOCKET}`;
  const docker = createDockerClient(dockerHost);
  const clientEnv = { ...process.env, DOCKER_HOST: dockerHost };
  const version = async () => {
    try {
      const v = await docker.version();
      return `Docker ${v.Version} (API ${v.ApiVersion})`;
    } catch {
      return undefined;
    }
  };
  if (existsSync(DOCKER_SOCKET)) {
    const product = await version();
    if (product) return { dockerHost, docker, product, clientEnv, stop: async () => {} };
  }
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    throw new Error(
      'dockerd is not installed: run `npm run setup:docker` (apt-get install docker.io docker-compose)',
    );
  }
  for (const dir of ['data', 'exec']) mkdirSync(path.join(DOCKER_DIR, dir), { recursive: true });
  rmSync(DOCKER_SOCKET, { force: true });
  log(`starting dockerd on ${DOCKER_SOCKET}`);
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--data-root',
      path.join(DOCKER_DIR, 'data'),
      '--exec-root',
      path.join(DOCKER_DIR, 'exec'),
      '--pidfile',
      path.join(DOCKER_DIR, 'docker.pid'),
      '-H',
      dockerHost,
    ],
    {
      cwd: DOCKER_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PATH: `/usr/sbin:/usr/bin:${process.env.PATH}` },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const product = existsSync(DOCKER_SOCKET) ? await version() : undefined;
    if (product) return { dockerHost, docker, product, clientEnv, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(
    `dockerd did not come up: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
  );
}
