// End-to-end tests need a container engine. Without one they skip with a message, but only when
// CI is unset: in CI a missing engine is a failure, never a silent skip.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { Engine } from '../../scripts/engine.js';
import { type Stack, type StackOptions, startStack } from '../../scripts/local-stack.js';
import { createDockerClient } from '../../src/activities/containers.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { captureLogger } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
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

/** Where the demo app of an e2e test sends its alerts: nowhere (and without a secret it does not try). */
export const NO_WEBHOOK = { MEDIC_WEBHOOK_URL: 'http://127.0.0.1:9/nowhere', MEDIC_WEBHOOK_SECRET: '' };

/**
 * The whole stack with its engine watcher on and no sweep, watching only containers that carry this
 * run's own label (other runs share the engine), started once the watcher follows the event stream.
 */
export async function startWatchingStack(options: {
  engine: Engine;
  label: { key: string; value: string };
  taskQueuePrefix: string;
  demo: NonNullable<StackOptions['demo']>;
  env?: Record<string, string>;
}): Promise<Stack> {
  const runbookPath = path.join(mkdtempSync(path.join(tmpdir(), 'medic-watch-')), 'runbook.json');
  const stack = await startStack({
    env: {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MEDIC_PORT: '0',
      MEDIC_TASK_QUEUE: uniqueTaskQueue(options.taskQueuePrefix),
      MEDIC_RUNBOOK_PATH: runbookPath,
      MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
      MEDIC_RESTART_STOP_TIMEOUT: '5s',
      MEDIC_MANAGED_LABEL: `${options.label.key}=${options.label.value}`,
      MEDIC_WATCHER: 'on',
      MEDIC_SWEEP_INTERVAL: '0',
      ...options.env,
    },
    engine: options.engine,
    demo: options.demo,
    workflowBundlePath: inject('workflowBundlePath'),
    logger: captureLogger().logger,
    log: () => undefined,
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
