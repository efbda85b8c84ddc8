// Diagnosis inside the incident workflow, on the real dev server, with the demo app as a supervised
// process and Gemini as a local server speaking its wire format: source and trail in the `status`
// query, GET /incidents/:id and the report; the runbook answering once its fix resolved twice; low confidence
// and a known-failed fix asking a person.
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import type { DiagnosisSettings } from '../../src/activities/diagnose/settings.js';
import { createApp } from '../../src/api/app.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import type { IncidentState } from '../../src/domain/types.js';
import type { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { type FakeGemini, startFakeGemini } from '../support/fake-gemini.js';
import {
  alertFor,
  buildActivities,
  captureLogger,
  superviseDemoApp,
  testSettings,
} from '../support/medic.js';
import { type ReservedPort, refusingPort, waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();
let gemini: FakeGemini;
/** Nothing listens there: the trail must say so if Gemini ever fails. */
let noOllama: ReservedPort;
beforeAll(async () => {
  gemini = await startFakeGemini();
  noOllama = await refusingPort();
});
afterAll(async () => {
  await gemini?.close();
  await noOllama?.release();
});

const GOOD = {
  rootCause: 'the session cache leaks',
  action: 'RESTART',
  confidence: 0.85,
  justification: 'rss grows steadily and the logs say so',
};

function diagnosisSettings(): DiagnosisSettings {
  return {
    gemini: { apiKey: 'test-key', model: 'gemini-test', baseUrl: gemini.url, timeoutMs: 3000 },
    ollama: { host: noOllama.url, model: 'none', timeoutMs: 1000 },
    promptLogChars: 2000,
    runbookTrust: { minSuccessRate: 0.8, minUses: 2 },
  };
}

async function withStack(
  options: { target: string; demoEnv?: Record<string, string>; settings?: Partial<IncidentSettings> },
  body: (ctx: {
    gateway: IncidentGateway;
    supervisor: ProcessSupervisor;
    api: string;
    demoUrl: string;
    handleFor: (id: string, runId?: string) => WorkflowHandle<typeof incidentWorkflow>;
    activities: ReturnType<typeof buildActivities>;
  }) => Promise<void>,
) {
  const { supervisor, url } = await superviseDemoApp({ name: options.target, env: options.demoEnv });
  const settings = testSettings(options.settings);
  const activities = buildActivities(supervisor, undefined, diagnosisSettings(), settings);
  const taskQueue = uniqueTaskQueue(options.target);
  await withIncidentWorker(
    temporal,
    { taskQueue, activities: activities.activities, settings, supervisor },
    async (gateway) => {
      const app = createApp({
        client: temporal.client,
        config: {
          temporal: { address: 'unused', namespace: 'default', taskQueue },
          webhookSecret: 'workflow-test-secret-0123456789',
          approverTokens: [],
          incident: settings,
        },
        logger: captureLogger().logger,
      });
      const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      try {
        await body({
          gateway,
          supervisor,
          api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          demoUrl: url,
          handleFor: (id, runId) => temporal.client.workflow.getHandle<typeof incidentWorkflow>(id, runId),
          activities,
        });
      } finally {
        server.close();
        server.closeAllConnections();
      }
    },
  );
}

const awaitStatus = (handle: WorkflowHandle, status: IncidentState['status'], notId?: string) =>
  waitFor(
    `incident to reach ${status}`,
    async () => {
      const state = await handle.query(statusQuery);
      return state.status === status && state.id !== notId ? state : undefined;
    },
    { timeoutMs: 60_000 },
  );

describe('diagnosis in the incident workflow', () => {
  it('shows the source and trail in the status query, GET /incidents/:id and the report; the runbook answers once its fix resolved twice', async () => {
    const target = `wf-diag-${Date.now()}`;
    gemini.answer(GOOD);
    const before = gemini.requests.length;
    await withStack({ target }, async (ctx) => {
      const { workflowId } = await ctx.gateway.openOrJoin(alertFor(target));
      const handle = ctx.handleFor(workflowId);
      const first = await handle.result();
      expect(first.status).toBe('RESOLVED');
      expect(first.diagnosis).toMatchObject({
        source: 'gemini',
        confidence: 0.85,
        rootCause: GOOD.rootCause,
      });
      expect(first.diagnosis?.trail.map((t) => `${t.provider}:${t.outcome}`)).toEqual([
        'runbook:skipped',
        'gemini:answered',
      ]);
      expect(gemini.requests.length - before).toBe(1);

      const queried = await handle.query(statusQuery);
      expect(queried.diagnosis?.trail).toEqual(first.diagnosis?.trail);
      const viaApi = (await (await fetch(`${ctx.api}/incidents/${workflowId}`)).json()) as IncidentState;
      expect(viaApi.diagnosis).toEqual(first.diagnosis);
      expect(viaApi.timeline.find((t) => t.event === 'diagnosis-trail')?.detail).toContain(
        'gemini: answered',
      );

      const report = await fetch(`${ctx.api}/incidents/${workflowId}/report`);
      expect(report.headers.get('content-type')).toContain('text/markdown');
      const text = await report.text();
      expect(text).toContain('Source: **gemini**');
      expect(text).toMatch(/1\. runbook: skipped, no fix for signature/);
      expect(text).toMatch(/2\. gemini: answered, RESTART at confidence 0\.85 \(\d+ ms\)/);
      expect(text).toContain('Learned into runbook fix');
      const asJson = await fetch(`${ctx.api}/incidents/${workflowId}/report?format=json`);
      expect(((await asJson.json()) as IncidentState).diagnosis?.source).toBe('gemini');
      expect((await fetch(`${ctx.api}/incidents/${workflowId}/report?format=pdf`)).status).toBe(400);

      const description = await handle.describe();
      expect(description.memo?.diagnosis).toMatchObject({ source: 'gemini' });

      // The same fault again: one success is not enough, Gemini is asked again, and the timeline says why.
      // Each run is awaited to its end: an alert sent while the last one still finishes would join it.
      const resultOf = async () =>
        ctx.handleFor(workflowId, (await ctx.gateway.openOrJoin(alertFor(target))).runId).result();
      const second = await resultOf();
      expect(second.status).toBe('RESOLVED');
      expect(second.diagnosis?.source).toBe('gemini');
      expect(second.diagnosis?.knownFix).toMatchObject({ trusted: false, lastIncidentId: first.id });
      expect(second.timeline.find((t) => t.event === 'runbook-standing')?.detail).toContain(
        'not enough uses yet: 1 of 1 use resolved (100%), at least 80% over 2 uses required',
      );
      expect(gemini.requests.length - before).toBe(2);

      // And once more: two successes, the runbook answers, and Gemini is not asked.
      const third = await resultOf();
      expect(third.status).toBe('RESOLVED');
      expect(third.diagnosis).toMatchObject({ source: 'runbook', action: 'RESTART' });
      expect(third.diagnosis?.trail.map((t) => t.provider)).toEqual(['runbook']);
      expect(third.diagnosis?.justification).toContain('2 of 2 uses resolved (100%)');
      expect(gemini.requests.length - before).toBe(2);
      const { fixes } = await ctx.activities.runbook.read();
      expect(fixes[0]?.stats.resolved).toBe(3);
    });
  });

  it('asks for approval when the diagnosis is not confident enough, whatever the severity', async () => {
    const target = `wf-lowconf-${Date.now()}`;
    gemini.answer({ ...GOOD, confidence: 0.2 });
    await withStack({ target }, async (ctx) => {
      const { workflowId } = await ctx.gateway.openOrJoin(alertFor(target, { severity: 'medium' }));
      const handle = ctx.handleFor(workflowId);
      const waiting = await awaitStatus(handle, 'AWAITING_APPROVAL');
      expect(waiting.approval?.reason).toContain('confidence 0.2 is below the approval threshold 0.5');
      expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(0);
      await handle.signal(rejectSignal, { by: 'test' });
      expect((await handle.result()).status).toBe('REJECTED');
    });
  });

  it('bad-config: the restart fails verification; the next identical incident asks a person and says why', async () => {
    const target = `wf-badcfg-${Date.now()}`;
    // The model is down: the rules diagnose, as on a machine without keys.
    gemini.fail(503, 'overloaded');
    await withStack(
      {
        target,
        // The self-monitor logs symptoms (it has no webhook secret, so it sends nothing itself).
        demoEnv: {
          MONITOR_INTERVAL_MS: '200',
          DEMO_SETTINGS_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'wf-badcfg-')), 'settings.json'),
        },
        settings: { healthRetry: { initialIntervalMs: 200, backoffCoefficient: 1.5, maximumAttempts: 3 } },
      },
      async (ctx) => {
        expect((await fetch(`${ctx.demoUrl}/trigger/bad-config`, { method: 'POST' })).status).toBe(202);
        const logs = await waitFor('the app to log its bad configuration', async () => {
          const lines = await ctx.supervisor.logs(target, 50);
          return lines.some((l) => l.includes('invalid configuration')) ? lines : undefined;
        });
        const alert = alertFor(target, { alertType: 'bad-config', logs: logs.slice(-20) });
        const { workflowId } = await ctx.gateway.openOrJoin(alert);
        const handle = ctx.handleFor(workflowId);
        const first = await handle.result();
        expect(first.status).toBe('FAILED');
        expect(first.diagnosis).toMatchObject({ source: 'rules', action: 'RESTART' });
        expect(first.diagnosis?.trail.map((t) => `${t.provider}:${t.outcome}`)).toEqual([
          'runbook:skipped',
          'gemini:failed',
          'ollama:failed',
          'rules:answered',
        ]);
        expect(first.actions[0]?.outcome).toBe('restarted');
        expect(first.verification?.detail).toContain('invalid configuration');
        expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(1);

        // The restarted process is just as broken; the same alert comes again.
        const again = await ctx.gateway.openOrJoin({ ...alert, receivedAt: new Date().toISOString() });
        expect(again.workflowId).toBe(workflowId);
        const second = await awaitStatus(handle, 'AWAITING_APPROVAL', first.id);
        expect(second.diagnosis?.knownFix).toMatchObject({ lastOutcome: 'failed', lastIncidentId: first.id });
        expect(second.approval?.reason).toContain('not restarting automatically');
        expect(second.approval?.reason).toContain(`failed for this error signature in incident ${first.id}`);
        expect((await ctx.supervisor.inspect(target))?.restartCount).toBe(1);

        await handle.signal(rejectSignal, { by: 'test', comment: 'fix the settings file first' });
        expect((await handle.result()).status).toBe('REJECTED');
        const { fixes } = await ctx.activities.runbook.read();
        expect(fixes[0]?.stats).toMatchObject({ failed: 1, rejected: 1, resolved: 0 });
      },
    );
  });
});
