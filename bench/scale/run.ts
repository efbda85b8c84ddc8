// The scale benchmark: 1,000 incidents across 20 managed targets (50 synthetic alert types each), all
// waiting for approval, on one worker process in dry-run; then every one approved, until all are closed.
// Prints the worker's peak RSS (pre-built workflow bundle, MEDIC_WORKFLOW_BUNDLE), the open and drain
// times, the history size per incident, and the floor: the same starts and signals on the same server
// to a workflow that does nothing else. Writes bench/results/scale.json (scale-cluster.json with
// MEDIC_TEST_TEMPORAL=cluster or --cluster).
//
// The targets are 20 real containers of the demo image whose process has exited: each incident's
// allowlist check and evidence go to the engine, the rules diagnose "exited, restart", and the critical
// severity asks a person. An exited container costs nothing to keep, which matters on two cores.
import '../../test/support/quiet-sdk.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type Docker from 'dockerode';
import { removeContainer } from '../../scripts/demo-image.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { stopProcess } from '../../scripts/processes.js';
import { DEFAULT_WORKFLOW_CACHE, loadConfig } from '../../src/config.js';
import { alertFromWebhook } from '../../src/domain/alert.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { approveSignal } from '../../src/workflows/messages.js';
import {
  buildDist,
  log,
  onCluster,
  runBench,
  startBenchParts,
  startChild,
  withBenchRun,
} from '../support.js';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 20);
const TYPES = Number(process.env.BENCH_ALERT_TYPES ?? 50);
const INCIDENTS = TARGETS * TYPES;
/** Concurrent starts and signals, as a busy API would send them. */
const CONCURRENCY = 32;
const TASK_QUEUE = 'medic-bench-scale';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await done()) return (Date.now() - started) / 1000;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

const count = async (client: Client, query: string) => (await client.workflow.count(query)).count;

/** Peak and current resident set of a process, in MB, from /proc. */
function rssMb(pid: number | undefined): { peak: number; now: number } {
  const status = pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  return { peak: Math.round(kb('VmHWM') / 1024), now: Math.round(kb('VmRSS') / 1024) };
}

/** CPU seconds a process has used, from /proc (user + system). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The whole machine's busy and total CPU time, from /proc/stat, in seconds. */
function machineCpu(): { busy: number; total: number } {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

async function exitedTargets(docker: Docker, image: string): Promise<string[]> {
  const names = Array.from({ length: TARGETS }, (_, i) => `medic-scale-${i}`);
  for (const name of names) {
    await removeContainer(docker, name);
    const c = await docker.createContainer({
      name,
      Image: image,
      Cmd: ['/usr/local/bin/node', '-e', 'process.exit(3)'],
      Labels: { 'medic.managed': 'true' },
      HostConfig: { NetworkMode: 'host' },
    });
    await c.start();
  }
  await until(
    'the targets to exit',
    async () => {
      const states = await Promise.all(names.map((n) => docker.getContainer(n).inspect()));
      return states.every((s) => !s.State.Running);
    },
    60_000,
  );
  return names;
}

const alerts = (targets: string[]) =>
  targets.flatMap((target) =>
    Array.from({ length: TYPES }, (_, j) =>
      alertFromWebhook(
        {
          container_name: target,
          alert_type: `synthetic-${j}`,
          severity: 'critical',
          status: 'firing',
          logs: ['{"level":"error","msg":"synthetic alert for the scale benchmark"}'],
          timestamp: new Date().toISOString(),
        },
        new Date(),
      ),
    ),
  );

/** Medic: every alert opened through the API's gateway, waited for, approved and drained. */
async function medicRun(client: Client, targets: string[], workerPid: number | undefined) {
  const config = loadConfig({ ...process.env, MEDIC_TASK_QUEUE: TASK_QUEUE, MEDIC_DRY_RUN: 'on' });
  const gateway = new IncidentGateway(client, TASK_QUEUE, config.incident);
  const all = alerts(targets);
  const started = Date.now();
  const ids: string[] = [];
  let retries = 0;
  // As the API would: past its 5 s deadline a sender is told to retry (Alertmanager does).
  const open = async (a: (typeof all)[number]): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await gateway.openOrJoin(a)).workflowId;
      } catch (err) {
        if (attempt >= 5) throw err;
        retries++;
        await sleep(500);
      }
    }
  };
  await pool(all, CONCURRENCY, async (a) => ids.push(await open(a)));
  const startsSeconds = (Date.now() - started) / 1000;
  const waiting = `WorkflowType = 'incidentWorkflow' AND IncidentStatus = 'AWAITING_APPROVAL'`;
  await until(
    `${INCIDENTS} incidents awaiting approval`,
    async () => (await count(client, waiting)) >= INCIDENTS,
    600_000,
  );
  const openSeconds = (Date.now() - started) / 1000;
  const rssWhileWaiting = rssMb(workerPid);
  log(
    `medic: ${INCIDENTS} starts in ${startsSeconds.toFixed(1)} s, all awaiting approval after ${openSeconds.toFixed(1)} s; worker RSS ${rssWhileWaiting.now} MB`,
  );
  const drainStarted = Date.now();
  const [workerCpuBefore, machineBefore] = [cpuSeconds(workerPid), machineCpu()];
  await pool(ids, CONCURRENCY, (id) => client.workflow.getHandle(id).signal(approveSignal, { by: 'bench' }));
  const signalsSeconds = (Date.now() - drainStarted) / 1000;
  const running = `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`;
  await until('every incident to close', async () => (await count(client, running)) === 0, 600_000);
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const machineAfter = machineCpu();
  const drainCpu = {
    workerSeconds: Number((cpuSeconds(workerPid) - workerCpuBefore).toFixed(1)),
    machineBusyPercent: Math.round(
      (100 * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total),
    ),
  };
  log(
    `drain CPU: the worker used ${drainCpu.workerSeconds} CPU-s in ${drainSeconds.toFixed(1)} s; the machine was ${drainCpu.machineBusyPercent}% busy`,
  );
  log(
    `medic: ${INCIDENTS} approvals sent in ${signalsSeconds.toFixed(1)} s, all closed after ${drainSeconds.toFixed(1)} s`,
  );
  let events = 0;
  const statuses = new Map<string, number>();
  await pool(ids, 20, async (id) => {
    const d = await client.workflow.getHandle(id).describe();
    events += d.historyLength;
    const s = String(d.searchAttributes?.IncidentStatus?.[0] ?? d.status.name);
    statuses.set(s, (statuses.get(s) ?? 0) + 1);
  });
  return {
    startRetries: retries,
    startsSeconds,
    openSeconds,
    signalsSeconds,
    drainSeconds,
    historyEventsPerIncident: Math.round(events / ids.length),
    outcomes: Object.fromEntries(statuses),
    rssWhileWaitingMb: rssWhileWaiting.now,
    drainCpu,
  };
}

/** The floor: the same starts and signals, to a workflow that only waits for `approve`. */
async function bareRun(client: Client, connectionAddress: string, targets: string[]) {
  const { NativeConnection } = await import('@temporalio/worker');
  const connection = await NativeConnection.connect({ address: connectionAddress });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-bare',
    workflowsPath: path.join(PROJECT_ROOT, 'bench', 'scale', 'bare-workflow.ts'),
  });
  const running = worker.run();
  try {
    const all = alerts(targets);
    const started = Date.now();
    const ids = all.map((a) => `bare:${a.target}:${a.alertType}`);
    await pool(
      all.map((a, i) => ({ a, id: ids[i] as string })),
      CONCURRENCY,
      ({ a, id }) =>
        client.workflow.signalWithStart('bareIncident', {
          workflowId: id,
          taskQueue: 'bench-bare',
          args: [],
          signal: 'alert',
          signalArgs: [a],
        }),
    );
    const openSeconds = (Date.now() - started) / 1000;
    const drainStarted = Date.now();
    await pool(ids, CONCURRENCY, (id) => client.workflow.getHandle(id).signal('approve', { by: 'bench' }));
    const query = `WorkflowType = 'bareIncident' AND ExecutionStatus = 'Running'`;
    await until('every bare workflow to close', async () => (await count(client, query)) === 0, 600_000);
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    log(
      `floor: ${INCIDENTS} bare starts in ${openSeconds.toFixed(1)} s, approved and closed in ${drainSeconds.toFixed(1)} s`,
    );
    return { openSeconds, drainSeconds };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

async function main(): Promise<void> {
  await withBenchRun('medic-bench-scale-', async ({ work, cleanups }) => {
    const { temporal, engine, image } = await startBenchParts('bench:scale', { work, cleanups });
    const targets = await exitedTargets(engine.docker, image);
    cleanups.push(async () => {
      for (const t of targets) await removeContainer(engine.docker, t);
    });
    // The worker as production runs it: compiled by npm run build, with its pre-built workflow bundle.
    log('building dist/ (npm run build) for the worker');
    await buildDist();
    const worker = startChild('worker', 'dist/worker.js', {
      TEMPORAL_ADDRESS: temporal.address,
      DOCKER_HOST: engine.dockerHost,
      MEDIC_TASK_QUEUE: TASK_QUEUE,
      MEDIC_DRY_RUN: 'on',
      MEDIC_WATCHER: 'off',
      MEDIC_PROVIDERS: '',
      MEDIC_LOG_LEVEL: 'error',
      MEDIC_RUNBOOK_PATH: path.join(work, 'runbook.json'),
      ...(process.env.BENCH_WORKER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS }
        : {}),
    });
    cleanups.push(() => stopProcess(worker));
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    log(
      `Temporal ${temporal.kind} ${temporal.address}; engine ${engine.product}; ${TARGETS} exited demo-image containers`,
    );
    log(
      `load before the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    await until(
      'the worker to poll its task queue',
      async () => {
        const { pollers } = await client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: TASK_QUEUE },
          taskQueueType: 1, // workflow tasks
        });
        return (pollers ?? []).length > 0;
      },
      60_000,
    );
    await sleep(2000); // settled: the workflow bundle loaded, the first polls open
    const rssIdleMb = rssMb(worker.pid).now;
    log(`worker RSS before any incident: ${rssIdleMb} MB`);
    const medic = await medicRun(client, targets, worker.pid);
    const peakRssMb = rssMb(worker.pid).peak;
    const floor = await bareRun(client, temporal.address, targets);
    const figures = {
      incidents: INCIDENTS,
      targets: TARGETS,
      peakRssMb,
      openSeconds: Number(medic.openSeconds.toFixed(1)),
      drainSeconds: Number(medic.drainSeconds.toFixed(1)),
      historyEventsPerIncident: medic.historyEventsPerIncident,
      startsSeconds: Number(medic.startsSeconds.toFixed(1)),
      startRetries: medic.startRetries,
      approvalSignalsSeconds: Number(medic.signalsSeconds.toFixed(1)),
      rssIdleMb,
      rssWhileWaitingMb: medic.rssWhileWaitingMb,
      drainCpu: medic.drainCpu,
      outcomes: medic.outcomes,
      floor: {
        openSeconds: Number(floor.openSeconds.toFixed(1)),
        drainSeconds: Number(floor.drainSeconds.toFixed(1)),
      },
      worker: `one dist/worker.js process (npm run build, pre-built workflow bundle), MEDIC_WORKFLOW_CACHE ${process.env.MEDIC_WORKFLOW_CACHE ?? DEFAULT_WORKFLOW_CACHE}, dry-run, models off, watcher off`,
      targetsAre: 'exited containers of the demo image, labelled medic.managed=true',
      temporal: temporal.kind,
      cores: cpus().length,
      loadAverageAfter: Number(loadavg()[0]?.toFixed(2)),
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(figures, null, 2));
    const file = path.join(
      PROJECT_ROOT,
      'bench',
      'results',
      onCluster() ? 'scale-cluster.json' : 'scale.json',
    );
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
    log(`written to ${path.relative(PROJECT_ROOT, file)}`);
    const misses = [
      peakRssMb > 400 && `peak RSS ${peakRssMb} MB > 400`,
      figures.drainSeconds > 60 && `drain ${figures.drainSeconds} s > 60`,
    ].filter(Boolean);
    log(
      misses.length ? `targets missed: ${misses.join('; ')}` : 'targets met (RSS <= 400 MB, drain <= 60 s)',
    );
  });
}

runBench(main);
