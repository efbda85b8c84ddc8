// What the benchmarks share: a run's work folder and cleanups, percentiles, the Temporal server of a run (dev
// server or the production-shaped cluster), the workflow bundle built once, and reading times off a history.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureDemoImage } from '../scripts/demo-image.js';
import { findEngine } from '../scripts/engine.js';
import { PROJECT_ROOT } from '../scripts/paths.js';
import { startTemporalCluster } from '../scripts/temporal-cluster.js';
import { startTemporalDevServer } from '../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../scripts/tools.js';
import { portForAnotherProcess } from '../test/support/ports.js';

export const log = (line: string) => console.log(`[bench] ${line}`);

/** A bench run's own work folder, and what it started, each pushed with the way to undo it. */
export interface BenchRun {
  work: string;
  cleanups: Array<() => Promise<void>>;
}

/**
 * Runs `body` with a fresh work folder (under the system's temporary folder, named from `prefix`) and an
 * empty list of cleanups; however it ends, undoes the cleanups last first, logging any that fails, and
 * removes the folder.
 */
export async function withBenchRun(prefix: string, body: (run: BenchRun) => Promise<void>): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  const cleanups: Array<() => Promise<void>> = [];
  try {
    await body({ work, cleanups });
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log(`cleanup: ${(err as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What a bench on a real container needs: its Temporal server, a container engine (Podman is started if it
 * is installed) and the demo app's image; each stopped by the run's cleanups.
 */
export async function startBenchParts(bench: string, { work, cleanups }: BenchRun) {
  const temporal = await startBenchTemporal(work);
  cleanups.push(() => temporal.stop());
  const engine = await findEngine({ startPodman: true, log });
  if (!engine) throw new Error(`${bench} needs a container engine: run npm run setup:engine`);
  cleanups.push(() => engine.stop());
  const image = await ensureDemoImage(engine.docker, log);
  return { temporal, engine, image };
}

/** Runs a bench's `main`; if it fails, prints the stack and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(`[bench] failed: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  });
}

/** Nearest-rank percentile of `values` (q in 0..1); NaN for none. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export const p50p95 = (values: number[]) => ({
  p50Ms: Math.round(percentile(values, 0.5)),
  p95Ms: Math.round(percentile(values, 0.95)),
});

/** On the cluster with MEDIC_TEST_TEMPORAL=cluster or --cluster; otherwise a dev server on a SQLite file. */
export const onCluster = () =>
  process.env.MEDIC_TEST_TEMPORAL === 'cluster' || process.argv.includes('--cluster');

export interface BenchTemporal {
  address: string;
  kind: 'cluster (PostgreSQL)' | 'dev server (SQLite file)';
  /** The server's pid, for its CPU and memory; undefined where it is not known. */
  pid?: number;
  stop(): Promise<void>;
}

export async function startBenchTemporal(workDir: string): Promise<BenchTemporal> {
  if (onCluster()) {
    const cluster = await startTemporalCluster({ log });
    return {
      address: cluster.address,
      kind: 'cluster (PostgreSQL)',
      pid: cluster.serverPid,
      stop: () => cluster.stop(),
    };
  }
  const cliPath = await ensureTool(TEMPORAL_CLI, log);
  const server = await startTemporalDevServer({
    cliPath,
    port: await portForAnotherProcess(),
    dbFile: path.join(workDir, 'temporal.db'),
    log,
  });
  return { address: server.address, kind: 'dev server (SQLite file)', stop: () => server.stop() };
}

/** `npm run build`: dist/ compiled, with the workflow bundle beside dist/worker.js, as the image ships it. */
export async function buildDist(): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: PROJECT_ROOT });
}

/** The workflow bundle built once, as `npm run build` ships it, so no worker bundles at start. */
export async function buildWorkflowBundle(workDir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(PROJECT_ROOT, 'src', 'workflows', 'index.ts'),
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
  });
  const file = path.join(workDir, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

const EventType = proto.temporal.api.enums.v1.EventType;

export interface HistoryTimes {
  startedMs: number;
  closedMs?: number;
  events: number;
  /** Each activity by type: when it was first scheduled and when it completed (the last of that type). */
  activities: Map<string, { scheduledMs: number; completedMs?: number }>;
}

const ms = (t: proto.temporal.api.history.v1.IHistoryEvent['eventTime']): number => {
  const seconds = t?.seconds as unknown as { toNumber?: () => number } | number | undefined;
  const s = typeof seconds === 'object' && seconds?.toNumber ? seconds.toNumber() : Number(seconds ?? 0);
  return s * 1000 + (t?.nanos ?? 0) / 1e6;
};

/** The times a workflow's history records: start, close, and each activity's schedule and completion. */
export async function historyTimes(handle: WorkflowHandle): Promise<HistoryTimes> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  const times: HistoryTimes = { startedMs: 0, events: events.length, activities: new Map() };
  // BENCH_TIMELINE=1 prints each history's events with their times: where an incident's milliseconds go.
  if (process.env.BENCH_TIMELINE) {
    const t0 = ms(events[0]?.eventTime);
    const what = (e: (typeof events)[number]) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name ??
      e.workflowExecutionSignaledEventAttributes?.signalName ??
      '';
    for (const e of events) {
      console.log(
        `${(ms(e.eventTime) - t0).toFixed(0).padStart(6)} ms  ${EventType[e.eventType ?? 0]} ${what(e)}`,
      );
    }
  }
  for (const e of events) {
    const at = ms(e.eventTime);
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) times.startedMs = at;
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) times.closedMs = at;
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      scheduled.set(String(e.eventId), name);
      if (!times.activities.has(name)) times.activities.set(name, { scheduledMs: at });
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const name = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)) ?? '?';
      const entry = times.activities.get(name);
      if (entry) entry.completedMs = at;
    }
  }
  return times;
}

/** `script` under node and tsx, as its own process; its stderr's tail is logged if it fails. */
export function startChild(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  // BENCH_PROFILE=dir writes a CPU profile of each child there (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE]
    : [];
  // TypeScript runs through tsx; compiled JavaScript (dist/, npm run build) runs on plain node, as in production.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...profile, ...loader, script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT')
      log(`${name} exited (${code ?? signal}): ${tail}`);
  });
  return child;
}
