// The compose deployment, for real: docker-compose.yml with the mutual-TLS overlay, put on host networking
// by scripts/compose-host-network.ts, on a real Docker daemon, with Medic's images built from their
// Dockerfiles and local stand-ins for the official Temporal, Temporal UI, PostgreSQL and HAProxy images
// (scripts/compose-standins.ts). Every client reaches Temporal with its own certificate, one without is
// refused; the worker reaches the engine only through the socket proxy; a fault on the demo app resolves,
// the incident is found by the Temporal CLI's visibility query, and `down` then `up` keeps the history.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNetworkCompose } from '../../scripts/compose-host-network.js';
import { ensureComposeStandins } from '../../scripts/compose-standins.js';
import { ensureDemoImage } from '../../scripts/demo-image.js';
import { type DockerDaemon, startDockerDaemon } from '../../scripts/docker-daemon.js';
import { ensureMedicImages } from '../../scripts/medic-image.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import { SETTINGS } from '../../src/domain/settings-table.js';
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
/**
 * The demo app signs as the sender `demo` with its own secret; an API that reads no named senders checks
 * every signature with MEDIC_WEBHOOK_SECRET, so there the demo's secret must be that one.
 */
const API_READS_SENDERS = SETTINGS.some((row) => row.name === 'MEDIC_WEBHOOK_SENDERS' && 'parser' in row);
const DEMO_SECRET = API_READS_SENDERS ? randomBytes(24).toString('hex') : SECRET;
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
  'DOCKER_PROXY_PORT',
] as const;

let daemon: DockerDaemon;
let envFile: string;
/** The host-networking file derived from docker-compose.yml and docker-compose.tls.yml. */
let hostFile: string;
/** The set-up one-shot's certificate (its volume, read on the host): the CLI's way into Temporal. */
let cliTls: string[];
let ports: Record<(typeof PORT_VARIABLES)[number], number>;
let temporalCli: string;

async function compose(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(
      'docker-compose',
      ['--project-directory', PROJECT_ROOT, '-p', PROJECT, '-f', hostFile, ...args],
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
    ...cliTls,
    '--query',
    query,
    '--output',
    'json',
  ]);
  return stdout.trim() ? JSON.parse(stdout) : [];
}

/** Where a volume of the stack lives on the host (the daemon runs as this user). */
async function volumeDir(name: string): Promise<string> {
  const info = await daemon.docker.getVolume(`${PROJECT}_${name}`).inspect();
  return info.Mountpoint;
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
    // The monitoring profile's secret files: not started here, but compose wants them to exist.
    const secretsDir = mkdtempSync(path.join(tmpdir(), 'medic-compose-secrets-'));
    for (const name of [
      'prometheus-token',
      'alertmanager-web-password',
      'alertmanager-token',
      'alertmanager-web.yml',
      'grafana-admin-password',
    ])
      writeFileSync(path.join(secretsDir, name), '', { mode: 0o600 });
    const env: Record<string, string | number> = {
      ...ports,
      POSTGRES_IMAGE: standins.postgres,
      TEMPORAL_SERVER_IMAGE: standins.temporalServer,
      TEMPORAL_ADMIN_TOOLS_IMAGE: standins.adminTools,
      TEMPORAL_UI_IMAGE: standins.ui,
      DOCKER_PROXY_IMAGE: standins.haproxy,
      MEDIC_WORKER_IMAGE: medic.worker,
      MEDIC_API_IMAGE: medic.api,
      DEMO_IMAGE: demo,
      DEMO_CONTAINER_NAME: DEMO,
      MEDIC_WEBHOOK_SECRET: SECRET,
      MEDIC_DEMO_WEBHOOK_SECRET: DEMO_SECRET,
      POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
      DOCKER_SOCKET: socket,
      DOCKER_SOCKET_GID: statSync(socket).gid,
      MEDIC_SECRETS_DIR: secretsDir,
      // A fault the demo reports on its own at start (a busy machine lags its event loop) is healed too;
      // the one this test triggers must not wait out that restart's default 5-minute cooldown.
      MEDIC_GUARD_COOLDOWN: '5s',
    };
    envFile = path.join(mkdtempSync(path.join(tmpdir(), 'medic-compose-')), '.env');
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    hostFile = path.join(path.dirname(envFile), 'host-network.yml');
    writeFileSync(
      hostFile,
      await hostNetworkCompose({
        files: ['docker-compose.yml', 'docker-compose.tls.yml'],
        envFile,
        clientEnv: { ...process.env, ...daemon.clientEnv },
      }),
    );
    const started = Date.now();
    await upAndReady();
    const setupTls = await volumeDir('temporal-tls-setup');
    cliTls = [
      '--tls-cert-path',
      path.join(setupTls, 'tls.pem'),
      '--tls-key-path',
      path.join(setupTls, 'tls.key'),
      '--tls-ca-path',
      path.join(setupTls, 'ca.pem'),
      '--tls-server-name',
      'temporal',
    ];
    console.log(`[compose] stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    if (!daemon) return;
    await compose('down', '-v', '--timeout', '10').catch((err: Error) => console.warn(err.message));
    await daemon.stop();
  }, 120_000);

  it('mounts the Docker socket into the socket proxy only; the worker reaches the engine through it', async () => {
    const ids = (await compose('ps', '-q')).split('\n').filter(Boolean);
    const withSocket: string[] = [];
    let workerEngine = '';
    for (const id of ids) {
      const info = await daemon.docker.getContainer(id).inspect();
      const service = info.Config.Labels['com.docker.compose.service'] ?? info.Name;
      if (info.Mounts.some((m) => m.Destination === '/var/run/docker.sock' || /docker\.sock$/.test(m.Source)))
        withSocket.push(service);
      if (service === 'medic-worker')
        workerEngine = info.Config.Env.find((e) => e.startsWith('DOCKER_HOST=')) ?? '';
    }
    expect(ids.length).toBeGreaterThanOrEqual(7);
    expect(withSocket).toEqual(['docker-proxy']);
    expect(workerEngine).toBe(`DOCKER_HOST=tcp://127.0.0.1:${ports.DOCKER_PROXY_PORT}`);
    // The proxy refuses what no remedy needs.
    const pull = await fetch(`http://127.0.0.1:${ports.DOCKER_PROXY_PORT}/images/create?fromImage=x`, {
      method: 'POST',
    });
    expect(pull.status).toBe(403);
  });

  it('lets each client into Temporal with its own certificate, and refuses one without', async () => {
    // The set-up one-shot registered the namespace over TLS, the worker and the API are up (the API's
    // health asks Temporal); the UI reads the namespaces through its own certificate, read-only.
    const ui = `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/api/v1`;
    const namespaces = await waitFor('the Web UI reading Temporal over TLS', async () => {
      const res = await fetch(`${ui}/namespaces`).catch(() => undefined);
      return res?.ok
        ? ((await res.json()) as { namespaces: Array<{ namespaceInfo: { name: string } }> })
        : undefined;
    });
    expect(namespaces.namespaces.map((n) => n.namespaceInfo.name)).toContain('default');
    const settings = (await (await fetch(`${ui}/settings`)).json()) as { DisableWriteActions?: boolean };
    expect(settings.DisableWriteActions).toBe(true);
    // Each service has its own certificate, and none holds the CA's key.
    const certificates = new Set<string>();
    for (const volume of ['server', 'worker', 'api', 'ui', 'setup']) {
      const pem = readFileSync(path.join(await volumeDir(`temporal-tls-${volume}`), 'tls.pem'), 'utf8');
      certificates.add(pem);
      expect(existsSync(path.join(await volumeDir(`temporal-tls-${volume}`), 'ca.key'))).toBe(false);
    }
    expect(certificates.size).toBe(5);
    const health = (...extra: string[]) =>
      run(
        temporalCli,
        ['operator', 'cluster', 'health', '--address', `127.0.0.1:${ports.TEMPORAL_PORT}`, ...extra],
        {
          timeout: 30_000,
        },
      );
    await expect(health(...cliTls)).resolves.toBeTruthy();
    // Without TLS, and with TLS but no client certificate: refused.
    await expect(health()).rejects.toThrow();
    const [, , , , caFlag, ca] = cliTls;
    await expect(
      health('--tls', caFlag as string, ca as string, '--tls-server-name', 'temporal'),
    ).rejects.toThrow();
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
