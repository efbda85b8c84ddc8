// Detection latency: how long from a fault nobody reports to the incident being open.
// - events: the demo container's process is killed with SIGKILL; latency = kill -> incident workflow start
//   (target <= 1 s).
// - sweep: the event watcher is stopped, the process is killed, and only the scheduled sweep can find the
//   exited container; latency = kill -> incident start (target <= one sweep interval + 1 s).
// Needs the Temporal CLI (npm run setup) and a container engine (Podman's service is started if needed).
// `npm run bench:detection`; BENCH_EVENT_RUNS (5), BENCH_SWEEP_RUNS (3), BENCH_SWEEP_INTERVAL (5s).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureDemoImage } from '../../scripts/demo-image.js';
import { findEngine } from '../../scripts/engine.js';
import { startStack } from '../../scripts/local-stack.js';
import { startTemporalCluster } from '../../scripts/temporal-cluster.js';
import { VERSION_CHECK_OFF } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { parseDuration } from '../../src/domain/duration.js';
import type { IncidentState } from '../../src/domain/types.js';
import { createLogger } from '../../src/logger.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { installTemporalLogging, WORKFLOWS_PATH } from '../../src/worker.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { MEDIC_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.js';
import { portForAnotherProcess } from '../../test/support/ports.js';

const EVENT_RUNS = Number(process.env.BENCH_EVENT_RUNS ?? 5);
const SWEEP_RUNS = Number(process.env.BENCH_SWEEP_RUNS ?? 3);
const SWEEP_INTERVAL = process.env.BENCH_SWEEP_INTERVAL ?? '5s';
const log = (line: string) => console.log(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function summary(name: string, samples: number[], targetMs: number): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
  const max = sorted.at(-1) ?? Number.NaN;
  const ok = max <= targetMs ? 'within target' : 'OVER TARGET';
  return `${name}: n=${samples.length} p50=${p50} ms max=${max} ms (target <= ${targetMs} ms: ${ok}); samples ${samples.join(', ')} ms`;
}

async function main(): Promise<void> {
  installTemporalLogging(createLogger({ name: 'bench', level: 'error' }), { handleSignals: false });
  const cliPath = await ensureTool(TEMPORAL_CLI, log);
  // MEDIC_TEST_TEMPORAL=cluster measures on the server on PostgreSQL instead of the dev server.
  const temporal =
    process.env.MEDIC_TEST_TEMPORAL === 'cluster'
      ? await startTemporalCluster({ log }).then((c) => ({ address: c.address, teardown: c.stop }))
      : await TestWorkflowEnvironment.createLocal({
          server: {
            executable: { type: 'existing-path', path: cliPath },
            searchAttributes: MEDIC_SEARCH_ATTRIBUTES,
            extraArgs: ['--log-level', 'error', ...VERSION_CHECK_OFF],
          },
        });
  const engine = await findEngine({ startPodman: true, log });
  if (!engine) throw new Error('no container engine (npm run setup:engine installs Podman)');
  await ensureDemoImage(engine.docker, log);
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'medic-bench-'));
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  const bundlePath = path.join(bundleDir, 'workflows.js');
  await import('node:fs/promises').then((fs) => fs.writeFile(bundlePath, bundle.code));

  const name = `medic-bench-${process.pid}`;
  const label = `medic.managed=bench${process.pid}`;
  const stack = await startStack({
    env: {
      TEMPORAL_ADDRESS: temporal.address,
      MEDIC_PORT: '0',
      MEDIC_TASK_QUEUE: `bench-${process.pid}`,
      MEDIC_RUNBOOK_PATH: path.join(bundleDir, 'runbook.json'),
      MEDIC_MANAGED_LABEL: label,
      MEDIC_HEALTH_INITIAL_INTERVAL: '300ms',
      MEDIC_RESTART_STOP_TIMEOUT: '3s',
      MEDIC_WATCHER: 'on',
      MEDIC_SWEEP_INTERVAL: SWEEP_INTERVAL,
      MEDIC_LOG_LEVEL: 'error',
    },
    engine,
    demo: {
      name,
      port: await portForAnotherProcess(),
      env: { MEDIC_WEBHOOK_URL: 'http://127.0.0.1:9/nowhere', MEDIC_WEBHOOK_SECRET: '' },
    },
    workflowBundlePath: bundlePath,
    logger: createLogger({ name: 'bench', level: 'error' }),
    log: () => undefined,
  });
  const { client } = stack;
  const workflowId = `incident-${name}-crash`;
  const { watcherId } = watchIds(stack.config.temporal.taskQueue);

  /** Kills the demo process; resolves with the kill -> incident-open latency, once it is healed again. */
  const killAndMeasure = async (
    previousRunId: string | undefined,
  ): Promise<{ ms: number; runId: string }> => {
    const { State } = await engine.docker.getContainer(name).inspect();
    const killedAt = Date.now();
    process.kill(State.Pid, 'SIGKILL');
    const description = await until('the incident to open', async () => {
      const d = await client.workflow.getHandle(workflowId).describe();
      return d.runId !== previousRunId ? d : undefined;
    });
    const ms = description.startTime.getTime() - killedAt;
    await until('the incident to resolve', async () => {
      const s: IncidentState = await client.workflow.getHandle(workflowId).query(statusQuery);
      if (s.status === 'FAILED' || s.status === 'ESCALATED') throw new Error(`incident ${s.status}`);
      return s.status === 'RESOLVED' ? s : undefined;
    });
    await until('the demo app to answer', async () =>
      (await fetch(`${stack.demo.url}/health`)).status === 200 ? true : undefined,
    );
    return { ms, runId: description.runId };
  };

  try {
    await until('the watcher to follow the stream', async () => {
      const { raw } = await client.workflow.getHandle(watcherId).describe();
      return (raw.pendingActivities ?? []).some((a) => a.lastHeartbeatTime) ? true : undefined;
    });
    let runId: string | undefined;
    const events: number[] = [];
    for (let i = 0; i < EVENT_RUNS; i++) {
      const result = await killAndMeasure(runId);
      runId = result.runId;
      events.push(result.ms);
      log(`event #${i + 1}: ${result.ms} ms`);
      await sleep(500);
    }

    // Sweep only: stop following the event stream.
    await client.workflow.getHandle(watcherId).terminate('benchmark: sweep only');
    // The running activity learns of it at its next heartbeat (every heartbeat timeout / 3).
    await sleep(stack.config.watch.heartbeatTimeoutMs / 3 + 2000);
    const intervalMs = parseDuration(SWEEP_INTERVAL);
    const sweeps: number[] = [];
    for (let i = 0; i < SWEEP_RUNS; i++) {
      // A random phase against the schedule, like a real fault.
      await sleep(Math.floor(Math.random() * intervalMs));
      const result = await killAndMeasure(runId).catch(async (err: Error) => {
        const schedule = await client.schedule
          .getHandle(watchIds(stack.config.temporal.taskQueue).scheduleId)
          .describe();
        const last = schedule.info.recentActions.at(-1);
        const lastSweep = last
          ? await client.workflow
              .getHandle(last.action.workflow.workflowId, last.action.workflow.firstExecutionRunId)
              .result()
              .catch((e: Error) => e.message)
          : undefined;
        throw new Error(`${err.message}; last sweep: ${JSON.stringify(lastSweep)?.slice(0, 1500)}`);
      });
      runId = result.runId;
      sweeps.push(result.ms);
      log(`sweep #${i + 1}: ${result.ms} ms`);
    }
    console.log('');
    console.log(`detection latency (${engine.product}, sweep every ${SWEEP_INTERVAL})`);
    console.log(`  ${summary('engine event -> incident open', events, 1000)}`);
    console.log(`  ${summary('sweep anomaly -> incident open', sweeps, intervalMs + 1000)}`);
  } finally {
    await client.schedule
      .getHandle(watchIds(stack.config.temporal.taskQueue).scheduleId)
      .delete()
      .catch(() => undefined);
    await stack.stop();
    await temporal.teardown();
    await engine.stop();
  }
}

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[bench] failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
