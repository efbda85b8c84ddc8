// The one-command local stack (`npm start`): Temporal dev server with SQLite and the Web UI, the
// worker and the API in this process, and the demo app in a container (or, without a container
// engine, as a supervised process). The end-to-end tests start the same stack through startStack().
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import {
  type ContainerRuntime,
  DockerEngineRuntime,
  HEALTH_URL_LABEL,
  ProcessSupervisor,
} from '../src/activities/containers.js';
import { loadConfig, type MedicConfig } from '../src/config.js';
import { parseWebhookSenders } from '../src/domain/sender-scope.js';
import { createLogger, type Logger } from '../src/logger.js';
import { startApi } from '../src/server.js';
import { connectClient, temporalConnectionOptions } from '../src/temporal/connection.js';
import { ensureEngineWatch } from '../src/temporal/engine-watch.js';
import { ensureSearchAttributes } from '../src/temporal/search-attributes.js';
import {
  createMedicWorker,
  installTemporalLogging,
  type MedicWorker,
  medicWorkerActivities,
} from '../src/worker.js';
import {
  bundleDemoApp,
  demoRemedyLabels,
  ensureDemoImage,
  removeContainer,
  runDemoContainer,
} from './demo-image.js';
import { type Engine, findEngine } from './engine.js';
import { ollamaHasModel, ollamaPresent, startOllama } from './ollama.js';
import { DATA_DIR, PROJECT_ROOT } from './paths.js';
import { type DevServer, startTemporalDevServer, temporalReachable } from './temporal-server.js';
import { ensureTool, findTool, TEMPORAL_CLI } from './tools.js';
import { tourLines } from './tour.js';

export interface StackOptions {
  /** Environment to read the configuration from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Start a Temporal dev server when none answers at TEMPORAL_ADDRESS (npm start does; tests bring their own). */
  startTemporal?: boolean;
  temporalUiPort?: number;
  /** An engine found by the caller; otherwise one is looked for (and Podman's service started). */
  engine?: Engine | null;
  demo?: {
    name?: string;
    port?: number;
    env?: Record<string, string>;
    settingsDir?: string;
    memoryLimitBytes?: number;
    /** False: the demo declares no remedies by label, so a restart is all Medic may do to it. */
    declaresRemedies?: boolean;
    /** More labels for the demo container, over its own (tests declare other actions and plans). */
    labels?: Record<string, string>;
  };
  workflowBundlePath?: string;
  logger?: Logger;
  log?: (line: string) => void;
}

export interface Stack {
  config: MedicConfig;
  client: Client;
  apiUrl: string;
  temporalUiUrl?: string;
  demo: {
    name: string;
    url: string;
    mode: 'container' | 'process';
    engine?: string;
    /** The host file bad-config writes; deleting it heals the demo app. */
    settingsFile: string;
    /** The container's memory limit, if it has one (the oom fault needs it). */
    memoryLimitMb?: number;
  };
  runtime: ContainerRuntime;
  /** The demo app's webhook sender (`demo`, scoped to the demo container on `local`). */
  webhookSender: { name: string; secret: string };
  approverTokens: MedicConfig['approverTokens'];
  alertmanagerTokens: MedicConfig['ingest']['alertmanagerTokens'];
  stop(): Promise<void>;
}

const DEFAULT_DEMO_NAME = 'medic-demo';
/** Where `npm start` serves the worker's Prometheus metrics (MEDIC_WORKER_METRICS_ADDRESS; empty: off). */
export const DEFAULT_WORKER_METRICS_ADDRESS = '127.0.0.1:9464';

/**
 * `npm start`'s demo container runs under a memory limit, or `/trigger/oom` would allocate up to the
 * app's own cap (2 GiB) and never be OOM-killed. The limit must stay above what the memory-leak fault
 * reaches (about 60 MB idle + DEMO_MEMORY_LEAK_MAX_MB), so that fault is an alert from the app and not an
 * OOM kill: 384 MiB with a 240 MB leak cap leaves both faults what they are. The oom job needs 1.2 x the
 * limit (461 MB), about 520 MB with the app: killed at 384 MiB, and it fits once Medic raised the limit
 * 1.5 x (576 MiB, under the 768 MiB cap the container declares).
 */
export const DEMO_MEMORY_LIMIT_MB = 384;
export const DEMO_MEMORY_LEAK_MAX_MB = 240;

/**
 * Waits until the demo app called `name` is healthy at `url`. It names itself at GET /, so a 200 from
 * whatever else holds the port is never taken for it.
 */
async function waitForDemoApp(url: string, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const self = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      const { container_name } = (await self.json()) as { container_name?: string };
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await health.body?.cancel();
      if (container_name === name && health.status === 200) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? ((line: string) => console.log(`[medic] ${line}`));
  const baseEnv = options.env ?? process.env;
  // Local defaults: fresh secrets and tokens per run, unless the operator set their own. The demo app is
  // a named sender that speaks for its own container only; a plain MEDIC_WEBHOOK_SECRET the operator
  // set stays valid beside it.
  const demoName = options.demo?.name ?? (baseEnv.DEMO_CONTAINER_NAME || DEFAULT_DEMO_NAME);
  const webhookSender = demoSender(baseEnv.MEDIC_WEBHOOK_SENDERS ?? '', demoName);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    MEDIC_WEBHOOK_SENDERS: webhookSender.senders,
    MEDIC_APPROVER_TOKENS: baseEnv.MEDIC_APPROVER_TOKENS || `operator:${randomBytes(18).toString('hex')}`,
    MEDIC_ALERTMANAGER_TOKENS:
      baseEnv.MEDIC_ALERTMANAGER_TOKENS || `alertmanager:${randomBytes(18).toString('hex')}`,
  };
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger({ name: 'medic', level: config.logLevel });
  // Stopped in order: the API and the worker first (they would otherwise log Temporal or the demo app gone),
  // then the demo app, then Temporal and the engine's service, each the reverse of how it started.
  const stops: Array<() => Promise<void>> = [];
  const medicStops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of [...medicStops.reverse(), ...stops.reverse()])
      await fn().catch((err) => log(`while stopping: ${(err as Error).message}`));
    stops.length = 0;
    medicStops.length = 0;
  };

  try {
    // 1. Temporal.
    let devServer: DevServer | undefined;
    if (await temporalReachable(config.temporal.address)) {
      log(`using the Temporal server at ${config.temporal.address}`);
    } else if (options.startTemporal) {
      const cliPath = await ensureTool(TEMPORAL_CLI, log);
      const [ip = '127.0.0.1', port = '7233'] = config.temporal.address.split(':');
      log(`starting the Temporal dev server on ${config.temporal.address} (SQLite in .data/temporal.db)`);
      const server = await startTemporalDevServer({
        cliPath,
        ip,
        port: Number(port),
        uiPort: options.temporalUiPort ?? 8233,
        dbFile: path.join(DATA_DIR, 'temporal.db'),
        namespace: config.temporal.namespace,
        log,
      });
      devServer = server;
      stops.push(() => server.stop());
    } else {
      throw new Error(`no Temporal server answers at ${config.temporal.address}`);
    }

    // 2. Where the demo app runs: the engine if there is one, else a supervised process.
    const engine =
      options.engine === undefined ? await findEngine({ startPodman: true, log }) : options.engine;
    if (engine && options.engine === undefined) stops.push(() => engine.stop());
    const healthUrls = { healthUrlHosts: config.healthUrlHosts };
    const supervisor = engine ? undefined : new ProcessSupervisor(config.managedLabel, healthUrls);
    const runtime: ContainerRuntime = engine
      ? new DockerEngineRuntime(engine.docker, config.managedLabel, healthUrls)
      : (supervisor as ProcessSupervisor);
    const demoImage = engine ? await ensureDemoImage(engine.docker, log) : undefined;

    // 3. Worker and API.
    const client = await connectClient(config.temporal);
    stops.push(() => client.connection.close());
    await ensureSearchAttributes(client, config.temporal.namespace, logger);
    const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
    stops.push(() => connection.close());
    const watching = config.watch.enabled && engine !== null && engine !== undefined;
    const worker: MedicWorker = await createMedicWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      role: config.worker.role,
      hostName: config.worker.hostName,
      activities: medicWorkerActivities({
        config,
        runtime,
        client,
        logger,
        runbookPath: path.resolve(PROJECT_ROOT, config.runbookPath),
        ...(watching
          ? { watchEngine: { docker: engine.docker, isLocal: engine.dockerHost.startsWith('unix://') } }
          : {}),
      }),
      ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    });
    const workerDone = worker.run();
    medicStops.push(async () => {
      worker.shutdown();
      await workerDone;
    });
    if (watching) {
      await ensureEngineWatch(client, config, logger);
      log(
        `watching managed containers (${config.managedLabel.key}=${config.managedLabel.value}): engine events, and a sweep every ${config.watch.sweepIntervalMs / 1000} s`,
      );
    } else if (config.watch.enabled) {
      log('the engine watcher and sweep need a container engine: off for this run');
    }
    const server = await startApi({ client, config, logger: logger.child({ component: 'api' }) });
    medicStops.push(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await server.drainIngest();
    });
    const apiPort = (server.address() as AddressInfo).port;
    const apiUrl = `http://${config.api.host}:${apiPort}`;

    // 4. The demo app, reporting to this API.
    const demoPort = options.demo?.port ?? Number(env.DEMO_APP_PORT ?? 8080);
    const demoEnv = {
      MEDIC_WEBHOOK_URL: `${apiUrl}/webhooks/alert`,
      MEDIC_WEBHOOK_SENDER: webhookSender.name,
      MEDIC_WEBHOOK_SECRET: webhookSender.secret,
      MONITOR_INTERVAL_MS: env.DEMO_MONITOR_INTERVAL_MS ?? '3000',
      ...options.demo?.env,
    };
    // The settings file outlives restarts (that is the bad-config fault); a new stack starts clean.
    const settingsDir = options.demo?.settingsDir ?? path.join(DATA_DIR, `${demoName}-settings`);
    const settingsFile = path.join(settingsDir, 'settings.json');
    await fs.mkdir(settingsDir, { recursive: true });
    await fs.rm(settingsFile, { force: true });
    if (engine && demoImage) {
      await runDemoContainer(engine.docker, {
        name: demoName,
        image: demoImage,
        port: demoPort,
        env: demoEnv,
        settingsDir,
        labels: { ...options.demo?.labels, [config.managedLabel.key]: config.managedLabel.value },
        ...(options.demo?.memoryLimitBytes ? { memoryLimitBytes: options.demo.memoryLimitBytes } : {}),
        ...(options.demo?.declaresRemedies === false ? { declaresRemedies: false } : {}),
      });
      stops.push(() => removeContainer(engine.docker, demoName));
    } else {
      log('no container engine is reachable: running the demo app as a supervised process instead');
      log('  (for the container mode run `npm run setup:engine`, which installs Podman, or set DOCKER_HOST)');
      const bundle = await bundleDemoApp();
      const processes = supervisor ?? new ProcessSupervisor(config.managedLabel, healthUrls);
      processes.start({
        name: demoName,
        command: process.execPath,
        args: [bundle.file],
        env: {
          ...demoEnv,
          PORT: String(demoPort),
          CONTAINER_NAME: demoName,
          DEMO_SETTINGS_FILE: settingsFile,
        },
        labels: {
          [config.managedLabel.key]: config.managedLabel.value,
          [HEALTH_URL_LABEL]: `http://127.0.0.1:${demoPort}/health`,
          ...(options.demo?.declaresRemedies === false ? {} : demoRemedyLabels()),
        },
      });
      stops.push(() => processes.stopAll());
    }
    const demoUrl = `http://127.0.0.1:${demoPort}`;
    if (!(await waitForDemoApp(demoUrl, demoName, 30_000))) {
      const lines = await runtime.logs(demoName, 20).catch(() => []);
      throw new Error(
        `the demo app ${demoName} did not become healthy at ${demoUrl}/health (is another service on that port?):\n${lines.join('\n')}`,
      );
    }

    return {
      config,
      client,
      apiUrl,
      ...(devServer?.uiUrl ? { temporalUiUrl: devServer.uiUrl } : {}),
      demo: {
        name: demoName,
        url: demoUrl,
        mode: engine ? 'container' : 'process',
        ...(engine ? { engine: engine.product } : {}),
        settingsFile,
        ...(engine && options.demo?.memoryLimitBytes
          ? { memoryLimitMb: Math.round(options.demo.memoryLimitBytes / 1024 / 1024) }
          : {}),
      },
      runtime,
      webhookSender: { name: webhookSender.name, secret: webhookSender.secret },
      approverTokens: config.approverTokens,
      alertmanagerTokens: config.ingest.alertmanagerTokens,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const DEMO_SENDER = 'demo';

/**
 * The demo app's sender: the operator's own `demo` in MEDIC_WEBHOOK_SENDERS if there is one, else a new
 * one with a fresh secret, scoped to the demo container on `local`, added to the operator's senders.
 */
function demoSender(operators: string, demoName: string) {
  let declared: ReturnType<typeof parseWebhookSenders> = [];
  try {
    declared = parseWebhookSenders(operators);
  } catch {
    // loadConfig names what is wrong with the operator's value.
  }
  const own = declared.find((s) => s.name === DEMO_SENDER);
  if (own) return { name: own.name, secret: own.secret, senders: operators };
  const secret = randomBytes(24).toString('hex');
  const entry = `${DEMO_SENDER}:${secret}:${demoName}@local`;
  return { name: DEMO_SENDER, secret, senders: operators.trim() ? `${operators};${entry}` : entry };
}

/** What `npm start` prints once the stack runs: where everything is and what to try. */
export function banner(stack: Stack, extras: { workerMetricsUrl?: string; diagnosis?: string } = {}): string {
  const api = stack.apiUrl;
  const demo = stack.demo.url;
  const token = stack.approverTokens[0];
  const where =
    stack.demo.mode === 'container'
      ? `container ${stack.demo.name} on ${stack.demo.engine}`
      : `supervised process ${stack.demo.name} (no container engine)`;
  return [
    '',
    'Medic is running.',
    `  Medic API        ${api}   (GET /incidents, /healthz, /metrics)`,
    `  Approval console ${api}/console   (approve or reject with the approver token below)`,
    `  Temporal Web UI  ${stack.temporalUiUrl ?? '(external server: use its UI)'}   (the incident history)`,
    `  Worker metrics   ${extras.workerMetricsUrl ?? '(off: MEDIC_WORKER_METRICS_ADDRESS is empty)'}   (temporal_* and medic_* for Prometheus)`,
    `  Demo app         ${demo}   (${where})`,
    `  Diagnosis        ${extras.diagnosis ?? diagnosisLine(stack.config)}`,
    '',
    'Trigger the faults (and a bad deploy) in this order and watch them heal (each is one incident,',
    'incident:local:<demo>:<alert type>; each action starts a 5 min cooldown, in which the next waits and then',
    'decides again):',
    ...triggerLines(stack),
    `  curl ${api}/incidents`,
    '',
    `Approve a waiting incident in the console (${api}/console), or:`,
    `  curl -X POST -H 'Authorization: Bearer ${token?.token ?? '<token>'}' ${api}/incidents/incident:local:${stack.demo.name}:hang/approve`,
    `  ${temporalCli()} workflow signal --workflow-id incident:local:${stack.demo.name}:hang --name approve --input '{"by":"alice"}'`,
    `  curl ${api}/guards/${stack.demo.name}     # the guard: restarts this hour, cooldown, breaker, budget`,
    '',
    `Point Alertmanager at ${api}/webhooks/alertmanager with the bearer token ${stack.alertmanagerTokens[0]?.token ?? '<set MEDIC_ALERTMANAGER_TOKENS>'}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

/** Which sources diagnose, in order, and which model each provider would ask. */
export function diagnosisLine(config: MedicConfig, ollamaNote = ''): string {
  const { gemini, ollama } = config.diagnosis;
  const models = [
    ...(gemini ? [gemini.apiKey ? `Gemini ${gemini.model}` : `Gemini skipped (no GEMINI_API_KEY)`] : []),
    ...(ollama ? [`Ollama ${ollama.model} at ${ollama.host}${ollamaNote}`] : []),
  ];
  return `the runbook, then ${models.length > 0 ? `${models.join(', then ')}, then ` : ''}the rules`;
}

/** Every fault the demo app has, in the tour's order, with what it leads to here (scripts/tour.ts). */
function triggerLines(stack: Stack): string[] {
  const container = stack.demo.mode === 'container';
  const watched = container && stack.config.watch.enabled;
  const memoryLimitMb = watched ? stack.demo.memoryLimitMb : undefined;
  return tourLines(stack.demo.url, {
    engine: watched,
    demoName: stack.demo.name,
    ...(memoryLimitMb ? { memoryLimitMb } : {}),
  }).map((line) => `  ${line}`);
}

/** `temporal` when it is on PATH, else the path of the binary setup installed. */
function temporalCli(): string {
  const found = findTool(TEMPORAL_CLI);
  if (!found) return 'temporal';
  const onPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => path.join(dir, 'temporal') === found);
  return onPath ? 'temporal' : found;
}

/**
 * The real model for `npm start`: OLLAMA_HOST when it answers with MEDIC_OLLAMA_MODEL, else the Ollama
 * `npm run setup:ollama` built, started here with medic-small (and stopped with the stack), else none.
 */
async function localModel(): Promise<{ env: NodeJS.ProcessEnv; note: string; stop: () => Promise<void> }> {
  const none = { env: {}, note: '', stop: async () => {} };
  // As the worker will read them: Ollama among MEDIC_PROVIDERS, its host and its model.
  const ollama = loadConfig(process.env).diagnosis.ollama;
  if (!ollama) return none;
  if (process.env.OLLAMA_HOST) {
    if (await ollamaHasModel(ollama.host, ollama.model)) return { ...none, note: ' (answers)' };
    if (!ollamaPresent()) return { ...none, note: ` (does not answer with ${ollama.model})` };
  }
  if (!ollamaPresent())
    return { ...none, note: ' (none running; `npm run setup:ollama` builds a small one)' };
  const server = await startOllama({ ensure: false, log: (line) => console.log(`[medic] ${line}`) });
  return {
    env: {
      OLLAMA_HOST: server.url,
      MEDIC_OLLAMA_MODEL: server.model,
      // A 135M model on one thread: 10-20 s an answer on a busy 2-core machine (the activity allows 2 min).
      MEDIC_PROVIDER_TIMEOUT: process.env.MEDIC_PROVIDER_TIMEOUT || '60s',
    },
    note: ' (built by setup:ollama, started here; SmolLM2-135M: expect weak answers)',
    stop: () => server.stop(),
  };
}

async function main(): Promise<void> {
  const logger = createLogger({ name: 'medic' });
  // npm start serves the worker's metrics on the usual exporter port unless told otherwise (empty: off).
  const metricsAddress = process.env.MEDIC_WORKER_METRICS_ADDRESS ?? DEFAULT_WORKER_METRICS_ADDRESS;
  installTemporalLogging(logger.child({ component: 'temporal-sdk' }), {
    handleSignals: false,
    metricsAddress,
  });
  const limitMb = Number(process.env.DEMO_MEMORY_LIMIT_MB || DEMO_MEMORY_LIMIT_MB);
  const model = await localModel();
  const stack = await startStack({
    startTemporal: true,
    logger,
    env: { ...process.env, ...model.env },
    demo: {
      memoryLimitBytes: limitMb * 1024 * 1024,
      env: {
        MEMORY_LEAK_MAX_MB: process.env.DEMO_MEMORY_LEAK_MAX_MB || String(DEMO_MEMORY_LEAK_MAX_MB),
        // Unset: 1.2 x the limit (runDemoContainer), fixed for the container's life.
        ...(process.env.DEMO_OOM_ALLOCATE_MB ? { OOM_ALLOCATE_MB: process.env.DEMO_OOM_ALLOCATE_MB } : {}),
      },
    },
  });
  console.log(
    banner(stack, {
      ...(metricsAddress ? { workerMetricsUrl: `http://${metricsAddress}/metrics` } : {}),
      diagnosis: diagnosisLine(stack.config, model.note),
    }),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[medic] ${signal}: stopping the API and the worker, then the demo app, then Temporal ...`);
    stack
      .stop()
      .then(() => model.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`[medic] could not start: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
