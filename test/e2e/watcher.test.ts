// Medic sees trouble itself: the demo app in a real container is killed (kill -9, the OOM killer) with no
// webhook anywhere, and the engine's event stream alone opens the incident that heals it. A container
// without the managed label is never reported, and a watcher whose worker dies is carried on by the next.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { DockerEngineRuntime } from '../../src/activities/containers.js';
import { loadConfig } from '../../src/config.js';
import type { IncidentState } from '../../src/domain/types.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { createMedicWorker, medicWorkerActivities } from '../../src/worker.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { captureLogger } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { type E2eStack, engineOrSkip, NO_WEBHOOK, startDemoContainer, startE2eStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-watch-${process.pid}`;
const UNMANAGED = `medic-e2e-unmanaged-${process.pid}`;
const DEMO2 = `medic-e2e-watch2-${process.pid}`;
// A label of this run's own: other runs share the engine, and this watcher must never see their containers.
const LABEL = { key: 'medic.managed', value: `w${process.pid}` };
const LABEL2 = { key: 'medic.managed', value: `k${process.pid}` };
/** The demo app idles at about 60 MB; the oom fault must hit the limit, nothing else may. */
const MEMORY_LIMIT = 192 * 1024 * 1024;

let stack: E2eStack;
const cleanups: Array<() => Promise<unknown>> = [];

describe.skipIf(Boolean(skipReason))('the engine watcher heals what nobody reported', () => {
  beforeAll(async () => {
    stack = await startE2eStack({
      engine: engine!,
      env: {
        MEDIC_MANAGED_LABEL: `${LABEL.key}=${LABEL.value}`,
        MEDIC_WATCHER: 'on',
        MEDIC_SWEEP_INTERVAL: '0',
        // These tests heal one container several times in a row: no cooldown between restarts.
        MEDIC_GUARD_COOLDOWN: '0s',
        MEDIC_GUARD_MAX_RESTARTS_PER_HOUR: '100',
        // ... and each death is a new fault here, not the recurrence of the one before.
        MEDIC_RECURRENCE_WINDOW: '1s',
      },
      demo: { name: DEMO, env: NO_WEBHOOK, memoryLimitBytes: MEMORY_LIMIT },
    });
  });

  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    await stack?.stop();
  });

  const docker = () => engine!.docker;
  const inspect = (name: string) => docker().getContainer(name).inspect();

  async function incident(workflowId: string): Promise<IncidentState | undefined> {
    try {
      return await stack.client.workflow.getHandle(workflowId).query(statusQuery);
    } catch {
      return undefined;
    }
  }

  const awaitResolved = (workflowId: string, notRunId?: string) =>
    waitFor(
      `${workflowId} to be RESOLVED`,
      async () => {
        const s = await incident(workflowId);
        if (s?.status === 'FAILED' || s?.status === 'ESCALATED')
          throw new Error(`${workflowId} ended ${s.status}: ${JSON.stringify(s.timeline.slice(-3))}`);
        return s?.status === 'RESOLVED' && s.id !== notRunId ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

  async function killHard(name: string): Promise<void> {
    const { State } = await inspect(name);
    expect(State.Running).toBe(true);
    process.kill(State.Pid, 'SIGKILL');
    // The process being gone is the fact; the container may already be restarted by the time we look.
    await waitFor(`${name}'s process to be gone`, async () => {
      try {
        process.kill(State.Pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  }

  it('kill -9 of the demo app, with no webhook anywhere, becomes an incident that heals it', {
    timeout: 90_000,
  }, async () => {
    const before = (await inspect(DEMO)).State.StartedAt;
    await killHard(DEMO);

    const state = await awaitResolved(`incident:local:${DEMO}:crash`);
    expect(state.alertCount).toBe(1);
    expect(state.timeline.find((t) => t.event === 'alert')?.detail).toContain('from engine');
    expect(state.evidence).toMatchObject({ via: 'event', check: 'die', exitCode: 137, oomKilled: false });
    expect(state.actions).toEqual([
      expect.objectContaining({ outcome: 'restarted', previousStartedAt: before }),
    ]);
    const after = await inspect(DEMO);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);
  });

  it('an OOM kill under a memory limit becomes an oom incident that heals it', {
    timeout: 90_000,
  }, async () => {
    const before = (await inspect(DEMO)).State.StartedAt;
    const res = await fetch(`${stack.demo.url}/trigger/oom`, { method: 'POST' });
    expect(res.status).toBe(202);

    const state = await awaitResolved(`incident:local:${DEMO}:oom`);
    expect(state.evidence).toMatchObject({
      via: 'event',
      exitCode: 137,
      oomKilled: true,
      memoryLimitBytes: MEMORY_LIMIT,
    });
    expect(['engine-state', 'oom-event', 'kernel-log']).toContain(state.evidence?.oomKilledSource);
    expect(state.diagnosis?.action).toBe('RESTART');
    expect(state.actions).toEqual([
      expect.objectContaining({ outcome: 'restarted', previousStartedAt: before }),
    ]);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);
  });

  it('a container without the managed label, killed, produces no incident and is not touched', {
    timeout: 90_000,
  }, async () => {
    const unmanaged = await startDemoContainer(docker(), {
      name: UNMANAGED,
      env: NO_WEBHOOK,
      // runDemoContainer labels for Medic; this one carries another value, so it is not ours to watch.
      labels: { [LABEL.key]: 'someone-else' },
    });
    cleanups.push(() => unmanaged.stop());
    const previous = await incident(`incident:local:${DEMO}:crash`);
    await killHard(UNMANAGED);
    await waitFor(
      'the unmanaged container to be exited',
      async () => !(await inspect(UNMANAGED)).State.Running,
    );
    // Then a managed death: events are handled in order, so once this one is an incident the
    // unmanaged death before it has been passed over, if it was ever seen.
    await killHard(DEMO);
    await awaitResolved(`incident:local:${DEMO}:crash`, previous?.id);

    expect(await incident(`incident:local:${UNMANAGED}:crash`)).toBeUndefined();
    const { executions } = await stack.client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `WorkflowId STARTS_WITH 'incident:local:${UNMANAGED}:'`,
    });
    expect(executions).toEqual([]);
    const untouched = await inspect(UNMANAGED);
    expect(untouched.State.Running).toBe(false);
    expect(untouched.RestartCount ?? 0).toBe(0);
  });

  it('the worker dies while watching, the container dies while no worker runs, a new worker opens the incident', {
    timeout: 150_000,
  }, async () => {
    const taskQueue = uniqueTaskQueue('watch-kill');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MEDIC_TASK_QUEUE: taskQueue,
      MEDIC_MANAGED_LABEL: `${LABEL2.key}=${LABEL2.value}`,
      MEDIC_RUNBOOK_PATH: path.join(mkdtempSync(path.join(tmpdir(), 'medic-watch2-')), 'runbook.json'),
      MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
      MEDIC_RESTART_STOP_TIMEOUT: '5s',
      MEDIC_WATCHER: 'on',
      MEDIC_WATCHER_HEARTBEAT_TIMEOUT: '3s',
      MEDIC_SWEEP_INTERVAL: '0',
      MEDIC_LOG_LEVEL: 'warn',
      DOCKER_HOST: inject('dockerHost')!,
    };
    const demo2 = await startDemoContainer(docker(), {
      name: DEMO2,
      env: NO_WEBHOOK,
      labels: { [LABEL2.key]: LABEL2.value },
    });
    cleanups.push(() => demo2.stop());

    // Worker A: `npm run start:worker` as its own process, killed with SIGKILL while it watches.
    const workerA: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    workerA.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    cleanups.push(async () => workerA.kill('SIGKILL'));
    const { watcherId } = watchIds(taskQueue);
    // Following the stream, with its cursor in a heartbeat the server holds for the next worker.
    await waitFor(
      `${watcherId} to follow the event stream in worker A`,
      async () => {
        if (workerA.exitCode !== null) throw new Error(`worker A exited: ${stderr}`);
        const { raw } = await stack.client.workflow.getHandle(watcherId).describe();
        return (raw.pendingActivities ?? []).some(
          (a) => a.lastHeartbeatTime && (a.heartbeatDetails?.payloads?.length ?? 0) > 0,
        );
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker A stderr: ${stderr}`);
    });
    const exited = new Promise((r) => workerA.once('exit', r));
    workerA.kill('SIGKILL');
    await exited;

    await killHard(DEMO2);
    const diedAt = Date.now();
    // Dead by the engine's own account, while no worker watches: nothing has opened an incident.
    await waitFor('demo 2 to be exited', async () => !(await inspect(DEMO2)).State.Running);
    expect(await incident(`incident:local:${DEMO2}:crash`)).toBeUndefined();

    // Worker B, in this process, with the same settings: it takes over the watch from the heartbeat.
    const config = loadConfig(env);
    const { logger } = captureLogger();
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const runtime = new DockerEngineRuntime(docker(), config.managedLabel);
    const workerB = await createMedicWorker({
      connection,
      namespace: 'default',
      taskQueue,
      activities: medicWorkerActivities({
        config,
        runtime,
        client: stack.client,
        logger,
        runbookPath: config.runbookPath,
        watchEngine: { docker: docker(), isLocal: true },
      }),
      workflowBundlePath: inject('workflowBundlePath'),
    });
    const running = workerB.run();
    cleanups.push(async () => {
      await stack.client.workflow
        .getHandle(watcherId)
        .terminate('test over')
        .catch(() => undefined);
      workerB.shutdown();
      await running;
      await connection.close();
    });

    const state = await awaitResolved(`incident:local:${DEMO2}:crash`);
    expect(state.evidence).toMatchObject({ via: 'event', check: 'die', exitCode: 137 });
    // Opened by worker B, about the death that happened while no worker ran.
    expect(Date.parse(state.openedAt)).toBeGreaterThan(diedAt);
    expect((await fetch(`${demo2.url}/health`)).status).toBe(200);
  });
});
