// The worker and the engine under chaos, on the real stack: a real Temporal dev server, a real
// engine, the demo app in real containers, and the host worker as its own process reaching the engine
// through a proxy (test/support/engine-proxy.ts) that counts the restarts reaching the engine, holds a
// restart's answer open, and can be cut like a stopped engine service.
// - kill -9 of the host worker mid-restart: a new worker finishes the incident with one restart, one
//   runbook entry, and the guard and the budget counting one action;
// - SIGTERM mid-restart: the worker lets the restart finish and exits;
// - the engine away: the incident waits (MEDIC_ENGINE_OUTAGE_WAIT), says so, and goes on when it is back,
//   or escalates and says why when it is not. Away from before the allowlist check, or cut by the proxy
//   itself at the evidence's inspect, at the restart before it reaches the engine, or after the engine
//   did it: the step that found it away waits, and one restart reaches the engine all the same.
// Recovery times are printed, never asserted.
import type { ChildProcess } from 'node:child_process';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunbookStore } from '../../src/activities/runbook.js';
import type { MedicConfig } from '../../src/config.js';
import { budgetWorkflowId, guardWorkflowId, incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState, TimelineEntry } from '../../src/domain/types.js';
import type { connectClient } from '../../src/temporal/connection.js';
import { budgetStateQuery, guardStateQuery } from '../../src/workflows/messages.js';
import { type CutPoint, containerPath, type EngineProxy, startEngineProxy } from '../support/engine-proxy.js';
import { captureLogger } from '../support/medic.js';
import { refusingPort, waitFor } from '../support/ports.js';
import { exited, splitMedicEnv, startCentralMedic, startHostWorkerProcess } from './host-worker.js';
import { engineOrSkip, incidentReader, startDemoContainer } from './support.js';

const { engine, skipReason } = engineOrSkip();
const HOST = 'chaos';
const SECRET = 'worker-chaos-webhook-secret';
/** The engine outage an incident waits out in this test (MEDIC_ENGINE_OUTAGE_WAIT), short to keep it quick. */
const OUTAGE_WAIT_S = 15;
/** How long the engine stays away once the incident says it waits: a few of its backoff's retries. */
const ENGINE_AWAY_MS = 3000;

interface Parts {
  config: MedicConfig;
  env: NodeJS.ProcessEnv;
  client: Awaited<ReturnType<typeof connectClient>>;
  apiUrl: string;
  proxy: EngineProxy;
  stops: Array<() => Promise<void>>;
}
let parts: Parts;
let hostWorker: ChildProcess | undefined;

const { incident, awaitIncident } = incidentReader(() => parts.apiUrl);
const startHostWorker = () =>
  startHostWorkerProcess({ env: parts.env, hostName: HOST, dockerHost: parts.proxy.dockerHost });

/** A demo app of its own per test (its own incident, guard and runbook entry), alerting Medic as host `chaos`. */
async function demo(name: string): Promise<{ url: string; target: string; id: string }> {
  const target = `medic-chaos-${name}-${process.pid}`;
  const app = await startDemoContainer(engine!.docker, {
    name: target,
    env: {
      MEDIC_WEBHOOK_URL: `${parts.apiUrl}/webhooks/alert`,
      MEDIC_WEBHOOK_SECRET: SECRET,
      MEDIC_HOST_NAME: HOST,
      MONITOR_INTERVAL_MS: '1000',
    },
    labels: {},
  });
  parts.stops.push(app.stop);
  // Restarts go to the container's id (compare-and-act on what was inspected), so the proxy's paths name it.
  const { Id: id } = await engine!.docker.getContainer(target).inspect();
  return { url: app.url, target, id };
}

async function trigger(url: string, fault: string): Promise<void> {
  const res = await fetch(`${url}/trigger/${fault}`, { method: 'POST' });
  expect(res.status).toBe(202);
}

const timeline = (state: IncidentState | undefined) => (state?.timeline ?? []).map((t) => t.event);

/**
 * Sets off the memory leak at `url`; the proxy cuts the engine by itself at `point`, a request of the step the
 * incident `workflowId` is in, and restores it ENGINE_AWAY_MS after the incident says it waits. Resolves with
 * the incident once RESOLVED, and how long the engine was away.
 */
async function engineAwayAt(url: string, workflowId: string, point: CutPoint) {
  let cut = false;
  void parts.proxy.cutAt(point).then(() => {
    cut = true;
  });
  try {
    await trigger(url, 'memory-leak');
    await waitFor(`the engine to go away at ${point.method} ${point.path} (${point.when})`, async () => cut, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    const cutAt = Date.now();
    await waitFor(
      `${workflowId} to wait for the engine`,
      async () => (timeline(await incident(workflowId)).includes('engine-unavailable') ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await new Promise((resolve) => setTimeout(resolve, ENGINE_AWAY_MS));
    await parts.proxy.restore();
    const restoredAt = Date.now();
    const state = await awaitIncident(workflowId, 'RESOLVED', 120_000);
    return { state, awayMs: restoredAt - cutAt, resolvedMs: Date.now() - cutAt };
  } finally {
    // Whatever failed, the next test finds the engine there and no cut armed.
    await parts.proxy.restore();
  }
}

/** The one entry of `event`; the test fails on none or several. */
function onlyEntry(state: IncidentState, event: string): TimelineEntry & { index: number } {
  const entries = state.timeline.flatMap((t, index) => (t.event === event ? [{ ...t, index }] : []));
  expect(entries, `${event} entries in the timeline`).toHaveLength(1);
  return entries[0]!;
}

/**
 * The timeline says the incident waited for the engine in `step` and no other, and when it answered again;
 * prints how long it waited (never asserted).
 */
function expectWaitedIn(
  state: IncidentState,
  step: string,
  measured: { awayMs: number; resolvedMs: number },
) {
  const away = onlyEntry(state, 'engine-unavailable');
  const back = onlyEntry(state, 'engine-back');
  const awayText = `${step}: the container engine of host ${HOST} does not answer`;
  const backText = `${step}: the engine answered again after`;
  expect(away.detail.slice(0, awayText.length)).toBe(awayText);
  expect(back.detail.slice(0, backText.length)).toBe(backText);
  expect(back.index).toBeGreaterThan(away.index);
  const waitedMs = Date.parse(back.at) - Date.parse(away.at);
  console.log(
    `[chaos] engine away at "${step}": away ${(measured.awayMs / 1000).toFixed(1)} s; the incident waited ${(waitedMs / 1000).toFixed(1)} s (${back.detail.slice(step.length + 2)}); RESOLVED ${(measured.resolvedMs / 1000).toFixed(1)} s after the cut`,
  );
  return { away, back };
}

/** Actions the budget counted in the last hour; none before the first incident starts it. */
async function budgetSpent(): Promise<number> {
  const budget = parts.client.workflow.getHandle(budgetWorkflowId(parts.config.temporal.taskQueue));
  try {
    return (await budget.query(budgetStateQuery)).lastHour;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 0;
    throw err;
  }
}

/** The guard's view once it holds no lease: the actions it counted for the target. */
async function guardOf(target: string) {
  const guard = parts.client.workflow.getHandle(guardWorkflowId(target, HOST));
  return waitFor(`${guard.workflowId} to hold no lease`, async () => {
    const snapshot = await guard.query(guardStateQuery);
    return snapshot.holder ? undefined : snapshot;
  });
}

/**
 * The engine goes away at the incident's restart request (`when`): the restart step waits, the attempt after
 * the wait ends with `outcome`, one restart reached the engine, and the guard and the budget counted it once.
 */
async function engineAwayAtTheRestart(
  name: string,
  when: CutPoint['when'],
  outcome: 'restarted' | 'already-restarted',
): Promise<void> {
  const { url, target, id } = await demo(name);
  const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
  const spentBefore = await budgetSpent();
  const outage = await engineAwayAt(url, workflowId, {
    method: 'POST',
    path: containerPath(id, 'restart'),
    when,
  });
  const { state } = outage;
  const { back } = expectWaitedIn(state, `restarting ${target}`, outage);
  expect(onlyEntry(state, outcome).index).toBeGreaterThan(back.index);
  expect(state.actions).toEqual([expect.objectContaining({ outcome })]);
  expect(parts.proxy.restartsOf(id)).toBe(1);
  const guard = await guardOf(target);
  expect(guard.recentActions).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
  expect(guard.restartsLastHour).toBe(1);
  expect((await budgetSpent()) - spentBefore).toBe(1);
}

async function runbookEntries(workflowId: string): Promise<string[]> {
  const { fixes } = await new RunbookStore(parts.config.runbookPath).read();
  return fixes.flatMap((f) => f.history.filter((h) => h.workflowId === workflowId).map((h) => h.outcome));
}

describe.skipIf(Boolean(skipReason))('the worker and the engine under chaos', () => {
  beforeAll(async () => {
    const stops: Parts['stops'] = [];
    const { logger } = captureLogger();
    const noOllama = await refusingPort();
    stops.push(() => noOllama.release());
    const proxy = await startEngineProxy(engine!.dockerHost);
    stops.push(() => proxy.close());
    const env = splitMedicEnv('chaos', noOllama.url, {
      MEDIC_WEBHOOK_SECRET: SECRET,
      MEDIC_ENGINE_OUTAGE_WAIT: `${OUTAGE_WAIT_S}s`,
    });
    const { config, client, apiUrl } = await startCentralMedic(env, logger, stops);
    parts = { config, env, client, apiUrl, proxy, stops };
    hostWorker = await startHostWorker();
  }, 240_000);

  afterAll(async () => {
    hostWorker?.kill('SIGKILL');
    for (const stop of (parts?.stops ?? []).reverse()) await stop().catch(() => undefined);
  }, 120_000);

  it('kill -9 of the host worker mid-restart: a new worker finishes with one restart, counted once', {
    timeout: 240_000,
  }, async () => {
    const { url, target } = await demo('kill');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    const spentBefore = await budgetSpent();
    const restartsBefore = parts.proxy.restarts;
    // The engine restarts the container at once; its answer is held, so the worker dies waiting for it.
    parts.proxy.holdRestarts(8000);
    await trigger(url, 'memory-leak');
    await waitFor('the restart to reach the engine', async () =>
      parts.proxy.restarts > restartsBefore ? true : undefined,
    );
    hostWorker?.kill('SIGKILL');
    const killedAt = Date.now();
    await exited(hostWorker!);
    parts.proxy.holdRestarts(0);
    hostWorker = await startHostWorker();
    const workerBackMs = Date.now() - killedAt;
    const state = await awaitIncident(workflowId, 'RESOLVED', 180_000);
    const recoveryMs = Date.now() - killedAt;
    console.log(
      `[chaos] kill -9 mid-restart: new worker polling after ${(workerBackMs / 1000).toFixed(1)} s, incident RESOLVED ${(recoveryMs / 1000).toFixed(1)} s after the kill`,
    );

    expect(parts.proxy.restarts - restartsBefore).toBe(1);
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'already-restarted' })]);
    expect(await runbookEntries(workflowId)).toEqual(['resolved']);
    const guard = await guardOf(target);
    expect(guard.recentActions).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    expect(guard.restartsLastHour).toBe(1);
    expect((await budgetSpent()) - spentBefore).toBe(1);
  });

  it('kill -9 of the host worker while its restart is on its way to the engine: the restart is issued once', {
    timeout: 240_000,
  }, async () => {
    const { url, target, id } = await demo('held');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    const spentBefore = await budgetSpent();
    const requestsBefore = parts.proxy.restartRequests;
    // The restart request is held before the engine sees it, as long as a slow stop, and forwarded after all:
    // the retry on the new worker still sees the old start time when it comes.
    const HELD_MS = 8000;
    parts.proxy.holdRestartForwarding(HELD_MS);
    await trigger(url, 'memory-leak');
    await waitFor('the restart request to reach the proxy', async () =>
      parts.proxy.restartRequests > requestsBefore ? true : undefined,
    );
    const heldAt = Date.now();
    hostWorker?.kill('SIGKILL');
    await exited(hostWorker!);
    parts.proxy.holdRestartForwarding(0);
    hostWorker = await startHostWorker();
    const state = await awaitIncident(workflowId, 'RESOLVED', 180_000);
    // Whatever the retry did, the held request lands too: count once it has.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, heldAt + HELD_MS + 2000 - Date.now())));
    console.log(
      `[chaos] kill -9 while the restart was on its way: RESOLVED ${((Date.now() - heldAt) / 1000).toFixed(1)} s after the kill`,
    );

    expect(parts.proxy.restartsOf(id)).toBe(1);
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'already-restarted' })]);
    const guard = await guardOf(target);
    expect(guard.recentActions).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    expect((await budgetSpent()) - spentBefore).toBe(1);
  });

  it('SIGTERM mid-restart: the worker lets the restart finish and exits', { timeout: 240_000 }, async () => {
    const { url, target } = await demo('drain');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    const restartsBefore = parts.proxy.restarts;
    parts.proxy.holdRestarts(5000);
    await trigger(url, 'memory-leak');
    await waitFor('the restart to reach the engine', async () =>
      parts.proxy.restarts > restartsBefore ? true : undefined,
    );
    const draining = hostWorker!;
    const termAt = Date.now();
    draining.kill('SIGTERM');
    // Liveness, with a generous bound: it exits by itself, and cleanly.
    const code = await waitFor(
      'the host worker to exit after SIGTERM',
      async () => draining.exitCode ?? draining.signalCode ?? undefined,
      { timeoutMs: 120_000 },
    );
    console.log(
      `[chaos] SIGTERM mid-restart: the host worker exited ${code} after ${((Date.now() - termAt) / 1000).toFixed(1)} s`,
    );
    expect(code).toBe(0);
    parts.proxy.holdRestarts(0);
    // The restart was finished by the draining worker; a new one verifies.
    hostWorker = await startHostWorker();
    const state = await awaitIncident(workflowId, 'RESOLVED', 180_000);
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
    expect(parts.proxy.restarts - restartsBefore).toBe(1);
  });

  it('the engine away for a while: the incident waits, says so, and heals once it is back', {
    timeout: 240_000,
  }, async () => {
    const { url, target } = await demo('outage');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    await parts.proxy.cut();
    const cutAt = Date.now();
    await trigger(url, 'memory-leak');
    await waitFor(
      `${workflowId} to wait for the engine`,
      async () => (timeline(await incident(workflowId)).includes('engine-unavailable') ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await parts.proxy.restore();
    const state = await awaitIncident(workflowId, 'RESOLVED', 120_000);
    console.log(`[chaos] engine away ${((Date.now() - cutAt) / 1000).toFixed(1)} s before RESOLVED`);
    expect(timeline(state)).toEqual(expect.arrayContaining(['engine-unavailable', 'engine-back']));
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
  });

  it('the engine away at the evidence: the incident waits in that step and heals once it is back', {
    timeout: 240_000,
  }, async () => {
    const { url, target, id } = await demo('evidence');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    // The allowlist check inspects the target by name, then the evidence does: the engine goes away at the second.
    const outage = await engineAwayAt(url, workflowId, {
      method: 'GET',
      path: containerPath(target, 'json'),
      nth: 2,
      when: 'before-forwarding',
    });
    const { state } = outage;
    const { back } = expectWaitedIn(state, 'gathering evidence', outage);
    expect(onlyEntry(state, 'diagnosed').index).toBeGreaterThan(back.index);
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
    expect(parts.proxy.restartsOf(id)).toBe(1);
  });

  it('the engine away as the restart is sent: it never reached the engine, and the one after the wait does', {
    timeout: 240_000,
  }, async () => {
    // The start time has not changed: the attempt after the wait sends the first restart to reach the engine.
    await engineAwayAtTheRestart('restart-lost', 'before-forwarding', 'restarted');
  });

  it('the engine away while the restart is in flight: it did it, and the attempt after the wait sees so', {
    timeout: 240_000,
  }, async () => {
    // The start time changed under the restart the engine did: compare-and-act does not restart again.
    await engineAwayAtTheRestart('restart-done', 'after-engine-answered', 'already-restarted');
  });

  it('the engine away past MEDIC_ENGINE_OUTAGE_WAIT: the incident escalates and says why', {
    timeout: 240_000,
  }, async () => {
    const { url, target } = await demo('gone');
    const workflowId = incidentWorkflowId(target, 'memory-leak', HOST);
    await parts.proxy.cut();
    try {
      await trigger(url, 'memory-leak');
      const state = await awaitIncident(workflowId, 'ESCALATED', 120_000);
      expect(timeline(state)).toContain('engine-unavailable');
      const closing = state.timeline.at(-1)?.detail ?? '';
      expect(closing).toContain('MEDIC_ENGINE_OUTAGE_WAIT');
      expect(closing).toContain(`host ${HOST}`);
      expect(state.actions).toEqual([]);
    } finally {
      await parts.proxy.restore();
    }
  });
});
