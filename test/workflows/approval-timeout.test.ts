// Long timers on the time-skipping server: a 15-minute approval wait passes in moments.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import { IncidentGateway } from '../../src/api/incident-gateway.js';
import type { Alert, IncidentState } from '../../src/domain/types.js';
import { buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { connectTimeSkipping, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const TARGET = 'ts-demo';
let env: TestWorkflowEnvironment;
let supervisor: ProcessSupervisor;

beforeAll(async () => {
  env = await connectTimeSkipping();
  ({ supervisor } = await superviseDemoApp({ name: TARGET }));
});

afterAll(async () => {
  await supervisor?.stopAll();
  await env?.teardown();
});

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  source: 'webhook',
  target: TARGET,
  alertType: 'db-latency',
  severity: 'high',
  status: 'firing',
  logs: ['{"level":"error","msg":"slow query","ms":2500}'],
  firedAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  ...overrides,
});

describe('approval timeout (time-skipping server)', () => {
  it('escalates a high-severity incident nobody approves, without touching the container', async () => {
    const taskQueue = uniqueTaskQueue('approval-timeout');
    const { activities, notifications } = buildActivities(supervisor);
    const worker = await startWorker({ connection: env.nativeConnection, taskQueue, activities });
    try {
      const before = await supervisor.inspect(TARGET);
      const gateway = new IncidentGateway(
        env.client,
        taskQueue,
        testSettings({ approvalTimeoutMs: 15 * 60 * 1000, searchAttributes: false }),
      );
      const { workflowId } = await gateway.openOrJoin(alert());
      const result: IncidentState = await env.client.workflow.getHandle(workflowId).result();

      expect(result.status).toBe('ESCALATED');
      expect(result.approval).toMatchObject({ required: true });
      expect(result.approval?.decision).toBeUndefined();
      expect(result.timeline.map((t) => t.event)).toEqual(
        expect.arrayContaining(['AWAITING_APPROVAL', 'ESCALATED']),
      );
      expect(result.timeline.at(-1)?.detail).toContain('no approval decision within 900 s');
      // Fifteen minutes passed on the workflow's clock.
      expect(Date.parse(result.closedAt!) - Date.parse(result.openedAt)).toBeGreaterThanOrEqual(
        15 * 60 * 1000,
      );
      expect(result.actions).toEqual([]);
      const after = await supervisor.inspect(TARGET);
      expect(after?.startedAt).toBe(before?.startedAt);
      expect(notifications().map((n) => n.level)).toEqual(['warning', 'critical']);
    } finally {
      await worker.stop();
    }
  });
});
