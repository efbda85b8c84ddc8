// The Temporal worker: runs the workflows and their activities. `npm run worker` starts it alone
// (against the Docker engine at DOCKER_HOST); scripts/local-stack.ts and the tests build it with other parts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type Docker from 'dockerode';
import { allowlistNames } from './activities/allowlist.js';
import { type ContainerRuntime, createDockerClient, DockerEngineRuntime } from './activities/containers.js';
import { createActivities, type MedicActivities } from './activities/index.js';
import { createNotifier } from './activities/notify-delivery.js';
import { RunbookStore } from './activities/runbook.js';
import { createEngineWatchActivities, type EngineWatchActivities } from './activities/watch/index.js';
import { readKernelOomKills } from './activities/watch/kernel-log.js';
import { loadConfig, type MedicConfig } from './config.js';
import { MEDIC_HISTOGRAM_BUCKETS } from './domain/metric-names.js';
import { createLogger, type Logger } from './logger.js';
import { connectClient, temporalConnectionOptions } from './temporal/connection.js';
import { ensureEngineWatch } from './temporal/engine-watch.js';
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

export interface MedicWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Incident activities, plus the watcher's and the sweep's where this worker can reach the engine. */
  activities: MedicActivities & Partial<EngineWatchActivities>;
  /** A pre-built bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
}

/**
 * A worker's activities, wired from its configuration: what `npm run worker`, `npm start` and the tests'
 * workers run. The watcher's and the sweep's activities come with an engine to watch.
 */
export function medicWorkerActivities(deps: {
  config: MedicConfig;
  runtime: ContainerRuntime;
  client: Client;
  logger: Logger;
  runbookPath: string;
  /** The engine this worker watches (the watcher and sweep are on and an engine is reachable). */
  watchEngine?: { docker: Docker; isLocal: boolean };
}): MedicWorkerOptions['activities'] {
  const { config, logger } = deps;
  const activityLogger = logger.child({ component: 'activities' });
  const activities = createActivities({
    incidentSettings: config.incident,
    runtime: deps.runtime,
    runbook: new RunbookStore(deps.runbookPath),
    notifier: createNotifier(config.notify, logger.child({ component: 'notify' })),
    logger: activityLogger,
    diagnosis: config.diagnosis,
    allowlist: { managedLabel: config.managedLabel, protectedNames: allowlistNames(config) },
  });
  if (!deps.watchEngine) return activities;
  return {
    ...activities,
    ...createEngineWatchActivities({
      runtime: new DockerEngineRuntime(deps.watchEngine.docker, config.managedLabel, {
        healthUrlHosts: config.healthUrlHosts,
      }),
      incidents: new IncidentGateway(
        deps.client,
        config.temporal.taskQueue,
        config.incident,
        config.logLimits,
      ),
      logger: activityLogger,
      // The kernel log is read only where the engine runs on this host (a unix socket).
      ...(deps.watchEngine.isLocal ? { kernelOomKills: readKernelOomKills } : {}),
    }),
  };
}

export function createMedicWorker(options: MedicWorkerOptions): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundlePath
    ? { workflowBundle: { codePath: options.workflowBundlePath } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...workflows,
  });
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
 * Two SDK lines that are expected and loud: the bundler's webpack statistics (a screenful at info), and
 * a health check failing while a restarted service warms up (a warning with a stack per attempt; the
 * retry policy is the backoff, and the activity logs each attempt itself). Both go to debug.
 */
function quieter(
  level: keyof typeof SDK_LEVELS,
  message: string,
  meta?: Record<string, unknown>,
): keyof typeof SDK_LEVELS {
  if (level === 'INFO' && WEBPACK_STATS.test(message)) return 'DEBUG';
  const error = meta?.error as { type?: unknown; nonRetryable?: unknown } | undefined;
  if (
    level === 'WARN' &&
    message === 'Activity failed' &&
    error?.type === 'Unhealthy' &&
    !error.nonRetryable
  ) {
    return 'DEBUG';
  }
  return level;
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
  const docker = createDockerClient(config.dockerHost);
  const workflowBundlePath = prebuiltWorkflowBundle();
  const worker = await createMedicWorker({
    ...(workflowBundlePath ? { workflowBundlePath } : {}),
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: medicWorkerActivities({
      config,
      runtime: new DockerEngineRuntime(docker, config.managedLabel, {
        healthUrlHosts: config.healthUrlHosts,
      }),
      client,
      logger,
      runbookPath: path.resolve(config.runbookPath),
      ...(config.watch.enabled
        ? { watchEngine: { docker, isLocal: !config.dockerHost || config.dockerHost.startsWith('unix://') } }
        : {}),
    }),
  });
  if (config.watch.enabled) await ensureEngineWatch(client, config, logger);
  else logger.info('engine watcher and sweep are off (MEDIC_WATCHER=off)');
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
      workflows: workflowBundlePath ?? 'bundled at start',
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
