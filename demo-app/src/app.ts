// The demo service: routes, fault triggers and the lifecycle of its server, monitor and jobs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { DemoConfig } from './config.js';
import { crashDumpBytes, MAX_CRASH_DUMP_BYTES, memoryDump } from './crash-dump.js';
import { POOL_NAME, SimulatedDatabase } from './database.js';
import { ErrorCounter } from './error-counter.js';
import { FAULT_EFFECTS, FAULT_NAMES, FaultController, isFaultName } from './faults.js';
import { Log } from './log.js';
import { createMetrics } from './metrics.js';
import { Monitor } from './monitor.js';
import { cgroupMemoryLimit, resolveOomAmount } from './oom-amount.js';
import { ReleaseState, readRelease } from './release.js';
import { checkSettings, clearSettings } from './settings-file.js';
import { WebhookSender } from './webhook.js';

export interface DemoAppDeps {
  /** Where log lines go; stdout by default. */
  write?: (line: string) => void;
  /** Where raw bytes (the crash trigger's memory dump) go; stdout by default. */
  writeRaw?: (bytes: Buffer) => void;
  /** How the crash fault ends the process; process.exit by default. */
  exit?: (code: number) => void;
  /** The webhook sender's fetch. */
  fetch?: typeof fetch;
  random?: () => number;
  /** This process's memory limit, read once at start (the cgroup's by default). */
  memoryLimitBytes?: () => number | undefined;
}

export interface DemoApp {
  app: Express;
  log: Log;
  faults: FaultController;
  /** Starts serving, the self-monitor and the background database job. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops everything; requests still open (a hang) are cut off, not waited for. */
  close(): Promise<void>;
}

/** The actions the app serves for Medic, as its labels declare them (medic.action.<name>). */
export const DEMO_ACTIONS = [
  {
    action: 'reset-pool',
    method: 'POST',
    path: '/admin/reset-pool',
    risk: 'low',
    effect:
      "drops the database pool's stuck connections and opens new ones: clears db-latency without a restart",
  },
] as const;

export function createDemoApp(config: DemoConfig, deps: DemoAppDeps = {}): DemoApp {
  const log = new Log({ write: deps.write });
  const writeRaw = deps.writeRaw ?? ((bytes: Buffer) => void process.stdout.write(bytes));
  // A dying process's last lines must reach the engine's log: on a pipe a large write finishes
  // asynchronously and process.exit would cut it off, so exit once stdout has taken everything.
  const exit = deps.exit ?? ((code: number) => process.stdout.write('', () => process.exit(code)));
  const startedAt = Date.now();
  const metrics = createMetrics();
  const errors = new ErrorCounter();
  const sender = config.webhookSecret
    ? new WebhookSender({
        url: config.webhookUrl,
        secret: config.webhookSecret,
        ...(config.webhookSender ? { sender: config.webhookSender } : {}),
        log,
        fetch: deps.fetch,
      })
    : undefined;
  if (!sender) {
    log.warn('MEDIC_WEBHOOK_SECRET is not set: symptoms are only logged, no alert is sent to Medic', {
      hint: 'set MEDIC_WEBHOOK_SECRET to the secret Medic was started with',
    });
  }

  // Like a real crash: no goodbye. Medic learns of it from the engine (the container's `die`).
  const crash = () => {
    log.fatal('uncaught exception: simulated crash, process exiting', { fault: 'crash', exitCode: 1 });
    exit(1);
  };

  const read = readRelease(config.releaseFile);
  if (read.problem) log.warn('release file unreadable: running as a good release', { problem: read.problem });
  const release = new ReleaseState(read.release, startedAt);
  const oom = resolveOomAmount({
    configuredMb: config.oomAllocateMb,
    capMb: config.oomMaxMb,
    settingsFile: config.settingsFile,
    memoryLimitBytes: deps.memoryLimitBytes ?? (() => cgroupMemoryLimit()),
  });

  const faults = new FaultController({
    log,
    metrics,
    errors,
    memoryLeakMaxMb: config.memoryLeakMaxMb,
    settingsFile: config.settingsFile,
    oom,
    onCrash: crash,
    random: deps.random,
  });
  const database = new SimulatedDatabase({
    log,
    isSlow: () => faults.isActive('db-latency'),
    slowQueryLogMs: config.thresholds.dbLatencyMs,
    random: deps.random,
  });
  let server: Server | undefined;
  let healthUrl: string | undefined;
  const monitor = new Monitor({
    config,
    log,
    metrics,
    database,
    errors,
    healthUrl: () => healthUrl,
    sender,
    releaseProblem: () => release.problem(),
    expectedMemoryMb: () => faults.expectedMemoryMb(),
  });

  const app = express();
  app.disable('x-powered-by');

  app.use((req, res, next) => {
    res.on('finish', () => metrics.httpRequests.inc({ status: String(res.statusCode) }));
    // The hang fault: the handler never answers, but the event loop (and /metrics) keep working.
    if (faults.isActive('hang') && req.path !== '/metrics') {
      log.warn('request stuck: handler waiting on a lock that is never released', {
        method: req.method,
        path: req.path,
      });
      return;
    }
    next();
  });

  app.get('/', (_req, res) => {
    res.json({
      service: 'medic-demo-app',
      container_name: config.containerName,
      started_at: new Date(startedAt).toISOString(),
      release: {
        name: release.release.name,
        ...(release.release.version ? { version: release.release.version } : {}),
      },
      active_faults: [
        ...faults.activeFaults(),
        ...(checkSettings(config.settingsFile).problem ? ['bad-config'] : []),
        ...(release.problem() ? ['bad-release'] : []),
      ],
      triggers: FAULT_NAMES.map((fault) => ({
        fault,
        method: 'POST',
        path: `/trigger/${fault}`,
        effect: FAULT_EFFECTS[fault],
      })),
      actions: DEMO_ACTIONS,
      oom_job: faults.memoryJob(),
      endpoints: ['GET /health', 'GET /metrics', 'GET /api/orders'],
    });
  });

  app.get('/health', (_req, res) => {
    const reasons = new Set<string>();
    if (Date.now() - startedAt < config.startupDelayMs || release.starting()) reasons.add('warming up');
    if (release.problem()) reasons.add('bad release');
    for (const symptom of monitor.symptoms()) if (symptom.healthReason) reasons.add(symptom.healthReason);
    // Read now, not at the last monitor round: fixing the file heals /health at once.
    if (checkSettings(config.settingsFile).problem) reasons.add('invalid configuration');
    res.set('cache-control', 'no-store');
    if (reasons.size === 0) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'degraded', reasons: [...reasons] });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/orders', async (_req, res) => {
    const { durationMs } = await database.query(
      'SELECT id, item, total FROM orders ORDER BY created_at DESC LIMIT 3',
    );
    if (faults.shouldFailRequest()) {
      throw new Error('order lookup failed: upstream connection reset by peer (ECONNRESET)');
    }
    const broken = release.problem();
    if (broken) throw new Error(`order lookup failed: ${broken}`);
    res.json({
      orders: [
        { id: 'ord-1001', item: 'stethoscope', total: 89.5 },
        { id: 'ord-1002', item: 'thermometer', total: 12.99 },
        { id: 'ord-1003', item: 'bandages', total: 4.25 },
      ],
      queryMs: Math.round(durationMs),
    });
  });

  app.post('/trigger/:fault', (req, res) => {
    const fault = req.params.fault;
    if (!isFaultName(fault)) {
      res.status(404).json({
        error: {
          code: 'unknown_fault',
          message: `no fault named "${fault}"; known faults: ${FAULT_NAMES.join(', ')}`,
        },
      });
      return;
    }
    if (fault === 'crash') {
      const dumpBytes = crashDumpBytes(req.query.logBytes);
      if (dumpBytes === undefined) {
        res.status(400).json({
          error: {
            code: 'invalid_log_bytes',
            message: `logBytes must be a whole number from 0 to ${MAX_CRASH_DUMP_BYTES}`,
          },
        });
        return;
      }
      // The crash must not cut off its own answer. One that dumps its memory first prints one huge
      // line: Medic must heal it like any other crash, and go on seeing other containers' faults.
      res.once('finish', () => {
        if (dumpBytes > 0) writeRaw(memoryDump(dumpBytes));
        faults.activate(fault);
      });
    } else faults.activate(fault);
    res.status(202).json({ fault, active: true });
  });

  // The one fault a restart does not clear has its own way out.
  app.delete('/trigger/bad-config', (_req, res) => {
    clearSettings(config.settingsFile);
    log.info('settings file removed: defaults apply again', { file: config.settingsFile });
    res.json({ fault: 'bad-config', active: false });
  });

  // The app's own remedy, declared to Medic by label (medic.action.reset-pool): the process and its start
  // time stay, only the pool's connections are new.
  app.post('/admin/reset-pool', (_req, res) => {
    const cleared = faults.clear('db-latency');
    const cutOff = database.resetPool();
    log.info('connection pool reset: stuck connections dropped, new ones opened', {
      pool: POOL_NAME,
      cutOffQueries: cutOff,
      faultCleared: cleared ? 'db-latency' : 'none',
    });
    res.json({
      action: 'reset-pool',
      pool: POOL_NAME,
      cutOffQueries: cutOff,
      cleared: cleared ? ['db-latency'] : [],
      started_at: new Date(startedAt).toISOString(),
    });
  });

  app.use((req, res) => {
    res.status(404).json({
      error: {
        code: 'not_found',
        message: `no route for ${req.method} ${req.path}; GET / lists the endpoints`,
      },
    });
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status < 500) {
      log.warn('bad request', { method: req.method, path: req.path, status, error: message });
      if (!res.headersSent) res.status(status).json({ error: { code: 'bad_request', message } });
      return;
    }
    errors.record();
    log.error('request failed', { method: req.method, path: req.path, status, error: message });
    if (!res.headersSent) res.status(status).json({ error: { code: 'internal_error', message } });
  });

  return {
    app,
    log,
    faults,
    async listen(port, host) {
      const listening = createServer(app);
      server = listening;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => {
          listening.off('error', reject);
          resolve();
        });
      });
      const address = listening.address() as AddressInfo;
      healthUrl = `http://${loopbackFor(address)}:${address.port}/health`;
      monitor.start();
      database.startBackgroundJob();
      log.info('demo app listening', {
        release: release.release.name,
        oomJobMb: oom.mb,
        oomJobFrom: oom.from,
        host: address.address,
        port: address.port,
        containerName: config.containerName,
        webhook: sender ? config.webhookUrl : 'disabled',
        monitorIntervalMs: config.monitorIntervalMs,
        thresholds: config.thresholds,
      });
      return address;
    },
    async close() {
      faults.stop();
      database.stop();
      sender?.close();
      const monitorStopped = monitor.stop();
      if (server?.listening) {
        const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await monitorStopped;
    },
  };
}

/** The address the app reaches itself on: loopback when it listens on every interface. */
function loopbackFor(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function httpStatusOf(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
