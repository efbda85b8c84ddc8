// GET /runbook and POST /runbook/:id/disable|enable against the real dev server and a real central worker
// (the runbook's single writer on `<queue>-runbook`): who may read and change, what the file then holds,
// and every refusal: 400, 401, 403, 404, a malformed file, and 503 when the writer or Temporal does not answer.
import { readFileSync, writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCentralActivities } from '../../src/activities/index.js';
import { LogNotifier } from '../../src/activities/notify.js';
import type { RunbookStore } from '../../src/activities/runbook.js';
import { createApp } from '../../src/api/app.js';
import { runbookTaskQueue } from '../../src/domain/naming.js';
import type { RunbookEntry, RunbookListing } from '../../src/domain/runbook.js';
import { createMedicWorker, type MedicWorker } from '../../src/worker.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, tempRunbook, testSettings } from '../support/medic.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'test-webhook-secret-0123456789';
const APPROVER = { name: 'alice', token: 'alice-token-0123456789abcdef' };
const VIEWER = { name: 'dashboard', token: 'dashboard-token-0123456789ab' };
/** Short, so the 503s come quickly; a worker on this machine answers well within it. */
const TIMEOUT_MS = 4000;

const temporal = devServerForFile();
let runbook: RunbookStore;
let worker: MedicWorker;
let running: Promise<void>;
let api: ServedApp;
let fixId: string;

function serve(client: Client, taskQueue: string, timeoutMs = TIMEOUT_MS): Promise<ServedApp> {
  const config = {
    temporal: { address: 'unused', namespace: 'default', taskQueue },
    webhookSecret: SECRET,
    approverTokens: [APPROVER],
    viewerTokens: [VIEWER],
    incident: testSettings(),
    api: { decisionTimeoutMs: timeoutMs },
  };
  return serveApp(createApp({ client, config, logger: captureLogger().logger }));
}

beforeAll(async () => {
  runbook = tempRunbook();
  ({ fixId } = await runbook.recordOutcome({
    incidentId: 'run-1',
    workflowId: 'incident:local:svc:memory-leak',
    target: 'svc',
    alertType: 'memory-leak',
    errorSignature: 'memory usage above threshold',
    action: 'RESTART',
    rootCause: 'a leak',
    outcome: 'resolved',
    at: '2026-11-25T10:00:00.000Z',
  }));
  const taskQueue = uniqueTaskQueue('runbook-api');
  const { logger } = captureLogger();
  worker = await createMedicWorker({
    connection: temporal.nativeConnection,
    namespace: 'default',
    taskQueue,
    role: 'central',
    activities: createCentralActivities({
      incidentSettings: testSettings(),
      runbook,
      notifier: new LogNotifier(logger),
      logger,
    }),
    workflowBundlePath: inject('workflowBundlePath'),
  });
  running = worker.run();
  api = await serve(temporal.client, taskQueue);
});

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running;
});

const get = (base: string, token?: string) =>
  fetch(`${base}/runbook`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

async function post(base: string, path: string, body?: unknown, token = APPROVER.token) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as { fix: RunbookEntry; changed: boolean } & {
      error?: { code: string; message: string; details?: unknown };
    },
  };
}

const fileFix = () => JSON.parse(readFileSync(runbook.filePath, 'utf8')).fixes[0];

describe('GET /runbook', () => {
  it('lists the fixes with their counts, rate and standing, to a viewer and an approver', async () => {
    for (const token of [VIEWER.token, APPROVER.token]) {
      const res = await get(api.base, token);
      expect(res.status).toBe(200);
      const listing = (await res.json()) as RunbookListing;
      expect(listing.trust).toEqual({ minSuccessRate: 0.8, minUses: 2 });
      expect(listing.fixes).toEqual([
        expect.objectContaining({
          id: fixId,
          target: 'svc',
          alertType: 'memory-leak',
          errorSignature: 'memory usage above threshold',
          action: 'RESTART',
          enabled: true,
          stats: { resolved: 1, failed: 0, rejected: 0, didNotStick: 0 },
          uses: 1,
          rate: 1,
          trusted: false,
          setAside: false,
          lastOutcome: 'resolved',
          lastIncidentId: 'run-1',
          standing: 'not enough uses yet: 1 of 1 use resolved (100%), at least 80% over 2 uses required',
        }),
      ]);
    }
  });

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const anonymous = await get(api.base);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    expect((await get(api.base, 'not-a-token-of-anyone-at-all')).status).toBe(403);
  });
});

describe('POST /runbook/:id/disable and /enable', () => {
  it('turns a fix off with a note and on again, recording who and when in the file', async () => {
    const note = 'the session cache is being replaced';
    const off = await post(api.base, `/runbook/${fixId}/disable`, { note, by: 'someone else' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ changed: true, fix: { id: fixId, enabled: false, trusted: false } });
    // `by` is the approver token's name, whatever the body says.
    expect(off.body.fix.toggled).toEqual({ enabled: false, by: 'alice', at: expect.any(String), note });
    expect(off.body.fix.standing).toMatch(
      new RegExp(`^disabled by alice at .*: ${note}; 1 of 1 use resolved`),
    );
    expect(fileFix()).toMatchObject({ enabled: false, toggled: { by: 'alice', note } });

    const listed = (await (await get(api.base, VIEWER.token)).json()) as RunbookListing;
    expect(listed.fixes[0]).toMatchObject({ enabled: false, toggled: { note } });

    // Off already: nothing changes.
    const again = await post(api.base, `/runbook/${fixId}/disable`, { note: 'again' });
    expect(again.body).toMatchObject({ changed: false, fix: { toggled: { note } } });

    const on = await post(api.base, `/runbook/${fixId}/enable`);
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({
      changed: true,
      fix: { enabled: true, toggled: { enabled: true, by: 'alice' } },
    });
    expect(fileFix()).toMatchObject({ enabled: true, stats: { resolved: 1 } });
  });

  it('answers 401 without a token, 403 to a viewer token, and never changes the file', async () => {
    const before = readFileSync(runbook.filePath, 'utf8');
    const anonymous = await post(api.base, `/runbook/${fixId}/disable`, { note: 'n' }, '');
    expect(anonymous.status).toBe(401);
    const viewer = await post(api.base, `/runbook/${fixId}/disable`, { note: 'n' }, VIEWER.token);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error?.code).toBe('forbidden');
    expect(readFileSync(runbook.filePath, 'utf8')).toBe(before);
  });

  it('answers 400 for a disable without a note, a bad body or a bad id, and 404 for an unknown fix', async () => {
    for (const body of [undefined, {}, { note: '   ' }, { note: 42 }]) {
      const res = await post(api.base, `/runbook/${fixId}/disable`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.code).toBe('invalid_body');
      expect(JSON.stringify(res.body.error?.details)).toContain('note');
    }
    expect((await post(api.base, `/runbook/${fixId}/enable`, { note: 'x'.repeat(2001) })).status).toBe(400);
    const bad = await post(api.base, '/runbook/..%2Fetc%2Fpasswd/disable', { note: 'n' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_fix_id');
    const unknown = await post(api.base, '/runbook/fix-nobody-hang-00000000/disable', { note: 'n' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({
      code: 'fix_not_found',
      message: expect.stringContaining('fix-nobody'),
    });
    const text = await fetch(`${api.base}/runbook/${fixId}/enable`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APPROVER.token}`, 'content-type': 'text/plain' },
      body: 'note',
    });
    expect(text.status).toBe(415);
  });

  it('reports a runbook file it cannot read, and leaves it as it is', async () => {
    const good = readFileSync(runbook.filePath, 'utf8');
    writeFileSync(runbook.filePath, '{ "version": 1, "fixes": [ oops');
    try {
      const res = await get(api.base, VIEWER.token);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('runbook_unreadable');
      expect(body.error.message).toContain('fix it by hand');
      expect((await post(api.base, `/runbook/${fixId}/disable`, { note: 'n' })).status).toBe(500);
      expect(readFileSync(runbook.filePath, 'utf8')).toBe('{ "version": 1, "fixes": [ oops');
    } finally {
      writeFileSync(runbook.filePath, good);
    }
  });
});

describe('when nobody answers', () => {
  it('answers 503 when the workflows run but the runbook writer does not, and changes nothing later', async () => {
    // A central queue with the workflows and no writer on its runbook queue.
    const taskQueue = uniqueTaskQueue('runbook-nowriter');
    const workflowsOnly = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    const polling = workflowsOnly.run();
    const alone = await serve(temporal.client, taskQueue, 1500);
    try {
      const listed = await get(alone.base, VIEWER.token);
      expect(listed.status).toBe(503);
      expect(listed.headers.get('retry-after')).toBe('5');
      const body = (await listed.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('runbook_unavailable');
      expect(body.error.message).toContain("the runbook's writer did not answer within 2 s");
      const off = await post(alone.base, `/runbook/${fixId}/disable`, { note: 'n' });
      expect(off.status).toBe(503);
      expect(off.body.error?.code).toBe('runbook_unavailable');

      // The writer comes back: the disable it was too late for is never done.
      const writer = await Worker.create({
        connection: temporal.nativeConnection,
        namespace: 'default',
        taskQueue: runbookTaskQueue(taskQueue),
        activities: createCentralActivities({
          incidentSettings: testSettings(),
          runbook,
          notifier: new LogNotifier(captureLogger().logger),
          logger: captureLogger().logger,
        }),
        maxConcurrentActivityTaskExecutions: 1,
      });
      const writing = writer.run();
      try {
        const back = await get(alone.base, VIEWER.token);
        expect(back.status).toBe(200);
        expect(((await back.json()) as RunbookListing).fixes[0]).toMatchObject({ id: fixId, enabled: true });
      } finally {
        writer.shutdown();
        await writing;
      }
    } finally {
      await alone.close();
      workflowsOnly.shutdown();
      await polling;
    }
    expect(fileFix()).toMatchObject({ enabled: true });
  });

  it('answers 503 when no worker polls the queue at all', async () => {
    const idle = await serve(temporal.client, uniqueTaskQueue('runbook-idle'), 1500);
    try {
      const res = await get(idle.base, VIEWER.token);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('runbook_unavailable');
    } finally {
      await idle.close();
    }
  });

  it('answers 503 temporal_unavailable when Temporal does not answer', async () => {
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const down = await serve(dead, 'unused', 1500);
    try {
      const res = await get(down.base, VIEWER.token);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('temporal_unavailable');
      expect((await post(down.base, `/runbook/${fixId}/enable`)).status).toBe(503);
    } finally {
      await down.close();
    }
  });
});
