// A production-shaped Temporal on loopback: the real server, built from the Go module proxy, on PostgreSQL 15.
// `npm run setup:temporal-cluster` builds it, `npm run start:temporal-cluster` runs it; tests import startTemporalCluster().
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { ensureSearchAttributes } from '../src/temporal/search-attributes.js';
import { portForAnotherProcess } from '../test/support/ports.js';
import { DATA_DIR } from './paths.js';
import { stopProcess } from './processes.js';

const run = promisify(execFile);

export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** v1.32.2's go.mod asks for Go 1.26.10; GOTOOLCHAIN fetches it from the module proxy when the machine's Go is older. */
const GO_TOOLCHAIN = 'go1.26.10';
const SERVER_MODULE = `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`;
const PG_BIN = '/usr/lib/postgresql/15/bin';
/** initdb's superuser and the server's database user. */
const DB_USER = 'temporal';

/**
 * Outside the clone and keyed by version: CI runs in a fresh clone, and a second run must find the
 * binaries instead of rebuilding them for four minutes.
 */
export const CLUSTER_CACHE = path.join(
  process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
  'medic',
  `temporal-server-${TEMPORAL_SERVER_VERSION}`,
);
const SERVER_BIN = path.join(CLUSTER_CACHE, 'bin', 'server');
const SQL_TOOL_BIN = path.join(CLUSTER_CACHE, 'bin', 'sql');

export interface ClusterTools {
  server: string;
  sqlTool: string;
  pgBin: string;
  /** The server module in GOMODCACHE: its schema files. */
  moduleDir: string;
}

type Log = (line: string) => void;

function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

/** Go's own caches (GOMODCACHE, GOCACHE under $HOME) stay where they are: a rebuild reuses them. */
const goEnv = () => ({ ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, CGO_ENABLED: '0' });

/** True when the server and the SQL tool are built and PostgreSQL 15 is installed (no building, no apt). */
export function clusterToolsPresent(): boolean {
  return existsSync(SERVER_BIN) && existsSync(SQL_TOOL_BIN) && existsSync(path.join(PG_BIN, 'initdb'));
}

/** `go install` of `packages` into `binDir`, logging progress: module downloads and a tick every 30 s. */
async function goInstall(packages: string[], binDir: string, log: Log): Promise<void> {
  const started = Date.now();
  const child = spawn(goBinary(), ['install', '-ldflags=-s -w', ...packages], {
    env: { ...goEnv(), GOBIN: binDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let downloads = 0;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
    const count = (chunk.toString().match(/go: downloading/g) ?? []).length;
    if (count > 0 && Math.floor((downloads + count) / 50) > Math.floor(downloads / 50))
      log(`  ${downloads + count} modules downloaded ...`);
    downloads += count;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const ticker = setInterval(
    () => log(`  still building (${Math.round((Date.now() - started) / 1000)} s)`),
    30_000,
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(ticker);
  if (code !== 0) throw new Error(`go install failed (exit ${code}):\n${output.trim()}`);
  log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
}

async function buildServer(log: Log): Promise<void> {
  log(`building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool into ${CLUSTER_CACHE}/bin`);
  log(
    '  a cold build takes about 4 minutes on 2 cores (2 GB of modules, 1.8 GB of build cache); later runs take seconds',
  );
  await goInstall(
    [
      `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
      `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    ],
    path.dirname(SERVER_BIN),
    log,
  );
}

/** The Temporal Web UI server's version (its module ships the built front-end). */
export const TEMPORAL_UI_VERSION = '2.56.4';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export interface UiServerTools {
  /** The ui-server binary. */
  server: string;
  /** The module in GOMODCACHE: its docker/ start script and config/ templates. */
  moduleDir: string;
}

/** Builds the Web UI server from the Go module proxy (about 20 s), cached like the server. */
export async function ensureTemporalUiServer(log: Log = console.log): Promise<UiServerTools> {
  const binDir = path.join(path.dirname(CLUSTER_CACHE), `temporal-ui-server-${TEMPORAL_UI_VERSION}`, 'bin');
  const server = path.join(binDir, 'server');
  const pkg = `${UI_MODULE}/cmd/server@v${TEMPORAL_UI_VERSION}`;
  if (!existsSync(server)) {
    log(`building the Temporal Web UI server ${TEMPORAL_UI_VERSION} into ${binDir}`);
    await goInstall([pkg], binDir, log);
  }
  const { stdout } = await run(
    goBinary(),
    ['mod', 'download', '-json', `${UI_MODULE}@v${TEMPORAL_UI_VERSION}`],
    {
      env: goEnv(),
    },
  );
  return { server, moduleDir: (JSON.parse(stdout) as { Dir: string }).Dir };
}

async function ensurePostgres(log: Log): Promise<void> {
  if (existsSync(path.join(PG_BIN, 'initdb'))) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `PostgreSQL 15 is not installed (${PG_BIN}): run \`apt-get install -y postgresql\` as root`,
    );
  log('installing PostgreSQL 15 with apt (apt-get install -y postgresql) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-q', 'postgresql'], { env, maxBuffer: 64 << 20 });
  await install().catch(async () => {
    await run('apt-get', ['update', '-q'], { env, maxBuffer: 64 << 20 });
    await install();
  });
  if (!existsSync(path.join(PG_BIN, 'initdb')))
    throw new Error(`apt installed postgresql but ${PG_BIN}/initdb is missing`);
}

/** Builds what is missing (server, SQL tool, PostgreSQL) and says where everything is. Idempotent. */
export async function ensureClusterTools(log: Log = console.log): Promise<ClusterTools> {
  if (!existsSync(SERVER_BIN) || !existsSync(SQL_TOOL_BIN)) await buildServer(log);
  await ensurePostgres(log);
  // The schema files ship in the module; `go mod download` is instant when the build already fetched it.
  const { stdout } = await run(goBinary(), ['mod', 'download', '-json', SERVER_MODULE], {
    env: goEnv(),
    maxBuffer: 16 << 20,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir || !existsSync(path.join(moduleDir, 'schema')))
    throw new Error(`no schema in ${SERVER_MODULE}: ${stdout}`);
  return { server: SERVER_BIN, sqlTool: SQL_TOOL_BIN, pgBin: PG_BIN, moduleDir };
}

/** Files for a frontend that requires mutual TLS; the client certificate is the one the set-up itself presents. */
export interface ClusterTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Signed by the CA: the server's system worker and this script's set-up calls present it. */
  clientCertFile: string;
  clientKeyFile: string;
  /** A name in the server certificate (default localhost). */
  serverName?: string;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  metricsUrl: string;
  /** The server's process id (the benchmarks measure its CPU). */
  serverPid: number;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Kept across runs (npm run start:temporal-cluster); a fresh temporary directory, removed at stop, otherwise. */
  dataDir?: string;
  /** The frontend's port (default: a free one). */
  port?: number;
  namespace?: string;
  tls?: ClusterTls;
  log?: Log;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
async function postgresIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

async function runAs(
  who: { uid: number; gid: number } | undefined,
  file: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  try {
    const { stdout } = await run(file, args, {
      ...(who ?? {}),
      cwd: '/',
      maxBuffer: 16 << 20,
      ...(env ? { env } : {}),
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

interface Postgres {
  port: number;
  password: string;
  stop(): Promise<void>;
}

async function startPostgres(tools: ClusterTools, dataDir: string, log: Log): Promise<Postgres> {
  const who = await postgresIdentity();
  const pgData = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'db-password');
  if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
    log(`initialising PostgreSQL in ${pgData}`);
    // The database user gets a password: the server listens on loopback, where every local user can connect.
    writeFileSync(passwordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    const pwfile = path.join(pgData, '..', `initdb-pw-${process.pid}`);
    writeFileSync(pwfile, readFileSync(passwordFile, 'utf8'), { mode: 0o600 });
    if (who) {
      chownSync(pgData, who.uid, who.gid);
      chownSync(pwfile, who.uid, who.gid);
    }
    try {
      await runAs(who, path.join(tools.pgBin, 'initdb'), [
        '-D',
        pgData,
        '-U',
        DB_USER,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=peer',
        '-E',
        'UTF8',
        '--no-instructions',
      ]);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const port = await portForAnotherProcess();
  // No Unix socket (its path could exceed 107 bytes in a deep clone); TCP on loopback only.
  await runAs(who, path.join(tools.pgBin, 'pg_ctl'), [
    'start',
    '-D',
    pgData,
    '-w',
    '-t',
    '60',
    '-l',
    path.join(pgData, 'server.log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
  ]);
  return {
    port,
    password: readFileSync(passwordFile, 'utf8').trim(),
    stop: async () => {
      await runAs(who, path.join(tools.pgBin, 'pg_ctl'), ['stop', '-D', pgData, '-m', 'fast', '-w']).catch(
        (err) => log(`stopping PostgreSQL: ${(err as Error).message}`),
      );
    },
  };
}

/** Creates both databases and their schemas on first use, then applies any newer schema versions. */
async function setUpSchemas(tools: ClusterTools, pg: Postgres, dataDir: string, log: Log): Promise<void> {
  const marker = path.join(dataDir, 'schema-created');
  const fresh = !existsSync(marker);
  for (const [db, folder] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(pg.port),
      '-u',
      DB_USER,
      '--db',
      db,
    ];
    // The password goes in the environment, not on a command line other users can read.
    const env = { ...process.env, SQL_PASSWORD: pg.password };
    const sql = (...args: string[]) => runAs(undefined, tools.sqlTool, [...base, ...args], env);
    const versioned = path.join(tools.moduleDir, 'schema', 'postgresql', 'v12', folder, 'versioned');
    if (fresh) {
      await sql('create-database');
      await sql('setup-schema', '-v', '0.0');
    }
    await sql('update-schema', '-d', versioned);
  }
  if (fresh) writeFileSync(marker, `${TEMPORAL_SERVER_VERSION}\n`);
  log(`schemas ready (temporal, temporal_visibility) on 127.0.0.1:${pg.port}`);
}

interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  metrics: number;
  /** grpc and membership ports of frontend, history, matching, worker. */
  internal: number[];
}

function tlsSection(tls: ClusterTls): Record<string, unknown> {
  const client = { serverName: tls.serverName ?? 'localhost', rootCaFiles: [tls.caFile] };
  return {
    frontend: {
      server: {
        certFile: tls.serverCertFile,
        keyFile: tls.serverKeyFile,
        requireClientAuth: true,
        clientCaFiles: [tls.caFile],
      },
      client,
    },
    // The server's own system worker calls the frontend too, so it needs a client certificate.
    systemWorker: { certFile: tls.clientCertFile, keyFile: tls.clientKeyFile, client },
  };
}

/**
 * The module's config/development-postgres12.yaml, adapted: every port free and on 127.0.0.1, the
 * database password from the data dir, archival off, no pprof. Written as JSON, which YAML reads.
 */
function serverConfig(pg: Postgres, ports: ServerPorts, dynamicConfigFile: string, tls?: ClusterTls) {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pg.port}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const [fm, hg, hm, mg, mm, wg, wm] = ports.internal;
  const service = (grpcPort: number | undefined, membershipPort: number | undefined, extra = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': datastore('temporal', 20),
        'postgres-visibility': datastore('temporal_visibility', 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics}`,
        },
      },
      ...(tls ? { tls: tlsSection(tls) } : {}),
    },
    services: {
      frontend: service(ports.frontend, fm, { httpPort: ports.frontendHttp }),
      history: service(hg, hm),
      matching: service(mg, mm),
      worker: service(wg, wm),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

const DYNAMIC_CONFIG = {
  // Nothing leaves the machine: no call to Temporal's version-check service (TEMPORAL_VERSION_CHECK_DISABLED too).
  'frontend.enableServerVersionCheck': [{ value: false }],
  // A search attribute registered a moment ago is usable at once, as on the dev server (tests register them at start).
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
};

/** The client TLS options for the cluster's frontend, from the cluster's own files. */
export function clusterClientTls(tls: ClusterTls): TLSConfig {
  return {
    serverNameOverride: tls.serverName ?? 'localhost',
    serverRootCACertificate: readFileSync(tls.caFile),
    clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) },
  };
}

function startServer(tools: ClusterTools, configFile: string, logFile: string): ChildProcess {
  const child = spawn(tools.server, ['--config-file', configFile, '--allow-no-auth', 'start'], {
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    writeFileSync(logFile, output);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** Waits for the frontend, registers the namespace (a fresh cluster has none) and Medic's search attributes. */
async function prepareNamespace(
  child: ChildProcess,
  address: string,
  namespace: string,
  tls: TLSConfig | undefined,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  let last: unknown;
  let registered = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(
        `the Temporal server exited with code ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
      );
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2000, ...(tls ? { tls } : {}) });
      if (!registered) {
        await connection.workflowService
          .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
          .catch((err: Error & { code?: number }) => {
            if (err.code !== 6) throw err; // 6: ALREADY_EXISTS, a data dir from an earlier run
          });
        registered = true;
      }
      // The namespace registry refreshes every few seconds: until then the namespace is "not found".
      await ensureSearchAttributes(new Client({ connection, namespace }), namespace);
      await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
      return;
    } catch (err) {
      last = err;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the Temporal server at ${address} was not ready within 90 s: ${(last as Error)?.message}`);
}

/** PostgreSQL, the schemas, the server, the namespace and Medic's search attributes; stop() undoes it all. */
export async function startTemporalCluster(options: ClusterOptions = {}): Promise<TemporalCluster> {
  const log = options.log ?? console.log;
  const namespace = options.namespace ?? 'default';
  const tools = await ensureClusterTools(log);
  const ephemeral = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'medic-temporal-cluster-'));
  mkdirSync(dataDir, { recursive: true });
  // The postgres user must reach its data directory inside it.
  chmodSync(dataDir, 0o711);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
    stops.length = 0;
    if (ephemeral) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const pg = await startPostgres(tools, dataDir, log);
    stops.push(pg.stop);
    await setUpSchemas(tools, pg, dataDir, log);
    const free = () => portForAnotherProcess();
    const ports: ServerPorts = {
      frontend: options.port ?? (await free()),
      frontendHttp: await free(),
      metrics: await free(),
      internal: await Promise.all(Array.from({ length: 7 }, free)),
    };
    const configDir = path.join(dataDir, 'config');
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    const dynamicConfigFile = path.join(configDir, 'dynamic.yaml');
    writeFileSync(dynamicConfigFile, JSON.stringify(DYNAMIC_CONFIG, null, 2));
    const configFile = path.join(configDir, 'server.yaml');
    const config = serverConfig(pg, ports, dynamicConfigFile, options.tls);
    // It holds the database password.
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    const logFile = path.join(dataDir, 'server.log');
    const child = startServer(tools, configFile, logFile);
    stops.push(() => stopProcess(child));
    const address = `127.0.0.1:${ports.frontend}`;
    await prepareNamespace(child, address, namespace, options.tls && clusterClientTls(options.tls), logFile);
    return {
      address,
      namespace,
      metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
      serverPid: child.pid ?? 0,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[temporal-cluster] ${line}`);
  if (process.argv[2] === 'setup') {
    const tools = await ensureClusterTools(log);
    log(`server: ${tools.server}`);
    log(`SQL tool: ${tools.sqlTool}`);
    log(`PostgreSQL: ${tools.pgBin}`);
    return;
  }
  const port = process.env.TEMPORAL_CLUSTER_PORT ? Number(process.env.TEMPORAL_CLUSTER_PORT) : undefined;
  const cluster = await startTemporalCluster({
    dataDir: path.join(DATA_DIR, 'temporal-cluster'),
    ...(port ? { port } : {}),
    log,
  });
  log(
    `Temporal ${TEMPORAL_SERVER_VERSION} on PostgreSQL 15 at ${cluster.address} (namespace ${cluster.namespace})`,
  );
  log(`metrics: ${cluster.metricsUrl}; data: ${path.join(DATA_DIR, 'temporal-cluster')}`);
  log(`use it: TEMPORAL_ADDRESS=${cluster.address} npm start   (Ctrl-C stops the server and PostgreSQL)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping ...');
  await cluster.stop();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
