// End-to-end tests need a container engine. Without one they skip with a message, but only when
// CI is unset: in CI a missing engine is a failure, never a silent skip. With one, startE2eStack gives
// a test file the whole local stack, and startDemoContainer another demo app beside it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { inject } from 'vitest';
import { removeContainer, runDemoContainer } from '../../scripts/demo-image.js';
import type { Engine } from '../../scripts/engine.js';
import { type Stack, type StackOptions, startStack } from '../../scripts/local-stack.js';
import { createDockerClient } from '../../src/activities/containers.js';
import type { IncidentState } from '../../src/domain/types.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { captureLogger, waitForDemoApp } from '../support/medic.js';
import { portForAnotherProcess, refusingPort, waitFor } from '../support/ports.js';
import { uniqueTaskQueue } from '../support/temporal.js';

export function engineOrSkip(): { engine?: Engine; skipReason?: string } {
  const dockerHost = inject('dockerHost');
  const demoImage = inject('demoImage');
  if (dockerHost && demoImage) {
    return {
      engine: {
        dockerHost,
        docker: createDockerClient(dockerHost),
        product: 'test engine',
        stop: async () => {},
      },
    };
  }
  const problem = inject('engineProblem') ?? 'no container engine';
  if (process.env.CI) throw new Error(`end-to-end tests need a container engine in CI: ${problem}`);
  console.warn(`[e2e] skipping end-to-end tests: ${problem} (set up one with npm run setup:engine)`);
  return { skipReason: problem };
}

export interface E2eStack extends Stack {
  /** The runbook file of this stack alone. */
  runbookPath: string;
}

/**
 * The local stack (`npm start`'s) on the run's Temporal server and engine, with the demo app in a
 * container called `demo.name`. Defaults suit a machine without keys or a model (the rules diagnose,
 * Ollama's address refuses connections), quick health checks, and no engine watcher; `env` overrides
 * any Medic setting.
 */
export async function startE2eStack(options: {
  engine: Engine;
  env?: Record<string, string>;
  demo: Omit<NonNullable<StackOptions['demo']>, 'port'> & { name: string };
}): Promise<E2eStack> {
  const runbookPath = path.join(mkdtempSync(path.join(tmpdir(), 'medic-e2e-')), 'runbook.json');
  const noOllama = await refusingPort();
  try {
    const stack = await startStack({
      env: {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        MEDIC_PORT: '0',
        MEDIC_TASK_QUEUE: uniqueTaskQueue('e2e'),
        MEDIC_RUNBOOK_PATH: runbookPath,
        MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
        MEDIC_RESTART_STOP_TIMEOUT: '5s',
        MEDIC_WATCHER: 'off',
        GEMINI_API_KEY: '',
        OLLAMA_HOST: noOllama.url,
        ...options.env,
      },
      engine: options.engine,
      demo: { ...options.demo, port: await portForAnotherProcess() },
      workflowBundlePath: inject('workflowBundlePath'),
      logger: captureLogger().logger,
      log: () => undefined,
    });
    return {
      ...stack,
      runbookPath,
      stop: async () => {
        await stack.stop();
        await noOllama.release();
      },
    };
  } catch (err) {
    await noOllama.release();
    throw err;
  }
}

/** Another demo app in a container on the host network, answering as itself; removed by stop(). */
export async function startDemoContainer(
  docker: Docker,
  options: { name: string; env: Record<string, string>; labels: Record<string, string> },
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await portForAnotherProcess();
  await runDemoContainer(docker, { ...options, image: inject('demoImage')!, port });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForDemoApp(url, options.name);
  } catch (err) {
    await removeContainer(docker, options.name);
    throw err;
  }
  return { url, stop: () => removeContainer(docker, options.name) };
}

/** Where the demo app of an e2e test sends its alerts: nowhere (and without a secret it does not try). */
export const NO_WEBHOOK = { MEDIC_WEBHOOK_URL: 'http://127.0.0.1:9/nowhere', MEDIC_WEBHOOK_SECRET: '' };

/**
 * The whole stack with its engine watcher on and no sweep, watching only containers that carry this
 * run's own label (other runs share the engine), started once the watcher follows the event stream.
 */
export async function startWatchingStack(options: {
  engine: Engine;
  label: { key: string; value: string };
  demo: Omit<NonNullable<StackOptions['demo']>, 'port'> & { name: string };
  env?: Record<string, string>;
}): Promise<E2eStack> {
  const stack = await startE2eStack({
    engine: options.engine,
    env: {
      MEDIC_MANAGED_LABEL: `${options.label.key}=${options.label.value}`,
      MEDIC_WATCHER: 'on',
      MEDIC_SWEEP_INTERVAL: '0',
      ...options.env,
    },
    demo: options.demo,
  });
  await watcherHeartbeated(stack, watchIds(stack.config.temporal.taskQueue).watcherId);
  return stack;
}

/** The watcher is following the stream once its activity has heartbeated. */
export async function watcherHeartbeated(stack: Stack, workflowId: string): Promise<void> {
  await waitFor(
    `${workflowId} to follow the event stream`,
    async () => {
      const { raw } = await stack.client.workflow.getHandle(workflowId).describe();
      return (raw.pendingActivities ?? []).some((a) => a.lastHeartbeatTime);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** Reads incidents through the API at `apiUrl()` (read when called: stacks start in hooks), and waits for a status. */
export function incidentReader(apiUrl: () => string) {
  const incident = async (workflowId: string): Promise<IncidentState | undefined> => {
    const res = await fetch(`${apiUrl()}/incidents/${workflowId}`);
    return res.status === 200 ? ((await res.json()) as IncidentState) : undefined;
  };
  const awaitIncident = (workflowId: string, status: IncidentState['status'], timeoutMs = 90_000) =>
    waitFor(
      `${workflowId} to be ${status}`,
      async () => {
        const state = await incident(workflowId);
        return state?.status === status ? state : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  return { incident, awaitIncident };
}
