// The whole loop with the demo app in a real container: fault -> signed webhook -> workflow ->
// restart through the Engine API -> healthy -> runbook entry. And a high-severity fault that waits.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { findTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { signedSender } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, incidentReader, startE2eStack } from './support.js';

const run = promisify(execFile);
const { engine, skipReason } = engineOrSkip();
let stack: E2eStack;
/** This test's demo container: unique per test and run, so no test sees another's incidents. */
let DEMO = '';
let tests = 0;

describe.skipIf(Boolean(skipReason))('end to end with the demo app in a container', () => {
  // Each test gets its own stack, demo container, task queue and runbook: any one of them runs alone (-t).
  beforeEach(async () => {
    DEMO = `medic-e2e-${process.pid}-${++tests}`;
    stack = await startE2eStack({
      engine: engine!,
      // A resolved incident closes at once instead of watching for its alert to come back.
      env: { MEDIC_RECURRENCE_WINDOW: '0s' },
      // These are the restart's tests: the demo declares no remedies here (remedy-plans.test.ts has them).
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' }, declaresRemedies: false },
    });
  });

  afterEach(async () => {
    await stack?.stop();
  });

  const container = () => engine!.docker.getContainer(DEMO);
  const startedAt = async () => (await container().inspect()).State.StartedAt;
  const approverToken = () => stack.approverTokens[0]!.token;

  const { incident, awaitIncident } = incidentReader(() => stack.apiUrl);

  const trigger = async (fault: string) => {
    const res = await fetch(`${stack.demo.url}/trigger/${fault}`, { method: 'POST' });
    expect(res.status).toBe(202);
  };

  it('heals a memory leak with no other action: one restart, healthy again, learned', {
    timeout: 150_000,
  }, async () => {
    const before = await startedAt();
    // Count engine events only after the container's current start, which itself emits `start`.
    const since = Math.floor(Date.parse(before) / 1000);
    await trigger('memory-leak');

    const workflowId = `incident:local:${DEMO}:memory-leak`;
    const state = await awaitIncident(workflowId, 'RESOLVED');
    expect(state.diagnosis).toMatchObject({ source: 'rules', action: 'RESTART' });
    expect(state.approval).toMatchObject({ required: false });
    expect(state.actions).toEqual([
      expect.objectContaining({ outcome: 'restarted', previousStartedAt: before }),
    ]);
    expect(state.verification?.healthy).toBe(true);

    // Restarted exactly once, by the engine's own account. The engine writes its events a moment after the
    // fact (Podman's event log is a file), and the verification can end sooner: read until the start is there.
    const startsSince = async () => {
      const stream = (await engine!.docker.getEvents({
        since,
        until: Math.ceil(Date.now() / 1000),
        filters: { container: [DEMO], event: ['restart', 'start'] },
      })) as unknown as AsyncIterable<Buffer>;
      let text = '';
      for await (const chunk of stream) text += chunk.toString();
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { Action?: string; status?: string; timeNano?: number; time: number })
        .filter((e) => (e.timeNano ? e.timeNano / 1e6 : e.time * 1000) > Date.parse(before) + 500)
        .filter((e) => (e.Action ?? e.status) === 'start').length;
    };
    await waitFor("the restart in the engine's events", async () => (await startsSince()) > 0, {
      timeoutMs: 15_000,
      intervalMs: 500,
    });
    expect(await startsSince()).toBe(1);
    expect(await startedAt()).not.toBe(before);

    const health = await fetch(`${stack.demo.url}/health`);
    expect(health.status).toBe(200);

    const runbook = JSON.parse(readFileSync(stack.runbookPath, 'utf8'));
    const fix = runbook.fixes.find(
      (f: { match: { alertType: string } }) => f.match.alertType === 'memory-leak',
    );
    expect(fix.history).toEqual([
      expect.objectContaining({ incidentId: state.id, workflowId, outcome: 'resolved' }),
    ]);
    expect(state.runbookEntryId).toBe(fix.id);

    // It is in Temporal's visibility (the Web UI's list), with its search attributes.
    const listed = await waitFor('the incident in visibility', async () => {
      const res = await fetch(`${stack.apiUrl}/incidents?status=RESOLVED&target=${DEMO}`);
      const { incidents } = (await res.json()) as {
        incidents: Array<{ workflowId: string; status: string }>;
      };
      return incidents.find((i) => i.workflowId === workflowId);
    });
    expect(listed.status).toBe('RESOLVED');
  });

  it('heals a high-severity fault within limits without asking, and tells people it did', {
    timeout: 150_000,
  }, async () => {
    const before = await startedAt();
    await trigger('db-latency');
    const state = await awaitIncident(`incident:local:${DEMO}:db-latency`, 'RESOLVED');
    expect(state.severity).toBe('high');
    expect(state.approval).toMatchObject({ required: false });
    expect(state.approval?.reason).toContain('with a notification');
    expect(state.timeline.some((t) => t.event === 'notified' && t.detail.startsWith('info'))).toBe(true);
    expect(state.guard).toMatchObject({ decision: 'granted' });
    expect(await startedAt()).not.toBe(before);
  });

  it('holds a critical fault until approved with `temporal workflow signal`, then heals', {
    timeout: 150_000,
  }, async () => {
    const before = await startedAt();
    await trigger('hang');
    const workflowId = `incident:local:${DEMO}:hang`;
    const waiting = await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    expect(waiting.severity).toBe('critical');
    expect(await startedAt()).toBe(before);

    const cli = findTool(TEMPORAL_CLI);
    expect(cli).toBeDefined();
    await run(cli!, [
      'workflow',
      'signal',
      '--address',
      inject('temporalAddress'),
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      '{"by":"alice"}',
    ]);
    const state = await awaitIncident(workflowId, 'RESOLVED');
    expect(state.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'alice',
      channel: 'temporal-signal',
    });
    expect(await startedAt()).not.toBe(before);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);
  });

  it('approves through the API with an approver token: 200 once decided, 409 for a second decision, the same answer for a retry', {
    timeout: 150_000,
  }, async () => {
    await trigger('hang');
    const workflowId = `incident:local:${DEMO}:hang`;
    await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    const approve = (key: string) =>
      fetch(`${stack.apiUrl}/incidents/${workflowId}/approve`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${approverToken()}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ comment: 'restart it' }),
      });
    const res = await approve('first-click');
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer).toEqual({ workflowId, decision: 'approve', by: 'operator', status: 'REMEDIATING' });

    const again = await approve('second-click');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      error: { code: 'not_awaiting_approval', details: { status: expect.any(String) } },
    });
    const retried = await approve('first-click');
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual(answer);

    const state = await awaitIncident(workflowId, 'RESOLVED');
    expect(state.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'operator',
      comment: 'restart it',
      channel: 'api',
      updateId: 'api:first-click',
    });
    // After the incident has closed, a retry of the first click still gets its answer.
    const late = await approve('first-click');
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual(answer);
  });

  it('ends REJECTED without touching the container when rejected through the API', {
    timeout: 150_000,
  }, async () => {
    await trigger('hang');
    const workflowId = `incident:local:${DEMO}:hang`;
    const waiting = await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    const before = await startedAt();
    const res = await fetch(`${stack.apiUrl}/incidents/${workflowId}/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken()}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ workflowId, decision: 'reject', by: 'operator', status: 'REJECTED' });
    const state = await waitFor('REJECTED', async () => {
      const s = await incident(workflowId);
      return s?.status === 'REJECTED' && s.id === waiting.id ? s : undefined;
    });
    expect(state.actions).toEqual([]);
    expect(await startedAt()).toBe(before);
  });

  it('runs an incident dry when its alert asks: everything runs, the container is not touched', {
    timeout: 150_000,
  }, async () => {
    const before = await startedAt();
    const res = await signedSender(
      stack.apiUrl,
      stack.webhookSender.secret,
      stack.webhookSender.name,
    )({
      container_name: DEMO,
      alert_type: 'error-storm',
      severity: 'medium',
      logs: ['{"level":"error","msg":"request failed: 500"}'],
      timestamp: new Date().toISOString(),
      dry_run: true,
    });
    expect(res.status).toBe(202);
    const state = await awaitIncident(`incident:local:${DEMO}:error-storm`, 'ESCALATED');
    expect(state.dryRun).toBe(true);
    expect(state.diagnosis?.action).toBe('RESTART');
    expect(state.actions).toEqual([expect.objectContaining({ outcome: 'would-restart' })]);
    expect(await startedAt()).toBe(before);
  });
});
