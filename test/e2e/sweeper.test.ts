// The health sweep runs inside one long-lived workflow per host, not a workflow per sweep: a container the
// engine's own stop left down (no fault event for the watcher to see) is found by the sweep, which opens
// the incident that heals it, and the workflow list holds one sweeper however many sweeps ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { watchIds } from '../../src/temporal/engine-watch.js';
import { WORKFLOW_TYPES } from '../../src/workflows/workflow-types.js';
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
