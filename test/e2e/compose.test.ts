// The compose deployment, for real: docker-compose.yml with the host-networking override, on a real Docker
// daemon, with Medic's images built from their Dockerfiles and local stand-ins for the official Temporal,
// Temporal UI and PostgreSQL images (scripts/compose-standins.ts). A fault on the demo app resolves, the
// incident is found by the Temporal CLI's visibility query, and `down` then `up` keeps the history.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureComposeStandins } from '../../scripts/compose-standins.js';
import { ensureDemoImage } from '../../scripts/demo-image.js';
import { type DockerDaemon, startDockerDaemon } from '../../scripts/docker-daemon.js';
import { ensureMedicImages } from '../../scripts/medic-image.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';

const run = promisify(execFile);
const haveCompose =
  ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some(existsSync) && existsSync('/usr/bin/docker-compose');
const skipReason = haveCompose
  ? undefined
  : 'dockerd and docker-compose are not installed (npm run setup:docker)';
if (skipReason && process.env.CI) throw new Error(`the compose test needs Docker in CI: ${skipReason}`);
if (skipReason) console.warn(`[e2e] skipping the compose test: ${skipReason}`);

const PROJECT = `medic-e2e-${process.pid}`;
const DEMO = `medic-compose-demo-${process.pid}`;
const SECRET = randomBytes(24).toString('hex');
/** Every port variable of docker-compose.yml that a service listens on under host networking. */
const PORT_VARIABLES = [
  'POSTGRES_PORT',
  'TEMPORAL_PORT',
  'TEMPORAL_HTTP_PORT',
  'TEMPORAL_HISTORY_PORT',
  'TEMPORAL_MATCHING_PORT',
  'TEMPORAL_WORKER_PORT',
  'TEMPORAL_FRONTEND_MEMBERSHIP_PORT',
  'TEMPORAL_HISTORY_MEMBERSHIP_PORT',
  'TEMPORAL_MATCHING_MEMBERSHIP_PORT',
  'TEMPORAL_WORKER_MEMBERSHIP_PORT',
  'TEMPORAL_METRICS_PORT',
  'TEMPORAL_UI_PORT',
  'MEDIC_API_PORT',
  'MEDIC_WORKER_METRICS_PORT',
  'DEMO_PORT',
] as const;

let daemon: DockerDaemon;
let envFile: string;
let ports: Record<(typeof PORT_VARIABLES)[number], number>;
let temporalCli: string;

async function compose(...args: string[]): Promise<string> {
  const files = ['-f', 'docker-compose.yml', '-f', 'docker-compose.host-network.yml'];
  try {
    const { stdout } = await run(
      'docker-compose',
      ['--env-file', envFile, '-p', PROJECT, ...files, ...args],
      {
        cwd: PROJECT_ROOT,
        env: daemon.clientEnv,
        maxBuffer: 32 << 20,
        timeout: 300_000,
      },
    );
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `docker-compose ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`.slice(0, 6000),
    );
  }
}

/** The last lines of each service's log, for a failure message. */
async function serviceLogs(): Promise<string> {
  return compose('logs', '--no-color', '--tail', '15').catch((err: Error) => err.message);
}

async function upAndReady(): Promise<void> {
  await compose('up', '-d', '--no-build');
  await waitFor(
    'the Medic API through compose',
    async () => (await fetch(`http://127.0.0.1:${ports.MEDIC_API_PORT}/healthz`)).ok,
    { timeoutMs: 90_000, intervalMs: 500 },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await serviceLogs()}`);
  });
  await waitFor(
    'the demo app through compose',
    async () => (await fetch(`http://127.0.0.1:${ports.DEMO_PORT}/health`)).ok,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** `temporal workflow list --query ...` against the compose stack's server, as an operator would run it. */
async function listWorkflows(query: string): Promise<Array<{ execution: { workflowId: string } }>> {
  const { stdout } = await run(temporalCli, [
    'workflow',
    'list',
    '--address',
    `127.0.0.1:${ports.TEMPORAL_PORT}`,
    '--query',
    query,
    '--output',
    'json',
  ]);
  return stdout.trim() ? JSON.parse(stdout) : [];
}

describe.skipIf(skipReason)('docker-compose deployment (real Docker, PostgreSQL-backed Temporal)', () => {
  beforeAll(async () => {
    daemon = await startDockerDaemon((line) => console.log(`[compose] ${line}`));
    const log = (line: string) => console.log(`[compose] ${line}`);
    const standins = await ensureComposeStandins(daemon.docker, log);
    const medic = await ensureMedicImages(daemon.docker, log);
    const demo = await ensureDemoImage(daemon.docker, log);
    temporalCli = await ensureTool(TEMPORAL_CLI, log);
    ports = {} as typeof ports;
    for (const name of PORT_VARIABLES) ports[name] = await portForAnotherProcess();
    const socket = daemon.dockerHost.slice('unix://'.length);
    const env: Record<string, string | number> = {
      ...ports,
      POSTGRES_IMAGE: standins.postgres,
      TEMPORAL_SERVER_IMAGE: standins.temporalServer,
      TEMPORAL_ADMIN_TOOLS_IMAGE: standins.adminTools,
      TEMPORAL_UI_IMAGE: standins.ui,
      MEDIC_WORKER_IMAGE: medic.worker,
      MEDIC_API_IMAGE: medic.api,
      DEMO_IMAGE: demo,
      DEMO_CONTAINER_NAME: DEMO,
      MEDIC_WEBHOOK_SECRET: SECRET,
      POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
      DOCKER_SOCKET: socket,
      DOCKER_SOCKET_GID: statSync(socket).gid,
      MEDIC_SECRETS_DIR: mkdtempSync(path.join(tmpdir(), 'medic-compose-secrets-')),
    };
    envFile = path.join(mkdtempSync(path.join(tmpdir(), 'medic-compose-')), '.env');
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    const started = Date.now();
    await upAndReady();
    console.log(`[compose] stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    if (!daemon) return;
    await compose('down', '-v', '--timeout', '10').catch((err: Error) => console.warn(err.message));
    await daemon.stop();
  }, 120_000);

  it('mounts the Docker socket into the worker and no other service', async () => {
    const ids = (await compose('ps', '-q')).split('\n').filter(Boolean);
    const withSocket: string[] = [];
    for (const id of ids) {
      const info = await daemon.docker.getContainer(id).inspect();
      const service = info.Config.Labels['com.docker.compose.service'] ?? info.Name;
      if (info.Mounts.some((m) => m.Destination === '/var/run/docker.sock')) withSocket.push(service);
    }
    expect(ids.length).toBeGreaterThanOrEqual(6);
    expect(withSocket).toEqual(['medic-worker']);
  });

  it("exports every demo series the monitoring profile's alert rules query", async () => {
    const rules = readFileSync(path.join(PROJECT_ROOT, 'deploy/prometheus/rules/demo.yml'), 'utf8');
    const queried = [...new Set([...rules.matchAll(/\b([a-z_]+)\{job="demo"/g)].map((m) => m[1] as string))];
    const series = queried.filter((name) => name !== 'up'); // `up` is Prometheus's own
    expect(series.length).toBeGreaterThanOrEqual(3);
    const scrape = await (await fetch(`http://127.0.0.1:${ports.DEMO_PORT}/metrics`)).text();
    for (const name of series) expect(scrape, name).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
  });

  it('heals a fault on the demo app and lists the incident as RESOLVED in Temporal visibility', async () => {
    const demo = daemon.docker.getContainer(DEMO);
    const startedBefore = (await demo.inspect()).State.StartedAt;
    const trigger = await fetch(`http://127.0.0.1:${ports.DEMO_PORT}/trigger/memory-leak`, {
      method: 'POST',
    });
    expect(trigger.ok).toBe(true);
    const id = incidentWorkflowId(DEMO, 'memory-leak');
    const resolved = await waitFor(
      `incident ${id} listed as RESOLVED`,
      async () =>
        (await listWorkflows('IncidentStatus="RESOLVED"')).find((w) => w.execution.workflowId === id),
      { timeoutMs: 150_000, intervalMs: 2000 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await serviceLogs()}`);
    });
    expect(resolved.execution.workflowId).toBe(id);
    // Healed by a restart through the worker's Docker socket: the container started again.
    expect((await demo.inspect()).State.StartedAt).not.toBe(startedBefore);
  }, 200_000);

  it('keeps the incident history across docker-compose down and up', async () => {
    const id = incidentWorkflowId(DEMO, 'memory-leak');
    await compose('down', '--timeout', '10');
    expect((await compose('ps', '-q')).trim()).toBe('');
    await upAndReady();
    const after = await waitFor(
      'the resolved incident after down and up',
      async () =>
        (await listWorkflows('IncidentStatus="RESOLVED"')).find((w) => w.execution.workflowId === id),
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(after.execution.workflowId).toBe(id);
    // The API reads the incident's recorded state from that history, as before the restart.
    const res = await fetch(`http://127.0.0.1:${ports.MEDIC_API_PORT}/incidents/${encodeURIComponent(id)}`);
    expect(res.status).toBe(200);
    const state = (await res.json()) as { status: string; actions: unknown[] };
    expect(state.status).toBe('RESOLVED');
    expect(state.actions.length).toBeGreaterThan(0);
  }, 300_000);
});
