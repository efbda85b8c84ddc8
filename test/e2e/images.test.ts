// Medic's production images, for real: the worker and API images built from docker/medic.Dockerfile run
// as containers (host networking, an init, the engine socket in the worker only) against this run's
// Temporal, and faults on a demo container heal through them. Prints both containers' idle RSS.
import { randomBytes } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { removeContainer, runDemoContainer } from '../../scripts/demo-image.js';
import { ensureMedicImages, type MedicImages } from '../../scripts/medic-image.js';
import type { IncidentState } from '../../src/domain/types.js';
import { waitForDemoApp } from '../support/medic.js';
import { portForAnotherProcess, type ReservedPort, refusingPort, waitFor } from '../support/ports.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { engineOrSkip } from './support.js';

const { engine, skipReason } = engineOrSkip();
const WORKER = `medic-e2e-img-worker-${process.pid}`;
const API = `medic-e2e-img-api-${process.pid}`;
const DEMO = `medic-e2e-img-demo-${process.pid}`;
/** This run's own label: the containerised watcher must see this demo container and no other run's. */
const LABEL = `medic.managed=i${process.pid}`;
/** npm start's limit (scripts/local-stack.ts): the leak fault stays an alert below it. */
const DEMO_MEMORY_LIMIT = 384 * 1024 * 1024;
const SECRET = randomBytes(24).toString('hex');

let images: MedicImages;
let apiUrl: string;
let demoUrl: string;
let noOllama: ReservedPort;

function socketPath(): string {
  const host = engine!.dockerHost;
  if (!host.startsWith('unix://')) throw new Error(`the image test mounts a unix socket, not ${host}`);
  return host.slice('unix://'.length);
}

/** Settings both Medic containers share: this run's Temporal and task queue, quick health checks. */
function medicEnv(taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    MEDIC_TASK_QUEUE: taskQueue,
    MEDIC_WEBHOOK_SECRET: SECRET,
    MEDIC_MANAGED_LABEL: LABEL,
    MEDIC_LOG_LEVEL: 'info',
  };
}

async function runMedicContainer(
  docker: Docker,
  options: { name: string; image: string; env: Record<string, string>; engineSocket?: boolean },
): Promise<void> {
  await removeContainer(docker, options.name);
  const socket = options.engineSocket ? socketPath() : undefined;
  const container = await docker.createContainer({
    name: options.name,
    Image: options.image,
    Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    StopTimeout: 20,
    HostConfig: {
      NetworkMode: 'host',
      // compose's `init: true`: an init as PID 1 reaps and forwards SIGTERM to node.
      Init: true,
      ...(socket
        ? { Binds: [`${socket}:/var/run/docker.sock`], GroupAdd: [String(statSync(socket).gid)] }
        : {}),
    },
  });
  await container.start();
}

/** Runs the image's own health check command inside the container (Podman here runs none by itself). */
async function healthCheck(docker: Docker, name: string, role: 'api' | 'worker'): Promise<number> {
  const exec = await docker.getContainer(name).exec({
    Cmd: ['node', 'dist/healthcheck.js', role],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({});
  await new Promise((resolve) => {
    stream.on('end', resolve);
    stream.resume();
  });
  return (await exec.inspect()).ExitCode ?? -1;
}

/** The node process's resident memory, read from /proc: the container's init is PID 1, node its child. */
async function nodeRssMb(docker: Docker, name: string): Promise<number> {
  const { State } = await docker.getContainer(name).inspect();
  const children = await fs.readFile(`/proc/${State.Pid}/task/${State.Pid}/children`, 'utf8');
  const pid = children.trim().split(/\s+/)[0] || String(State.Pid);
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

async function incident(id: string): Promise<IncidentState | undefined> {
  const res = await fetch(`${apiUrl}/incidents/${encodeURIComponent(id)}`);
  return res.ok ? ((await res.json()) as IncidentState) : undefined;
}

const awaitResolved = (id: string) =>
  waitFor(
    `${id} to be RESOLVED (read through the API container)`,
    async () => {
      const s = await incident(id);
      if (s?.status === 'FAILED' || s?.status === 'ESCALATED')
        throw new Error(`${id} ended ${s.status}: ${JSON.stringify(s.timeline.slice(-3))}`);
      return s?.status === 'RESOLVED' ? s : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );

describe.skipIf(Boolean(skipReason))("Medic's images heal a container", () => {
  const docker = () => engine!.docker;

  beforeAll(async () => {
    const started = Date.now();
    images = await ensureMedicImages(docker(), (line) => console.log(`[images] ${line}`));
    console.log(
      `[images] ${images.built ? 'built' : 'cached'} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${images.worker}, ${images.api}`,
    );
    const taskQueue = uniqueTaskQueue('images');
    const apiPort = await portForAnotherProcess();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    noOllama = await refusingPort();
    await runMedicContainer(docker(), {
      name: WORKER,
      image: images.worker,
      engineSocket: true,
      env: {
        ...medicEnv(taskQueue),
        DOCKER_HOST: 'unix:///var/run/docker.sock',
        MEDIC_WATCHER: 'on',
        MEDIC_SWEEP_INTERVAL: '0',
        MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
        MEDIC_RESTART_STOP_TIMEOUT: '5s',
        MEDIC_GUARD_COOLDOWN: '0s',
        GEMINI_API_KEY: '',
        OLLAMA_HOST: noOllama.url,
      },
    });
    await runMedicContainer(docker(), {
      name: API,
      image: images.api,
      env: { ...medicEnv(taskQueue), MEDIC_HOST: '127.0.0.1', MEDIC_PORT: String(apiPort) },
    });
    const demoPort = await portForAnotherProcess();
    demoUrl = `http://127.0.0.1:${demoPort}`;
    const [labelKey = '', labelValue = ''] = LABEL.split('=');
    await runDemoContainer(docker(), {
      name: DEMO,
      image: inject('demoImage')!,
      port: demoPort,
      env: {
        MEDIC_WEBHOOK_URL: `${apiUrl}/webhooks/alert`,
        MEDIC_WEBHOOK_SECRET: SECRET,
        MONITOR_INTERVAL_MS: '1000',
      },
      labels: { [labelKey]: labelValue },
      memoryLimitBytes: DEMO_MEMORY_LIMIT,
    });
    await waitForDemoApp(demoUrl, DEMO);
    await waitFor(
      'the API container to be healthy',
      async () => (await healthCheck(docker(), API, 'api')) === 0,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    await waitFor(
      'the worker container to be healthy',
      async () => (await healthCheck(docker(), WORKER, 'worker')) === 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 1_200_000);

  afterAll(async () => {
    for (const name of [DEMO, API, WORKER]) await removeContainer(docker(), name).catch(() => undefined);
    await noOllama?.release();
  });

  it('builds non-root images with a health check, and no secrets in their environment', async () => {
    for (const ref of [images.worker, images.api]) {
      const { Config } = await docker().getImage(ref).inspect();
      expect(Config.User).toBe('node');
      expect(Config.Env?.some((e) => /SECRET|TOKEN|KEY/.test(e.split('=')[0] ?? ''))).toBe(false);
      // Podman 4.3's Docker-compatible inspect leaves the health check out (`podman image inspect` shows it).
      console.log(
        `[images] ${ref}: health check ${JSON.stringify(Config.Healthcheck?.Test ?? 'not shown by this engine API')}`,
      );
    }
  });

  it('reports the idle RSS of the worker and the API containers', async () => {
    // Idle: both have connected and the worker has polled for a while; nothing is happening yet.
    await new Promise((r) => setTimeout(r, 5000));
    const worker = await nodeRssMb(docker(), WORKER);
    const api = await nodeRssMb(docker(), API);
    const stats = async (name: string) => {
      const s = (await docker().getContainer(name).stats({ stream: false })) as {
        memory_stats?: { usage?: number };
      };
      return Math.round((s.memory_stats?.usage ?? 0) / 1024 / 1024);
    };
    console.log(
      `[images] idle RSS: worker ${worker} MB, API ${api} MB (engine memory usage: worker ${await stats(WORKER)} MB, API ${await stats(API)} MB)`,
    );
    expect(worker).toBeGreaterThan(0);
    expect(api).toBeGreaterThan(0);
  });

  it('a crash nobody reports is seen by the worker container through the mounted socket, and healed', {
    timeout: 120_000,
  }, async () => {
    const res = await fetch(`${demoUrl}/trigger/crash`, { method: 'POST' });
    expect(res.status).toBe(202);
    const state = await awaitResolved(`incident:local:${DEMO}:crash`);
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
    await waitForDemoApp(demoUrl, DEMO);
  });

  it("the demo app's own alert reaches the API container and the incident heals", {
    timeout: 120_000,
  }, async () => {
    const res = await fetch(`${demoUrl}/trigger/memory-leak`, { method: 'POST' });
    expect(res.status).toBe(202);
    const state = await awaitResolved(`incident:local:${DEMO}:memory-leak`);
    expect(state.timeline.find((t) => t.event === 'alert')).toBeTruthy();
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
  });

  it('both containers stop on SIGTERM by themselves, not by the engine killing them', {
    timeout: 60_000,
  }, async () => {
    for (const name of [WORKER, API]) {
      const started = Date.now();
      await docker().getContainer(name).stop({ t: 20 });
      const { State } = await docker().getContainer(name).inspect();
      console.log(
        `[images] ${name} stopped in ${((Date.now() - started) / 1000).toFixed(1)} s, exit code ${State.ExitCode}`,
      );
      expect(State.ExitCode).toBe(0);
    }
  });
});
