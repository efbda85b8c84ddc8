// The Temporal worker: runs the workflows and their activities. `npm run start:worker` starts it alone
// (against the Docker engine at DOCKER_HOST); scripts/local-stack.ts and the tests build it with other parts.
// One process polls up to three task queues, by MEDIC_WORKER_ROLE: the central queue (workflows, diagnosis,
// notifications; `central`), the runbook's single writer `<queue>-runbook` (`central`), and its own host's
// `<queue>-host-<MEDIC_HOST_NAME>` (engine work; `host`). `all`, the default, is a single-host Medic.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Runtime, type State, Worker, type WorkerOptions } from '@temporalio/worker';
import type Docker from 'dockerode';
import { allowlistNames } from './activities/allowlist.js';
import { type ContainerRuntime, createDockerClient, DockerEngineRuntime } from './activities/containers.js';
import {
  createActivities,
  createCentralActivities,
  createHostActivities,
  HOST_ACTIVITY_NAMES,
  type MedicActivities,
  RUNBOOK_ACTIVITY_NAMES,
} from './activities/index.js';
import { createNotifier } from './activities/notify-delivery.js';
import { RunbookStore } from './activities/runbook.js';
import {
  createEngineWatchActivities,
  ENGINE_WATCH_ACTIVITY_NAMES,
  type EngineWatchActivities,
} from './activities/watch/index.js';
import { readKernelOomKills } from './activities/watch/kernel-log.js';
import { engineAlerter } from './activities/watch/raise-alert.js';
import { DEFAULT_WORKFLOW_CACHE, loadConfig, type MedicConfig } from './config.js';
import { FAILURE } from './domain/failures.js';
import { MEDIC_HISTOGRAM_BUCKETS } from './domain/metric-names.js';
import { hostTaskQueue, LOCAL_HOST, runbookTaskQueue } from './domain/naming.js';
import type { WorkerRole } from './domain/settings.js';
import { defaultText } from './domain/settings-table.js';
import { createLogger, type Logger } from './logger.js';
import { connectClient, temporalConnectionOptions } from './temporal/connection.js';
import { ensureEngineWatch } from './temporal/engine-watch.js';
import { HealthyImageGateway } from './temporal/healthy-images.js';
import { IncidentGateway } from './temporal/incident-gateway.js';
import { ensureSearchAttributes } from './temporal/search-attributes.js';
import { startWorkerHeartbeat, workerHealthFile } from './worker-health.js';

/** `.ts` under tsx, `.js` in the compiled dist/: the workflows sit beside this module either way. */
const MODULE_EXT = path.extname(fileURLToPath(import.meta.url));
export const WORKFLOWS_PATH = fileURLToPath(new URL(`./workflows/index${MODULE_EXT}`, import.meta.url));

/**
 * The pre-built workflow bundle, if there is one: MEDIC_WORKFLOW_BUNDLE, or the workflow-bundle.js that
 * `npm run build` writes beside dist/worker.js. Without one (tsx, development) the worker bundles at start.
 */
export function prebuiltWorkflowBundle(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MEDIC_WORKFLOW_BUNDLE) {
    const file = path.resolve(env.MEDIC_WORKFLOW_BUNDLE);
    if (!existsSync(file))
      throw new Error(`MEDIC_WORKFLOW_BUNDLE=${file} does not exist: run npm run build, or unset it`);
    return file;
  }
  const beside = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));
  return existsSync(beside) ? beside : undefined;
}

/**
 * A worker told to stop (SIGTERM, SIGINT) takes no new task and lets those in flight finish: the restart
 * activity does not stop halfway, and the engine watch ends at once. Past this bound it gives up and the
 * process exits non-zero; the unfinished tasks are retried elsewhere (the restart after its heartbeat timeout).
 */
export const WORKER_SHUTDOWN_FORCE_MS = 90_000;

/** Every activity a worker may run; which of them a process has depends on its role. */
export type WorkerActivities = Partial<MedicActivities & EngineWatchActivities>;

export interface MedicWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The central task queue; the host and runbook queues are named after it. */
  taskQueue: string;
  /** What this process polls (default `all`: the central queue, the runbook writer's and its host's). */
  role?: WorkerRole;
  /** The container host whose queue this process polls (default `local`). */
  hostName?: string;
  /** The activities of the role: central ones, a host's (with the watch's where it watches), or both. */
  activities: WorkerActivities;
  /** A pre-built bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
  /** Workflows kept in memory between tasks (MEDIC_WORKFLOW_CACHE); default DEFAULT_WORKFLOW_CACHE. */
  workflowCache?: number;
}

/**
 * A worker's activities, wired from its configuration: what `npm run start:worker`, `npm start` and the tests'
 * workers run. A host's engine is only needed where the role includes the host (`runtime`), the runbook
 * and providers only where it includes the central queue. The watch's activities come with an engine to watch.
 */
export function medicWorkerActivities(deps: {
  config: MedicConfig;
  runtime?: ContainerRuntime;
  client: Client;
  logger: Logger;
  runbookPath: string;
  /** The engine this worker watches (the watcher and sweep are on and an engine is reachable). */
  watchEngine?: { docker: Docker; isLocal: boolean };
}): WorkerActivities {
  const { config, logger } = deps;
  const role = config.worker.role;
  const activityLogger = logger.child({ component: 'activities', host: config.worker.hostName });
  const central = () => ({
    incidentSettings: config.incident,
    runbook: new RunbookStore(deps.runbookPath),
    notifier: createNotifier(config.notify, logger.child({ component: 'notify' })),
    logger: activityLogger,
    diagnosis: config.diagnosis,
  });
  const healthyImages = new HealthyImageGateway(
    deps.client,
    config.temporal.taskQueue,
    config.worker.hostName ?? LOCAL_HOST,
  );
  const incidents = new IncidentGateway(
    deps.client,
    config.temporal.taskQueue,
    config.incident,
    config.logLimits,
  );
  const host = (runtime: ContainerRuntime) => ({
    runtime,
    healthyImages,
    // A restarted target's unhealthy dependents become incidents of their own, as engine faults do.
    raiseAlert: engineAlerter({
      runtime,
      incidents,
      log: activityLogger,
      ...(config.worker.hostName ? { host: config.worker.hostName } : {}),
    }),
    logger: activityLogger,
    dryRun: config.incident.dryRun,
    allowlist: { managedLabel: config.managedLabel, protectedNames: allowlistNames(config) },
    evidence: config.diagnosis,
  });
  if (role === 'central') return createCentralActivities(central());
  if (!deps.runtime) throw new Error(`a worker with MEDIC_WORKER_ROLE=${role} needs a container runtime`);
  const activities: WorkerActivities =
    role === 'all'
      ? createActivities({ ...central(), ...host(deps.runtime) })
      : createHostActivities(host(deps.runtime));
  if (!deps.watchEngine) return activities;
  return {
    ...activities,
    ...createEngineWatchActivities({
      runtime: new DockerEngineRuntime(deps.watchEngine.docker, config.managedLabel, {
        healthUrlHosts: config.healthUrlHosts,
      }),
      incidents,
      logger: activityLogger,
      host: config.worker.hostName,
      healthyImages,
      // The kernel log is read only where the engine runs on this host (a unix socket).
      ...(deps.watchEngine.isLocal ? { kernelOomKills: readKernelOomKills } : {}),
    }),
  };
}

/** The workers of one process, one per task queue, run and stopped together. */
export class MedicWorker {
  constructor(readonly workers: readonly Worker[]) {}

  /** Runs every worker; when one stops with an error, the others are shut down and the error is passed on. */
  async run(): Promise<void> {
    const runs = this.workers.map((w) =>
      w.run().catch((err: unknown) => {
        this.shutdown();
        throw err;
      }),
    );
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** RUNNING while every worker runs; otherwise the state of the first that does not. */
  getState(): State {
    return this.workers.find((w) => w.getState() !== 'RUNNING')?.getState() ?? 'RUNNING';
  }
}

const pick = (activities: WorkerActivities, names: readonly string[]) =>
  Object.fromEntries(Object.entries(activities).filter(([name]) => names.includes(name))) as WorkerActivities;

/**
 * The workers of a role. Central: the workflows and every activity given (older incidents call the engine
 * ones on this queue too, where one process serves both), and the runbook's single writer, one activity at
 * a time. Host: the engine activities on the host's queue; it runs no workflows, so it starts without a bundle.
 */
export async function createMedicWorker(options: MedicWorkerOptions): Promise<MedicWorker> {
  const role = options.role ?? (defaultText('MEDIC_WORKER_ROLE') as WorkerRole);
  const { connection, namespace, taskQueue, activities } = options;
  const workers: Worker[] = [];
  const common = { connection, namespace, shutdownForceTime: WORKER_SHUTDOWN_FORCE_MS };
  if (role !== 'host') {
    const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH };
    const maxCachedWorkflows = options.workflowCache ?? DEFAULT_WORKFLOW_CACHE;
    workers.push(await Worker.create({ ...common, taskQueue, activities, ...workflows, maxCachedWorkflows }));
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: runbookTaskQueue(taskQueue),
        activities: pick(activities, RUNBOOK_ACTIVITY_NAMES),
        maxConcurrentActivityTaskExecutions: 1,
      }),
    );
  }
  if (role !== 'central') {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: hostTaskQueue(taskQueue, options.hostName ?? LOCAL_HOST),
        activities: pick(activities, [...HOST_ACTIVITY_NAMES, ...ENGINE_WATCH_ACTIVITY_NAMES]),
      }),
    );
  }
  return new MedicWorker(workers);
}

const WEBPACK_STATS = /^asset workflow-bundle/;

const SDK_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Routes the Temporal SDK's own logs into Medic's structured log. `handleSignals: false` leaves
 * SIGINT/SIGTERM to the caller (scripts/local-stack.ts shuts several parts down in order).
 */
export function installTemporalLogging(
  logger: Logger,
  options: { handleSignals?: boolean; metricsAddress?: string | undefined } = {},
): void {
  const forward = (level: keyof typeof SDK_LEVELS, message: string, meta?: Record<string, unknown>) =>
    logger[SDK_LEVELS[quieter(level, message, meta)]](meta ?? {}, message);
  Runtime.install({
    ...(options.handleSignals === false ? { shutdownSignals: [] } : {}),
    // The runtime's Prometheus exporter: temporal_* worker series, and medic_* from the workflows.
    ...(options.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: options.metricsAddress,
                histogramBucketOverrides: MEDIC_HISTOGRAM_BUCKETS,
              },
            },
          },
        }
      : {}),
    logger: {
      log: (level, message, meta) => forward(level, message, meta),
      trace: (message, meta) => forward('TRACE', message, meta),
      debug: (message, meta) => forward('DEBUG', message, meta),
      info: (message, meta) => forward('INFO', message, meta),
      warn: (message, meta) => forward('WARN', message, meta),
      error: (message, meta) => forward('ERROR', message, meta),
    },
  });
}

/**
 * SDK lines that are expected and loud: the bundler's webpack statistics (a screenful at info), an
 * activity-only worker's note that it polls no workflows, and a health check failing while a restarted
 * service warms up (a warning with a stack per attempt; the retry policy is the backoff, and the activity
 * logs each attempt itself). All go to debug.
 */
function quieter(
  level: keyof typeof SDK_LEVELS,
  message: string,
  meta?: Record<string, unknown>,
): keyof typeof SDK_LEVELS {
  if (level === 'INFO' && WEBPACK_STATS.test(message)) return 'DEBUG';
  // A host worker and the runbook writer poll activities only, by design.
  if (level === 'WARN' && message.startsWith('No workflows registered')) return 'DEBUG';
  const error = meta?.error as { type?: unknown; nonRetryable?: unknown } | undefined;
  if (
    level === 'WARN' &&
    message === 'Activity failed' &&
    error?.type === FAILURE.unhealthy &&
    !error.nonRetryable
  ) {
    return 'DEBUG';
  }
  return level;
}

/**
 * A socket the worker may not use fails every restart while the worker looks healthy: refuse to start, and
 * say how to fix it. An engine that is merely down is only logged (incidents wait for it).
 */
async function checkEngineAccess(
  docker: Docker,
  dockerHost: string | undefined,
  logger: Logger,
): Promise<void> {
  const where = dockerHost || 'unix:///var/run/docker.sock';
  try {
    await docker.ping();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new Error(
        `permission denied on the container engine socket ${where}: run the worker with the socket's group ` +
          '(compose: DOCKER_SOCKET_GID=$(stat -c %g /var/run/docker.sock) in .env; docker run: --group-add)',
      );
    }
    logger.warn({ engine: where, err: (err as Error).message }, 'the container engine does not answer yet');
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  installTemporalLogging(logger.child({ component: 'temporal-sdk' }), {
    metricsAddress: config.workerMetricsAddress,
  });
  if (config.workerMetricsAddress)
    logger.info({ url: `http://${config.workerMetricsAddress}/metrics` }, 'worker metrics served');
  const client = await connectClient(config.temporal);
  await ensureSearchAttributes(client, config.temporal.namespace, logger);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const { role, hostName } = config.worker;
  // Only a worker that serves a host talks to an engine; a central worker never opens a socket.
  const onHost = role !== 'central';
  const docker = onHost ? createDockerClient(config.dockerHost) : undefined;
  if (docker) await checkEngineAccess(docker, config.dockerHost, logger);
  const watching = config.watch.enabled && docker !== undefined;
  const workflowBundlePath = role === 'host' ? undefined : prebuiltWorkflowBundle();
  const worker = await createMedicWorker({
    ...(workflowBundlePath ? { workflowBundlePath } : {}),
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    role,
    hostName,
    workflowCache: config.worker.workflowCache,
    activities: medicWorkerActivities({
      config,
      ...(docker
        ? {
            runtime: new DockerEngineRuntime(docker, config.managedLabel, {
              healthUrlHosts: config.healthUrlHosts,
            }),
          }
        : {}),
      client,
      logger,
      runbookPath: path.resolve(config.runbookPath),
      ...(watching
        ? { watchEngine: { docker, isLocal: !config.dockerHost || config.dockerHost.startsWith('unix://') } }
        : {}),
    }),
  });
  if (watching) await ensureEngineWatch(client, config, logger);
  else if (onHost) logger.info('engine watcher and sweep are off (MEDIC_WATCHER=off)');
  logger.info(
    {
      role,
      host: onHost ? hostName : undefined,
      taskQueues: worker.workers.map((w) => w.options.taskQueue),
      address: config.temporal.address,
      workflows: role === 'host' ? 'none (host worker)' : (workflowBundlePath ?? 'bundled at start'),
      workflowCache: role === 'host' ? undefined : config.worker.workflowCache,
    },
    'worker running',
  );
  // SIGINT/SIGTERM: the SDK's Runtime shuts the worker down (in-flight tasks finish), run() resolves.
  const running = worker.run();
  const heartbeat = startWorkerHeartbeat({
    file: workerHealthFile(),
    isRunning: () => worker.getState() === 'RUNNING',
    reachTemporal: () =>
      client.withDeadline(Date.now() + 5000, () => client.connection.workflowService.getSystemInfo({})),
  });
  await running.finally(() => heartbeat.stop());
  await connection.close();
  await client.connection.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
