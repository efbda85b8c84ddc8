// The API process (`npm run start:api`) stopped in the middle of an alert storm, against the real dev server.
// No worker: every accepted alert starts or signals a workflow that waits, and its history shows exactly
// what reached Temporal. A sender counts what it was answered 2xx; the histories must hold it.
//   - SIGTERM: the process stops taking connections, sends every coalesced copy it holds and exits 0.
//     Every alert answered 2xx is in a workflow, with its exact count.
//   - kill -9: every incident answered 2xx exists; copies answered 2xx but still held in memory are the
//     only loss, and they are at most those answered within the last coalescing window
//     (docs/concepts/storms.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { Alert } from '../../src/domain/types.js';
import { signedRequest } from '../support/medic.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'api-process-webhook-secret-0123456789';
const WINDOW_MS = 300;
const MAX_WINDOW_MS = 1000;
const temporal = devServerForFile();
/** Every API process started here: a test that fails half-way must not leave one running. */
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface ApiProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
}

async function startApiProcess(taskQueue: string): Promise<ApiProcess> {
  const port = await portForAnotherProcess();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/server.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MEDIC_TASK_QUEUE: taskQueue,
      MEDIC_HOST: '127.0.0.1',
      MEDIC_PORT: String(port),
      MEDIC_WEBHOOK_SECRET: SECRET,
      MEDIC_COALESCE_WINDOW: `${WINDOW_MS}ms`,
      MEDIC_COALESCE_MAX_WINDOW: `${MAX_WINDOW_MS}ms`,
      MEDIC_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the API process', async () => (await fetch(`${base}/healthz`)).ok, {
    timeoutMs: 30_000,
  }).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${output}`);
  });
  return { child, base, output: () => output };
}

interface Answer {
  target: string;
  status: number; // 0: no answer (connection refused or reset)
  coalesced: boolean;
  at: number;
}

/** Three senders per target, posting copies back to back until `stop()`; each remembers what it was answered. */
function storm(base: string, targets: string[]) {
  const answers: Answer[] = [];
  let running = true;
  let sent = 0;
  const senders = [...targets, ...targets, ...targets].map(async (target) => {
    while (running) {
      // The demo app's webhook body; each copy its own id, as a sender retrying nothing would send.
      const request = signedRequest(SECRET, {
        incident_id: `${target}-${++sent}`,
        container_name: target,
        alert_type: 'error-storm',
        severity: 'medium',
        timestamp: new Date().toISOString(),
      });
      try {
        const res = await fetch(`${base}/webhooks/alert`, request);
        const body = (await res.json().catch(() => ({}))) as { coalesced?: boolean };
        answers.push({ target, status: res.status, coalesced: body.coalesced === true, at: Date.now() });
      } catch {
        answers.push({ target, status: 0, coalesced: false, at: Date.now() });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(senders);
    },
  };
}

/** What reached a workflow: the alerts signalled to it, each delivery counted once (as the workflow does). */
async function countInHistory(workflowId: string): Promise<number | undefined> {
  let history: Awaited<ReturnType<ReturnType<typeof temporal.client.workflow.getHandle>['fetchHistory']>>;
  try {
    history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const deliveries = new Map<string, number>();
  let unnamed = 0;
  for (const event of history.events ?? []) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== 'alert') continue;
    const payload = signal.input?.payloads?.[0];
    if (!payload) continue;
    const alert = defaultPayloadConverter.fromPayload<Alert>(payload);
    if (alert.deliveryId) deliveries.set(alert.deliveryId, alert.count ?? 1);
    else unnamed += alert.count ?? 1;
  }
  return unnamed + [...deliveries.values()].reduce((a, b) => a + b, 0);
}

const accepted = (answers: Answer[], target: string) =>
  answers.filter((a) => a.target === target && a.status >= 200 && a.status < 300);

/** An API process on its own task queue under a storm on 4 targets, run for several coalescing windows:
 * batches confirmed, the window grown, copies held. */
async function stormInFullSwing(queuePrefix: string, targetPrefix: string) {
  const api = await startApiProcess(uniqueTaskQueue(queuePrefix));
  const targets = Array.from(
    { length: 4 },
    (_, i) => `${targetPrefix}-${process.pid}-${i}-${Date.now() % 100000}`,
  );
  const load = storm(api.base, targets);
  await waitFor(
    'coalesced copies in flight',
    async () =>
      load.answers.filter((a) => a.coalesced).length >= 50 &&
      Date.now() - (load.answers[0]?.at ?? Date.now()) >= 3 * MAX_WINDOW_MS,
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  return { api, targets, load };
}

describe('the API process under a storm', () => {
  it('SIGTERM: drains what it holds and exits 0; every alert answered 2xx is counted, exactly', async () => {
    const { api, targets, load } = await stormInFullSwing('api-sigterm', 'sigterm');
    const signalled = Date.now();
    api.child.kill('SIGTERM');
    const [code] = (await once(api.child, 'exit')) as [number | null];
    const exitMs = Date.now() - signalled;
    await load.stop();
    expect(code, api.output()).toBe(0);
    console.log(
      `[api SIGTERM] exited ${exitMs} ms after SIGTERM; ${load.answers.length} requests, ` +
        `${load.answers.filter((a) => a.status >= 200 && a.status < 300).length} answered 2xx`,
    );
    for (const target of targets) {
      const answered = accepted(load.answers, target).length;
      expect(answered).toBeGreaterThan(0);
      const counted = await countInHistory(incidentWorkflowId(target, 'error-storm'));
      expect({ target, counted }).toEqual({ target, counted: answered });
    }
  });

  it('kill -9: every incident answered 2xx exists; only copies of the last window can be lost', async () => {
    const { api, targets, load } = await stormInFullSwing('api-kill', 'kill9');
    const killedAt = Date.now();
    api.child.kill('SIGKILL');
    await once(api.child, 'exit');
    await load.stop();
    let lostTotal = 0;
    for (const target of targets) {
      const answered = accepted(load.answers, target);
      const counted = await countInHistory(incidentWorkflowId(target, 'error-storm'));
      expect(counted, `incident of ${target}`).toBeDefined();
      const lost = answered.length - (counted ?? 0);
      // Never more than answered: nothing is invented, and a retried batch is counted once.
      expect(lost).toBeGreaterThanOrEqual(0);
      // The held copies: those answered after the last batch Temporal confirmed, at most one (grown)
      // window before the kill, plus the send in flight.
      const recent = answered.filter((a) => a.coalesced && a.at >= killedAt - 2 * MAX_WINDOW_MS).length;
      expect(
        lost,
        `${target}: lost ${lost} of ${answered.length}, ${recent} answered in the last windows`,
      ).toBeLessThanOrEqual(recent);
      lostTotal += lost;
    }
    console.log(
      `[api kill -9] ${load.answers.length} requests; ${lostTotal} coalesced copies answered but not yet signalled were lost (window ${WINDOW_MS}-${MAX_WINDOW_MS} ms)`,
    );
  });
});
