// Judgment on the real stack, the demo app in a real container reached through a proxy that counts the
// restarts reaching the engine: an incident asked only because of the cooldown decides again when it ends;
// two faults of one container at once get one restart and no question; two that both need a person get one
// question (one Slack message), and one approval resolves both with one restart; a restart Medic did not
// make ends a waiting incident's wait, and it takes no credit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../scripts/backtest.js';
import { createDockerClient } from '../../src/activities/containers.js';
import { RunbookStore } from '../../src/activities/runbook.js';
import type { IncidentState } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { type EngineProxy, startEngineProxy } from '../support/engine-proxy.js';
import { signedSender } from '../support/medic.js';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, incidentReader, startE2eStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const COOLDOWN_S = 20;
let proxy: EngineProxy;
let slack: NotifyReceiver;
let stack: E2eStack;
let DEMO = '';
type GuardAnswer = {
  guard: { restartsLastHour: number };
  budget: { lastHour: number; lastDay: number } | null;
};
let id = '';

const { incident, awaitIncident } = incidentReader(() => stack.apiUrl);
const workflowId = (alertType: string) => `incident:local:${DEMO}:${alertType}`;
const events = (state: IncidentState | undefined) => (state?.timeline ?? []).map((t) => t.event);

async function trigger(fault: string): Promise<void> {
  const res = await fetch(`${stack.demo.url}/trigger/${fault}`, { method: 'POST' });
  expect(res.status).toBe(202);
}

/** The demo answers healthy again (its faults clear with the restart). */
const demoHealthy = () =>
  waitFor(
    'the demo app healthy',
    async () => ((await fetch(`${stack.demo.url}/health`)).status === 200 ? true : undefined),
    {
      timeoutMs: 60_000,
    },
  );

const approvalMessages = () =>
  slack.posts.filter((p) => /approval needed/i.test(JSON.stringify(p.body))).length;

/** The incident's state once a run opened after `sinceMs` has that status (an earlier run may have it too). */
const awaitNew = (alertType: string, status: IncidentState['status'], sinceMs: number, timeoutMs = 120_000) =>
  waitFor(
    `a new ${workflowId(alertType)} to be ${status}`,
    async () => {
      const state = await incident(workflowId(alertType));
      return state && Date.parse(state.openedAt) >= sinceMs && state.status === status ? state : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );

describe.skipIf(Boolean(skipReason))('judgment: one action, at most one question, decided again', () => {
  beforeAll(async () => {
    proxy = await startEngineProxy(engine!.dockerHost);
    slack = await startNotifyReceiver();
    DEMO = `medic-e2e-judge-${process.pid}`;
    stack = await startE2eStack({
      engine: { ...engine!, dockerHost: proxy.dockerHost, docker: createDockerClient(proxy.dockerHost) },
      env: {
        MEDIC_GUARD_COOLDOWN: `${COOLDOWN_S}s`,
        MEDIC_RECURRENCE_WINDOW: '0s',
        MEDIC_GUARD_MAX_RESTARTS_PER_HOUR: '100',
        MEDIC_SLACK_WEBHOOK_URL: `${slack.url}/slack`,
        MEDIC_PROVIDERS: '',
      },
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' } },
    });
    id = (await engine!.docker.getContainer(DEMO).inspect()).Id;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
    await slack?.close();
  });

  it('waits out the cooldown of the last restart, then decides again and heals without a person', {
    timeout: 180_000,
  }, async () => {
    const before = proxy.restartsOf(id);
    await trigger('memory-leak');
    await awaitIncident(workflowId('memory-leak'), 'RESOLVED');
    await demoHealthy();
    await trigger('cpu-spike');
    const waiting = await awaitIncident(workflowId('cpu-spike'), 'AWAITING_APPROVAL');
    expect(waiting.approval?.reason).toContain('cooldown');
    expect(waiting.approval?.limitEndsAt).toBeDefined();
    const healed = await awaitIncident(workflowId('cpu-spike'), 'RESOLVED', 120_000);
    expect(events(healed)).toContain('decided-again');
    expect(healed.approval).toMatchObject({
      required: false,
      reason: expect.stringContaining('decided again'),
    });
    expect(healed.approval?.decidedBy).toBeUndefined();
    expect(healed.decisions?.at(-1)).toMatchObject({ decidedAgain: true, outcome: 'acted' });
    expect(healed.actions).toEqual([expect.objectContaining({ outcome: 'restarted' })]);
    expect(slack.posts.some((p) => /no longer needs anyone/i.test(JSON.stringify(p.body)))).toBe(true);
    expect(proxy.restartsOf(id) - before).toBe(2);
    // Waiting for the limit counts in the decide phase, not the approve phase.
    expect(healed.phases?.decide ?? 0).toBeGreaterThan(healed.phases?.approve ?? 0);
    await demoHealthy();
  });

  it('two faults of one container at once: one restart, both resolved, neither asked, one learned', {
    timeout: 180_000,
  }, async () => {
    // After the last test's restart, the cooldown must be over first.
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_S * 1000));
    const before = proxy.restartsOf(id);
    const asked = approvalMessages();
    const since = Date.now();
    // Both faults at once, and their alerts at once, as the demo app's monitor sends them (its own detectors
    // notice the two at different moments, and the first restart can heal the second before it is noticed).
    await Promise.all([trigger('cpu-spike'), trigger('error-storm')]);
    const send = signedSender(stack.apiUrl, stack.webhookSender.secret, stack.webhookSender.name);
    const alert = (alertType: string) => ({
      incident_id: `${alertType}-${since}`,
      container_name: DEMO,
      alert_type: alertType,
      severity: 'medium',
      status: 'firing',
      timestamp: new Date().toISOString(),
      logs: [`{"level":"error","msg":"${alertType}"}`],
    });
    const answers = await Promise.all([send(alert('cpu-spike')), send(alert('error-storm'))]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const [a, b] = await Promise.all([
      awaitNew('cpu-spike', 'RESOLVED', since),
      awaitNew('error-storm', 'RESOLVED', since),
    ]);
    expect(proxy.restartsOf(id) - before).toBe(1);
    expect(approvalMessages()).toBe(asked);
    for (const state of [a, b]) expect(events(state)).not.toContain('AWAITING_APPROVAL');
    const outcomes = [a, b].map((s) => s.actions.at(-1)?.outcome ?? 'none').sort();
    expect(outcomes.filter((o) => o === 'restarted')).toHaveLength(1);
    // Only the incident that restarted learned a fix; the other was healed by its restart.
    const { fixes } = await new RunbookStore(stack.runbookPath).read();
    const learned = fixes
      .flatMap((f) => f.history)
      .filter((h) => h.incidentId === a.id || h.incidentId === b.id);
    expect(learned).toEqual([expect.objectContaining({ outcome: 'resolved' })]);
    await demoHealthy();
  });

  it('two incidents that need a person: one question, one approval, one restart, both resolved', {
    timeout: 180_000,
  }, async () => {
    const send = signedSender(stack.apiUrl, stack.webhookSender.secret, stack.webhookSender.name);
    const before = proxy.restartsOf(id);
    const asked = approvalMessages();
    const alert = (alertType: string) => ({
      incident_id: `${alertType}-${Date.now()}`,
      container_name: DEMO,
      alert_type: alertType,
      severity: 'critical',
      status: 'firing',
      timestamp: new Date().toISOString(),
      logs: [`{"level":"error","msg":"${alertType}"}`],
    });
    const since = Date.now();
    expect((await send(alert('hang'))).status).toBe(202);
    const owner = await awaitNew('hang', 'AWAITING_APPROVAL', since);
    expect((await send(alert('memory-leak'))).status).toBe(202);
    const joined = await waitFor('the second incident to join the question', async () => {
      const state = await incident(workflowId('memory-leak'));
      return state?.status === 'AWAITING_APPROVAL' && state.approval?.joined ? state : undefined;
    });
    expect(joined.approval?.joined).toBe(owner.workflowId);
    await waitFor('the owner to know of it', async () =>
      (await incident(owner.workflowId))?.approval?.with?.some((w) => w.alertType === 'memory-leak')
        ? true
        : undefined,
    );
    expect(approvalMessages() - asked).toBe(1);

    // Approved on the incident that joined: the decision goes to the owner, which acts once.
    const res = await fetch(`${stack.apiUrl}/incidents/${workflowId('memory-leak')}/approve`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.approverTokens[0]!.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ comment: 'both at once' }),
    });
    expect(res.status).toBe(200);
    const [first, second] = await Promise.all([
      awaitNew('hang', 'RESOLVED', since),
      awaitNew('memory-leak', 'RESOLVED', since),
    ]);
    expect(proxy.restartsOf(id) - before).toBe(1);
    expect(first.approval).toMatchObject({
      decision: 'approved',
      via: workflowId('memory-leak'),
      channel: 'api',
    });
    expect(second.approval).toMatchObject({ decision: 'approved', channel: 'api' });
    expect(first.actions.map((a) => a.outcome)).toEqual(['restarted']);
    expect(second.actions).toEqual([]);
    expect(second.timeline.find((t) => t.event === 'RESOLVED')?.detail).toContain(
      `healed by the restart of ${workflowId('hang')}`,
    );
    await demoHealthy();
  });

  it('a restart Medic did not make ends the wait: the incident verifies, healed, without credit', {
    timeout: 180_000,
  }, async () => {
    const send = signedSender(stack.apiUrl, stack.webhookSender.secret, stack.webhookSender.name);
    const before = proxy.restartsOf(id);
    const since = Date.now();
    const guardBefore = (await (await fetch(`${stack.apiUrl}/guards/${DEMO}`)).json()) as GuardAnswer;
    const runbookBefore = await new RunbookStore(stack.runbookPath).read();
    expect(
      (
        await send({
          incident_id: `restart-by-hand-${Date.now()}`,
          container_name: DEMO,
          alert_type: 'cpu-spike',
          severity: 'critical',
          status: 'firing',
          timestamp: new Date().toISOString(),
          logs: [],
        })
      ).status,
    ).toBe(202);
    await awaitNew('cpu-spike', 'AWAITING_APPROVAL', since);
    // A person restarts it by hand, through the engine: the engine watch is off here, so tell the guard as
    // the watch would (this test is about the incident's side; the watch's side is tested in watcher.test.ts).
    await engine!.docker.getContainer(DEMO).restart({ t: 5 });
    const info = await engine!.docker.getContainer(DEMO).inspect();
    const gateway = new IncidentGateway(stack.client, stack.config.temporal.taskQueue, stack.config.incident);
    await gateway.tellTarget(DEMO, 'local', {
      kind: 'started',
      at: new Date().toISOString(),
      startedAt: info.State.StartedAt,
    });
    const state = await awaitNew('cpu-spike', 'RESOLVED', since);
    expect(state.actions).toEqual([]);
    expect(state.timeline.find((t) => t.event === 'RESOLVED')?.detail).toContain(
      'a restart Medic did not make',
    );
    expect(proxy.restartsOf(id) - before).toBe(0); // the person's went to the engine itself, not through Medic
    const guardAfter = (await (await fetch(`${stack.apiUrl}/guards/${DEMO}`)).json()) as GuardAnswer;
    expect(guardAfter.guard.restartsLastHour).toBe(guardBefore.guard.restartsLastHour);
    // Nothing spent from the budget, nothing learned: the fix was not Medic's.
    expect(guardAfter.budget).toEqual(guardBefore.budget);
    expect(await new RunbookStore(stack.runbookPath).read()).toEqual(runbookBefore);
  });

  it('the backtest reproduces every decision taken here, those taken again included', {
    timeout: 60_000,
  }, async () => {
    const result = await waitFor('every incident of this run to have ended', async () => {
      const read = await runBacktest({
        env: {
          TEMPORAL_ADDRESS: stack.config.temporal.address,
          MEDIC_TASK_QUEUE: stack.config.temporal.taskQueue,
          MEDIC_GUARD_COOLDOWN: `${COOLDOWN_S}s`,
          MEDIC_GUARD_MAX_RESTARTS_PER_HOUR: '100',
        },
        since: '1h',
        target: DEMO,
      });
      return read.incidents >= 7 ? read : undefined;
    });
    expect(result.disagreements).toEqual([]);
    expect(result.agreement).toBe(1);
  });
});
