// Finds a Docker Engine API: DOCKER_HOST, the Docker socket, or Podman's compatible service.
// When only the podman binary is present, starts `podman system service` on a project socket.
// Never installs anything: `npm run setup:engine` (or .ci/run) does that, and says so.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { createDockerClient } from '../src/activities/containers.js';
import { TOOLS_DIR } from './paths.js';

export interface Engine {
  /** DOCKER_HOST-style address, e.g. unix:///var/run/docker.sock */
  dockerHost: string;
  docker: Docker;
  /** Who serves the API, for messages. */
  product: string;
  /** Stops the Podman service if this process started it. */
  stop(): Promise<void>;
}

export const PODMAN_DIR = path.join(TOOLS_DIR, 'podman');
export const PODMAN_SOCKET = path.join(PODMAN_DIR, 'podman.sock');

async function ping(docker: Docker, timeoutMs: number): Promise<string | undefined> {
  try {
    const version = (await Promise.race([
      docker.version(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs)),
    ])) as Docker.DockerVersion & { Components?: Array<{ Name: string }> };
    const podman = version.Components?.some((c) => c.Name.toLowerCase().includes('podman'));
    return `${podman ? 'Podman' : 'Docker'} ${version.Version} (API ${version.ApiVersion})`;
  } catch {
    return undefined;
  }
}

function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * A containers.conf that works in restricted sandboxes (no CAP_SYS_RESOURCE, hybrid cgroups):
 * no default ulimits, runc instead of crun, cgroupfs, file-based events. Kept in .tools, never /etc.
 */
function writePodmanConf(): string {
  mkdirSync(PODMAN_DIR, { recursive: true });
  const file = path.join(PODMAN_DIR, 'containers.conf');
  const runtime = which('runc') ? 'runtime = "runc"\n' : '';
  writeFileSync(
    file,
    `[containers]\ndefault_ulimits = []\n[engine]\n${runtime}cgroup_manager = "cgroupfs"\nevents_logger = "file"\n`,
  );
  return file;
}

async function startPodmanService(podman: string, log: (line: string) => void): Promise<Engine | undefined> {
  const conf = writePodmanConf();
  const dockerHost = `unix://${PODMAN_SOCKET}`;
  log(`starting Podman's Docker-compatible API on ${PODMAN_SOCKET}`);
  rmSync(PODMAN_SOCKET, { force: true }); // a socket left by a service that died
  const child: ChildProcess = spawn(podman, ['system', 'service', '--time=0', dockerHost], {
    env: { ...process.env, CONTAINERS_CONF: conf },
    // conmon leaves files (such as `oom`) in its working directory: keep them out of the project root.
    cwd: path.dirname(PODMAN_SOCKET),
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group, as the Temporal server's: Ctrl-C reaches the stack, which stops it last.
    detached: true,
  });
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const docker = createDockerClient(dockerHost);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(PODMAN_SOCKET)) {
      const product = await ping(docker, 2000);
      if (product) {
        // Podman makes its socket owner-only; Docker's is 0660 for its group. Group access lets a
        // non-root container that is given the socket's group (Medic's worker image) use it too.
        chmodSync(PODMAN_SOCKET, 0o660);
        return {
          dockerHost,
          docker,
          product,
          stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          },
        };
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  log(
    `podman system service did not come up: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
  );
  return undefined;
}

export async function findEngine(options: {
  startPodman: boolean;
  log?: (line: string) => void;
}): Promise<Engine | undefined> {
  const log = options.log ?? console.log;
  const candidates = [
    process.env.DOCKER_HOST,
    'unix:///var/run/docker.sock',
    `unix://${PODMAN_SOCKET}`,
    process.env.XDG_RUNTIME_DIR ? `unix://${process.env.XDG_RUNTIME_DIR}/podman/podman.sock` : undefined,
  ].filter((c): c is string => Boolean(c));
  for (const dockerHost of new Set(candidates)) {
    if (dockerHost.startsWith('unix://') && !existsSync(dockerHost.slice('unix://'.length))) continue;
    const docker = createDockerClient(dockerHost);
    const product = await ping(docker, 3000);
    if (product) return { dockerHost, docker, product, stop: async () => {} };
  }
  const podman = which('podman');
  if (podman && options.startPodman) return startPodmanService(podman, log);
  return undefined;
}
