// Without a container engine (the process supervisor) Medic can restart and nothing more, and says so: its
// capability report names each remedy it cannot do and why, and those remedies fail as not supported
// without touching the process; a declared HTTP action needs no engine and still runs. The host worker's
// activity list carries every remedy activity.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerRuntime, capabilitiesOf, ProcessSupervisor } from '../../src/activities/containers.js';
import { createHostActivities, HOST_ACTIVITY_NAMES } from '../../src/activities/index.js';
import { REMEDY_ACTIVITY_NAMES } from '../../src/activities/remedies/index.js';
import { captureLogger, MANAGED } from '../support/medic.js';

const supervisor = new ProcessSupervisor(MANAGED);
const hits: string[] = [];
const server = createServer((req, res) => {
  hits.push(`${req.method} ${req.url}`);
  res.end('ok');
});
let port = 0;

const run = <I, O>(fn: (input: I) => Promise<O>, input: I) =>
  new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(fn, input) as Promise<O>;

describe('the process supervisor and the remedies', () => {
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    const idle = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };
    supervisor.start({
      name: 'shop',
      ...idle,
      labels: {
        'medic.managed': 'true',
        'medic.health-url': `http://127.0.0.1:${port}/health`,
        'medic.action.reset-pool': 'POST /admin/reset-pool',
        'medic.action.flush.exec': '["/app/bin/flush"]',
      },
    });
    supervisor.start({
      name: 'shop-worker',
      ...idle,
      labels: {
        'medic.managed': 'true',
        'medic.depends-on': 'shop',
        'medic.health-url': 'http://127.0.0.1:9/',
      },
    });
  });
  afterAll(async () => {
    await supervisor.stopAll(1000);
    await new Promise((r) => server.close(r));
  });

  it('can restart only, and says why it cannot do the rest', async () => {
    const report = await supervisor.capabilities();
    expect(report.can).toEqual(['restart']);
    expect(report.cannot.map((c) => c.capability)).toEqual(['recreate', 'update-limits', 'exec']);
    for (const gap of report.cannot) expect(gap.why).toMatch(/^the process supervisor /);
    // A runtime that does not say what it can is taken to restart only.
    const silent: ContainerRuntime = {
      kind: 'docker-engine',
      inspect: async () => undefined,
      restart: async () => undefined,
      logs: async () => [],
    };
    expect((await capabilitiesOf(silent)).can).toEqual(['restart']);
  });

  it('fails a rollback, a memory raise and a command as not supported, touching nothing', async () => {
    const { logger } = captureLogger();
    const activities = createHostActivities({ runtime: supervisor, logger });
    const shop = await supervisor.inspect('shop');
    const target = { incidentId: 'i-1', target: 'shop', expectedContainerId: shop?.id ?? '' };
    const refusals = [
      run(activities.rollbackContainer, {
        ...target,
        expectedImageId: 'sha256:1',
        toImageId: 'sha256:2',
        stopTimeoutMs: 1000,
      }).catch((e) => e),
      run(activities.raiseMemoryLimit, { ...target, fromBytes: 1024, toBytes: 2048 }).catch((e) => e),
      run(activities.runServiceAction, { ...target, action: 'flush' }).catch((e) => e),
    ];
    for (const failure of await Promise.all(refusals)) {
      expect(failure).toMatchObject({ type: 'RemedyNotSupported', nonRetryable: true });
      expect(failure.message).toMatch(/process supervisor/);
    }
    expect(await supervisor.inspect('shop')).toMatchObject({ id: shop?.id, startedAt: shop?.startedAt });
    expect(hits).toEqual([]);
  });

  it('runs a declared HTTP action, which needs no engine, and lists a dependent that is not healthy', async () => {
    const { logger } = captureLogger();
    const activities = createHostActivities({ runtime: supervisor, logger, healthProbeTimeoutMs: 1000 });
    const shop = await supervisor.inspect('shop');
    const ran = await run(activities.runServiceAction, {
      incidentId: 'i-2',
      target: 'shop',
      expectedContainerId: shop?.id ?? '',
      action: 'reset-pool',
    });
    expect(ran).toMatchObject({ outcome: 'ran', status: 200 });
    expect(hits).toEqual(['POST /admin/reset-pool']);
    const dependents = await run(activities.unhealthyDependents, { target: 'shop' });
    expect(dependents.map((d) => d.name)).toEqual(['shop-worker']);
  });

  it('puts every remedy activity on the host worker', () => {
    const { logger } = captureLogger();
    const activities = createHostActivities({ runtime: supervisor, logger });
    for (const name of REMEDY_ACTIVITY_NAMES) {
      expect(HOST_ACTIVITY_NAMES).toContain(name);
      expect(typeof activities[name]).toBe('function');
    }
  });
});
