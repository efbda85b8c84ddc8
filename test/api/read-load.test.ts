// What a reader costs Temporal, against the real dev server: GET /healthz asks Temporal at most about once
// a second, GET /stats reads visibility once for many requests (a cache of a few seconds and one flight at
// a time), and the history read stops at its limit. Counted with a gRPC interceptor on a connection of
// this file's own, and with the API's clock held still.
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { readIncidentHistory } from '../../src/temporal/incident-history.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, testSettings } from '../support/medic.js';
import { devServerForFile, uniqueTaskQueue } from '../support/temporal.js';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
const temporal = devServerForFile();
const calls = new Map<string, number>();
const called = (method: string) =>
  calls.get(`/temporal.api.workflowservice.v1.WorkflowService/${method}`) ?? 0;
let connection: Connection;
let client: Client;
let api: ServedApp;
let clock = Date.now();
let taskQueue: string;

beforeAll(async () => {
  connection = await Connection.connect({
    address: inject('temporalAddress'),
    interceptors: [
      (options, nextCall) => {
        const path = options.method_definition.path;
        calls.set(path, (calls.get(path) ?? 0) + 1);
        // The next call as it is: only counted.
        return nextCall(options) as ReturnType<Interceptor>;
      },
    ],
  });
  client = new Client({ connection, namespace: 'default' });
  taskQueue = uniqueTaskQueue('read-load');
  api = await serveApp(
    createApp({
      client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: 'read-load-webhook-secret-0123456',
        approverTokens: [],
        incident: testSettings(),
      },
      logger: captureLogger().logger,
      now: () => clock,
    }),
  );
});

afterAll(async () => {
  await api?.close();
  await connection?.close();
});

const get = async (path: string) => {
  const res = await fetch(`${api.base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('GET /healthz', () => {
  it("keeps Temporal's answer for about a second", async () => {
    const before = called('GetSystemInfo');
    const answers = await Promise.all(Array.from({ length: 10 }, () => get('/healthz')));
    for (let i = 0; i < 10; i++) answers.push(await get('/healthz'));
    expect(answers.every((a) => a.status === 200 && a.body.status === 'ok')).toBe(true);
    expect(called('GetSystemInfo') - before).toBe(1);
    clock += 1500;
    expect((await get('/healthz')).status).toBe(200);
    expect(called('GetSystemInfo') - before).toBe(2);
  });
});

describe('GET /stats', () => {
  it('reads visibility once for many requests, until its cache is a few seconds old', async () => {
    const before = called('ListWorkflowExecutions');
    const answers = await Promise.all(Array.from({ length: 5 }, () => get('/stats?since=1m')));
    for (let i = 0; i < 5; i++) answers.push(await get('/stats?since=1m'));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(called('ListWorkflowExecutions') - before).toBe(1);
    clock += 60_000;
    expect((await get('/stats?since=1m')).status).toBe(200);
    expect(called('ListWorkflowExecutions') - before).toBe(2);
  });

  it('stops reading closed incidents at its limit, and counts the rest', async () => {
    const ids = Array.from({ length: 4 }, (_, i) => `incident:local:read-load-${process.pid}-${i}:crash`);
    for (const workflowId of ids) {
      const handle = await temporal.client.workflow.start('incidentWorkflow', {
        workflowId,
        taskQueue,
        args: [{ target: 'x', alertType: 'crash', settings: testSettings() }],
      });
      await handle.terminate('ended for the count');
    }
    // A pass-through count of the closed runs the read pulls from visibility.
    let listed = 0;
    const list = client.workflow.list.bind(client.workflow);
    const counting = Object.create(client, {
      workflow: {
        value: Object.assign(Object.create(client.workflow), {
          list: (...args: Parameters<typeof list>) => {
            const iterable = list(...args);
            return {
              ...iterable,
              async *[Symbol.asyncIterator]() {
                for await (const info of iterable) {
                  listed += 1;
                  yield info;
                }
              },
            };
          },
        }),
      },
    }) as Client;
    const history = await readIncidentHistory(counting, {
      namespace: 'default',
      sinceMs: clock - 120_000,
      limit: 2,
    });
    expect(history.states.length + history.withoutState).toBe(2);
    expect(history.truncated).toBeGreaterThanOrEqual(2);
    expect(listed).toBe(2);
  });
});
