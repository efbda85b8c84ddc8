// The health sweep runs inside one long-lived workflow per host, not a workflow per sweep: a container the
// engine's own stop left down (no fault event for the watcher to see) is found by the sweep, which opens
// the incident that heals it, and the workflow list holds one sweeper however many sweeps ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { WORKFLOW_TYPES } from '../../src/workflows/workflow-types.js';
import { type FakeGemini, startFakeGemini } from '../support/fake-gemini.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, NO_WEBHOOK, startWatchingStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-sweep-${process.pid}`;
const LABEL = { key: 'medic.managed', value: `s${process.pid}` };

let stack: E2eStack;

describe.skipIf(Boolean(skipReason))('the sweeper', () => {
  beforeAll(async () => {
    stack = await startWatchingStack({
      engine: engine!,
      label: LABEL,
      demo: { name: DEMO, env: NO_WEBHOOK },
      env: { MEDIC_SWEEP_INTERVAL: '1s' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const count = async (query: string) => (await stack.client.workflow.count(query)).count;

  it('finds a container left down, heals it, and stays one workflow over many sweeps', async () => {
    const { taskQueue } = stack.config.temporal;
    const { sweeperId } = watchIds(taskQueue);
    // Killed through the engine: the watcher takes that for an operator's doing, the sweep sees it down.
    await engine!.docker.getContainer(DEMO).kill({ signal: 'SIGKILL' });
    const workflowId = incidentWorkflowId(DEMO, 'crash');
    const resolved = await waitFor(
      `${workflowId} to be RESOLVED`,
      async () => {
        const res = await fetch(`${stack.apiUrl}/incidents/${workflowId}`);
        const state = res.status === 200 ? ((await res.json()) as IncidentState) : undefined;
        return state?.status === 'RESOLVED' ? state : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(resolved.evidence).toMatchObject({ via: 'sweep', check: 'exited' });
    expect((await engine!.docker.getContainer(DEMO).inspect()).State.Running).toBe(true);

    await waitFor('five sweeps in the sweeper', async () => {
      const history = await stack.client.workflow.getHandle(sweeperId).fetchHistory();
      return (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).length >= 5;
    });
    const mine = `TaskQueue = '${taskQueue}'`;
    expect(await count(`${mine} AND WorkflowType = '${WORKFLOW_TYPES.sweeper}'`)).toBe(1);
    expect(await count(`${mine} AND WorkflowType = '${WORKFLOW_TYPES.sweep}'`)).toBe(0);
    expect(
      await count(`${mine} AND ExecutionStatus = 'Running' AND WorkflowType = '${WORKFLOW_TYPES.sweeper}'`),
    ).toBe(1);
  });
});

describe.skipIf(Boolean(skipReason))('a model that proposes nothing for a dead container', () => {
  let noop: E2eStack;
  let gemini: FakeGemini;
  const NOOP_DEMO = `medic-e2e-noop-${process.pid}`;
  const NOOP_LABEL = { key: 'medic.managed', value: `n${process.pid}` };

  beforeAll(async () => {
    gemini = await startFakeGemini();
    // Talked into doing nothing, as a misleading last log line could.
    gemini.answer({
      rootCause: 'the service is fine',
      action: 'NOOP',
      confidence: 0.95,
      justification: 'the last log line says all is well',
    });
    noop = await startWatchingStack({
      engine: engine!,
      label: NOOP_LABEL,
      demo: { name: NOOP_DEMO, env: NO_WEBHOOK },
      env: {
        MEDIC_SWEEP_INTERVAL: '1s',
        MEDIC_PROVIDERS: 'gemini',
        GEMINI_API_KEY: 'test-key',
        MEDIC_GEMINI_BASE_URL: gemini.url,
      },
    });
  });

  afterAll(async () => {
    await noop?.stop();
    await gemini?.close();
  });

  it('asks a person instead of closing RESOLVED, and the sweep raises the fault again once it ends unhealed', {
    timeout: 180_000,
  }, async () => {
    await engine!.docker.getContainer(NOOP_DEMO).kill({ signal: 'SIGKILL' });
    const workflowId = incidentWorkflowId(NOOP_DEMO, 'crash');
    const read = async () => {
      const res = await fetch(`${noop.apiUrl}/incidents/${workflowId}`);
      return res.status === 200 ? ((await res.json()) as IncidentState) : undefined;
    };
    const asked = await waitFor(
      'the NOOP to become a question',
      async () => {
        const state = await read();
        return state?.status === 'AWAITING_APPROVAL' ? state : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(asked.diagnosis).toMatchObject({ source: 'gemini', action: 'NOOP' });
    expect(asked.approval?.reason).toContain('proposes nothing');
    expect(asked.approval?.reason).toContain('the rules propose RESTART');
    expect(asked.timeline.map((t) => t.event)).not.toContain('RESOLVED');

    // Rejected: the container stays as it is, the incident ends unhealed, and the sweep may raise it again.
    const res = await fetch(`${noop.apiUrl}/incidents/${workflowId}/reject`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${noop.approverTokens[0]!.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ comment: 'looking myself' }),
    });
    expect(res.status).toBe(200);
    const again = await waitFor(
      'the sweep to raise the fault again',
      async () => {
        const state = await read();
        return state && state.id !== asked.id ? state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(again.evidence).toMatchObject({ via: 'sweep', check: 'exited' });
    expect((await engine!.docker.getContainer(NOOP_DEMO).inspect()).State.Running).toBe(false);
  });
});
