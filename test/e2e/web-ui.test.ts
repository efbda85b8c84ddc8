// The Temporal Web UI as a person reads an incident there: its own dev server with the UI on a free port
// (the run's server is headless), a worker and a demo process, an incident waiting for approval, and
// Chromium showing its summary and current details. Every request off loopback is aborted. The
// screenshot is kept under test-results/ for people to look at.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { type DevServer, startTemporalDevServer } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import type { ProcessSupervisor } from '../../src/activities/containers.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { chromiumOrSkip, guardedContext, launchChromium } from '../support/browser.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';
import { startWorker, uniqueTaskQueue } from '../support/temporal.js';

const { skipReason } = chromiumOrSkip();
const SCREENSHOT = path.join(PROJECT_ROOT, 'test-results', 'web-ui-incident.png');

describe.skipIf(Boolean(skipReason))('the incident in the Temporal Web UI, in a browser', () => {
  let server: DevServer;
  let client: Client;
  let native: NativeConnection;
  let supervisor: ProcessSupervisor;
  let worker: { stop(): Promise<void> };
  const target = `ui-demo-${process.pid}`;
  const settings = testSettings();
  const taskQueue = uniqueTaskQueue('web-ui');

  beforeAll(async () => {
    const cliPath = await ensureTool(TEMPORAL_CLI, () => undefined);
    server = await startTemporalDevServer({
      cliPath,
      port: await portForAnotherProcess(),
      uiPort: await portForAnotherProcess(),
    });
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
    native = await NativeConnection.connect({ address: server.address });
    supervisor = (await superviseDemoApp({ name: target })).supervisor;
    worker = await startWorker({
      connection: native,
      taskQueue,
      activities: buildActivities(supervisor, undefined, undefined, settings).activities,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await native?.close();
    await client?.connection.close();
    await supervisor?.stopAll();
    await server?.stop();
  });

  it('shows the summary, the current details and the timer and activity summaries of an incident waiting for approval', async () => {
    const gateway = new IncidentGateway(client, taskQueue, settings);
    const { workflowId } = await gateway.openOrJoin(
      alertFor(target, { alertType: 'hang', severity: 'critical' }),
    );
    await waitFor('the incident to ask a person', async () => {
      const state = await client.workflow.getHandle(workflowId).query(statusQuery);
      return state.status === 'AWAITING_APPROVAL' ? state : undefined;
    });

    const browser = await launchChromium();
    try {
      const { context, blocked } = await guardedContext(browser, { viewport: { width: 1440, height: 1100 } });
      const page = await context.newPage();
      const list = `${server.uiUrl}/namespaces/default/workflows`;
      await page.goto(`${list}/${encodeURIComponent(workflowId)}`);
      try {
        // The timeline names each activity and timer by its summary.
        await page.getByText('wait for approval: on-call, 15 min').first().waitFor({ timeout: 30_000 });
        // UI 2.x shows the summary and the details under its User Metadata tab.
        await page.getByText('User Metadata', { exact: true }).first().click();
        // The UI renders the Markdown in sandboxed frames: read every frame's text.
        const shown = async () =>
          (
            await Promise.all(
              page.frames().map((f) =>
                f
                  .locator('body')
                  .textContent()
                  .then(
                    (t) => t ?? '',
                    () => '',
                  ),
              ),
            )
          ).join('\n');
        const text = await waitFor('the summary and the current details', async () => {
          const all = await shown();
          return all.includes(`${target} · hang`) && all.includes('AWAITING_APPROVAL') ? all : undefined;
        });
        expect(text).toContain(`temporal workflow signal --workflow-id '${workflowId}' --name approve`);
        expect(text).toContain('Diagnosis (rules');
      } finally {
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
      expect(blocked.every((url) => !/^https?:\/\/(127\.0\.0\.1|localhost)/.test(url))).toBe(true);
    } finally {
      await browser.close();
      await client.workflow.getHandle(workflowId).terminate('web UI test done');
    }
  });
});
