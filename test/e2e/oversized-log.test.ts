// End to end: a container that prints one 1 MB log line and dies is healed, and the
// watcher is not blinded by it: a second container that crashes afterwards is healed too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { waitFor } from '../support/ports.js';
import {
  type E2eStack,
  engineOrSkip,
  NO_WEBHOOK,
  startDemoContainer,
  startWatchingStack,
} from './support.js';

const { engine, skipReason } = engineOrSkip();
const BIG = `medic-e2e-bigline-${process.pid}`;
const NEXT = `medic-e2e-afterbig-${process.pid}`;
// A label of this run's own: other runs share the engine, and this watcher must never see their containers.
const LABEL = { key: 'medic.managed', value: `b${process.pid}` };
const ONE_MB = 1024 * 1024;

let stack: E2eStack;
const cleanups: Array<() => Promise<unknown>> = [];

describe.skipIf(Boolean(skipReason))('one oversized event never blinds the watcher', () => {
  beforeAll(async () => {
    stack = await startWatchingStack({
      engine: engine!,
      label: LABEL,
      demo: { name: BIG, env: NO_WEBHOOK },
    });
  });

  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    await stack?.stop();
  });

  const docker = () => engine!.docker;

  const awaitResolved = (workflowId: string) =>
    waitFor(
      `${workflowId} to be RESOLVED`,
      async () => {
        let s: IncidentState | undefined;
        try {
          s = await stack.client.workflow.getHandle(workflowId).query(statusQuery);
        } catch {
          return undefined;
        }
        if (s.status === 'FAILED' || s.status === 'ESCALATED')
          throw new Error(`${workflowId} ended ${s.status}: ${JSON.stringify(s.timeline.slice(-3))}`);
        return s.status === 'RESOLVED' ? s : undefined;
      },
      { timeoutMs: 75_000, intervalMs: 500 },
    );

  async function crash(url: string, query = ''): Promise<void> {
    const res = await fetch(`${url}/trigger/crash${query}`, { method: 'POST' });
    expect(res.status).toBe(202);
  }

  it('a managed container that prints one 1 MB log line and dies is healed; a second that crashes afterwards is healed too', {
    timeout: 200_000,
  }, async () => {
    const before = (await docker().getContainer(BIG).inspect()).State.StartedAt;
    await crash(stack.demo.url, `?logBytes=${ONE_MB}`);
    const big = await awaitResolved(incidentWorkflowId(BIG, 'crash'));
    expect(big.evidence).toMatchObject({ via: 'event', check: 'die', exitCode: 1 });
    const after = await docker().getContainer(BIG).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);

    const next = await startDemoContainer(docker(), {
      name: NEXT,
      env: NO_WEBHOOK,
      labels: { [LABEL.key]: LABEL.value },
    });
    cleanups.push(() => next.stop());
    const nextUrl = next.url;
    await crash(nextUrl);
    const healed = await awaitResolved(incidentWorkflowId(NEXT, 'crash'));
    expect(healed.evidence).toMatchObject({ via: 'event', check: 'die', exitCode: 1 });
    expect((await docker().getContainer(NEXT).inspect()).State.Running).toBe(true);
    expect((await fetch(`${nextUrl}/health`)).status).toBe(200);
  });
});
