// The remedy activities on real engines: Podman (the run's engine) and Docker's daemon, where the engine
// matters (a rollback's create, a limits update). Each activity runs in an activity context as a worker runs
// it (attempt, heartbeat details), against demo containers on the host network. A second image id to roll
// back from is a commit of the demo image with a baked setting, as a bad release would carry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureDemoImage, removeContainer, runDemoContainer } from '../../scripts/demo-image.js';
import { type DockerDaemon, startDockerDaemon } from '../../scripts/docker-daemon.js';
import { type ContainerInfo, DockerEngineRuntime } from '../../src/activities/containers.js';
import { createHostActivities } from '../../src/activities/index.js';
import { captureLogger, MANAGED, waitForDemoApp } from '../support/medic.js';
import { portForAnotherProcess, refusingPort } from '../support/ports.js';
import { engineOrSkip } from './support.js';

const { engine: podman, skipReason } = engineOrSkip();
let daemon: DockerDaemon | undefined;
let dockerProblem: string | undefined;
if (!skipReason) {
  try {
    daemon = await startDockerDaemon(() => undefined);
  } catch (err) {
    dockerProblem = (err as Error).message;
    if (process.env.CI) throw new Error(`the remedy tests need Docker's daemon in CI: ${dockerProblem}`);
    console.warn(`[e2e] skipping the remedy tests on Docker: ${dockerProblem} (npm run setup:docker)`);
  }
}

const RUN = `medic-remedy-${process.pid}`;
const RUN_LABEL = 'medic.test-run';
const MiB = 1024 * 1024;
const SECRET = 'remedy-test-secret-value';

interface OnEngine {
  name: 'podman' | 'docker';
  docker: Docker;
  runtime: DockerEngineRuntime;
  /** The demo image (what the container last ran healthy) and a bad release of it. */
  good: { ref: string; id: string };
  bad: { ref: string; id: string };
}

const engines: OnEngine[] = [];
const { logger, lines } = captureLogger();

/** A bad release of the demo image: the same files, a setting baked into the image's environment. */
async function badRelease(docker: Docker, good: string): Promise<{ ref: string; id: string }> {
  const ref = `${good}-remedy-test-bad`;
  const base = await docker.createContainer({
    name: `${RUN}-base`,
    Image: good,
    HostConfig: { NetworkMode: 'host' },
  });
  try {
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    await base.commit({ repo, tag, changes: ['ENV MEDIC_TEST_RELEASE=bad'] } as unknown as Record<
      string,
      unknown
    >);
  } finally {
    await base.remove({ force: true });
  }
  return { ref, id: (await docker.getImage(ref).inspect()).Id };
}

async function prepare(name: OnEngine['name'], docker: Docker): Promise<OnEngine> {
  const ref =
    name === 'podman' ? (inject('demoImage') as string) : await ensureDemoImage(docker, () => undefined);
  const good = { ref, id: (await docker.getImage(ref).inspect()).Id };
  return {
    name,
    docker,
    runtime: new DockerEngineRuntime(docker, MANAGED),
    good,
    bad: await badRelease(docker, ref),
  };
}

async function removeRunContainers(docker: Docker): Promise<void> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${RUN}`] } });
  for (const c of listed) await docker.getContainer(c.Id).remove({ force: true });
}

/** Runs an activity as a worker would, with this attempt's info; keeps what it heartbeated. */
async function run<I, O>(fn: (input: I) => Promise<O>, input: I, info: Partial<Info> = {}) {
  const env = new MockActivityEnvironment(
    { scheduledTimestampMs: Date.now(), attempt: 1, ...info },
    { logger: new DefaultLogger('ERROR') },
  );
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  const result = (await env.run(fn, input)) as O;
  return { result, beats };
}

const activitiesOn = (e: OnEngine, dryRun = false) =>
  createHostActivities({ runtime: e.runtime, logger, dryRun });

/** A demo container of this run on the host network; answers at its port. */
async function demo(
  e: OnEngine,
  name: string,
  options: { image?: string; labels?: Record<string, string>; memoryLimitBytes?: number } = {},
): Promise<{ info: ContainerInfo; port: number }> {
  const port = await portForAnotherProcess();
  await runDemoContainer(e.docker, {
    name,
    image: options.image ?? e.bad.ref,
    port,
    env: { MONITOR_INTERVAL_MS: '60000', API_TOKEN: SECRET },
    labels: { [RUN_LABEL]: RUN, team: 'payments', ...options.labels },
    ...(options.memoryLimitBytes ? { memoryLimitBytes: options.memoryLimitBytes } : {}),
  });
  await waitForDemoApp(`http://127.0.0.1:${port}`, name);
  const info = await e.runtime.inspect(name);
  if (!info) throw new Error(`${name} did not start`);
  return { info, port };
}

/** This run's containers whose name starts with `name` (the kept one included). */
async function containersNamed(e: OnEngine, name: string): Promise<string[]> {
  const all = await e.docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${RUN}`] } });
  return all
    .flatMap((c) => c.Names.map((n) => n.replace(/^\//, '')))
    .filter((n) => n === name || n.startsWith(`${name}-medic-rollback-`))
    .sort();
}

const rollbackInput = (e: OnEngine, info: ContainerInfo) => ({
  incidentId: `incident-${info.name}`,
  target: info.name,
  expectedContainerId: info.id,
  expectedImageId: info.imageId as string,
  toImageId: e.good.id,
  stopTimeoutMs: 5000,
});

/** What the exec helper below reads from inside a container. */
async function readInside(e: OnEngine, id: string, script: string): Promise<string> {
  const ran = await e.runtime.exec(id, ['/usr/local/bin/node', '-e', script], {
    timeoutMs: 10_000,
    maxOutputBytes: 4096,
  });
  return ran.output.trim();
}

describe.skipIf(Boolean(skipReason))('remedy activities on real engines', () => {
  beforeAll(async () => {
    engines.push(await prepare('podman', podman!.docker));
    if (daemon) engines.push(await prepare('docker', daemon.docker));
    for (const e of engines) await removeRunContainers(e.docker);
  }, 240_000);

  afterAll(async () => {
    for (const e of engines) {
      await removeRunContainers(e.docker).catch(() => undefined);
      await e.docker
        .getImage(e.bad.ref)
        .remove()
        .catch(() => undefined);
    }
    await daemon?.stop();
  }, 120_000);

  const each = (title: string, body: (e: OnEngine) => Promise<void>, timeout = 120_000) => {
    for (const name of ['podman', 'docker'] as const) {
      it.skipIf(name === 'docker' && Boolean(dockerProblem))(
        `${title} (${name})`,
        async () => {
          const e = engines.find((x) => x.name === name);
          if (!e) throw new Error(`${name} was not prepared`);
          await body(e);
        },
        timeout,
      );
    }
  };

  each('says what it can do: Docker updates limits, Podman 4.3 cannot, both recreate and exec', async (e) => {
    const report = await e.runtime.capabilities();
    expect(report.can).toEqual(expect.arrayContaining(['restart', 'recreate', 'exec']));
    if (e.name === 'docker') expect(report.can).toContain('update-limits');
    else {
      expect(report.can).not.toContain('update-limits');
      expect(report.cannot.find((c) => c.capability === 'update-limits')?.why).toMatch(
        /Podman .*running cgroup/,
      );
    }
    // The image facts the evidence needs.
    const { info } = await demo(e, `${RUN}-facts-${e.name}`);
    expect(info.imageId).toBe(e.bad.id);
    expect(Date.parse(info.createdAt ?? '')).toBeGreaterThan(Date.now() - 600_000);
    expect(await e.runtime.imageExists(e.good.id)).toBe(true);
    expect(await e.runtime.imageExists(`sha256:${'0'.repeat(64)}`)).toBe(false);
    await removeContainer(e.docker, info.name);
  });

  each(
    'rolls back to the old image under the same name, labels, network, port, limits and environment; once',
    async (e) => {
      const name = `${RUN}-rb-${e.name}`;
      const { info: bad, port } = await demo(e, name, {
        memoryLimitBytes: 256 * MiB,
        labels: { 'medic.action.reset-pool': 'POST /admin/reset-pool' },
      });
      const activities = activitiesOn(e);
      const { result, beats } = await run(activities.rollbackContainer, rollbackInput(e, bad));
      expect(result).toMatchObject({
        outcome: 'rolled-back',
        keptAs: `${name}-medic-rollback-${bad.id.slice(0, 12)}`,
        fromImageId: e.bad.id,
        toImageId: e.good.id,
      });
      expect(beats.length).toBeGreaterThan(0);
      // The new container: the old image, everything else as it was.
      await waitForDemoApp(`http://127.0.0.1:${port}`, name);
      const after = await e.docker.getContainer(name).inspect();
      expect(after.Id).toBe(result.newContainerId);
      expect(after.Id).not.toBe(bad.id);
      expect(after.Image).toBe(e.good.id);
      expect(after.State.Running).toBe(true);
      expect(after.Config.Labels).toMatchObject(bad.labels);
      expect(after.HostConfig.NetworkMode).toBe('host');
      expect(after.HostConfig.Memory).toBe(256 * MiB);
      expect(after.Config.Env).toEqual(expect.arrayContaining([`PORT=${port}`, `API_TOKEN=${SECRET}`]));
      // What the bad release baked in stayed with it.
      expect(after.Config.Env.some((v) => v.startsWith('MEDIC_TEST_RELEASE='))).toBe(false);
      // Nothing returned or logged carries the environment.
      expect(JSON.stringify(result)).not.toContain(SECRET);
      const kept = await e.docker.getContainer(result.keptAs as string).inspect();
      expect(kept.Id).toBe(bad.id);
      expect(kept.State.Running).toBe(false);
      expect(await containersNamed(e, name)).toEqual([name, result.keptAs].sort());

      // A retry (the worker died after the engine took it all) finds the swap done.
      const retry = await run(activities.rollbackContainer, rollbackInput(e, bad), { attempt: 2 });
      expect(retry.result).toMatchObject({ outcome: 'already-rolled-back', newContainerId: after.Id });
      expect(await containersNamed(e, name)).toEqual([name, result.keptAs].sort());

      // A worker in dry-run neither removes the kept container nor puts it back.
      const dry = activitiesOn(e, true);
      const finish = { target: name, keptAs: result.keptAs as string };
      const undo = { ...finish, newContainerId: after.Id, stopTimeoutMs: 5000 };
      expect((await run(dry.finishRollback, finish)).result.outcome).toBe('would-have');
      expect((await run(dry.undoRollback, undo)).result.outcome).toBe('would-have');
      expect(await containersNamed(e, name)).toEqual([name, result.keptAs].sort());
      expect((await e.runtime.inspect(name))?.id).toBe(after.Id);

      // Verified healthy: the kept container goes, once.
      expect((await run(activities.finishRollback, finish)).result.outcome).toBe('removed');
      expect((await run(activities.finishRollback, finish)).result.outcome).toBe('already-removed');
      expect(await containersNamed(e, name)).toEqual([name]);
      expect((await e.docker.getContainer(name).inspect()).Id).toBe(after.Id);
    },
  );

  each('undoes a rollback: the bad container is back as it was, the new one gone', async (e) => {
    const name = `${RUN}-undo-${e.name}`;
    const { info: bad, port } = await demo(e, name);
    const activities = activitiesOn(e);
    const { result } = await run(activities.rollbackContainer, rollbackInput(e, bad));
    expect(result.outcome).toBe('rolled-back');
    const undo = {
      target: name,
      keptAs: result.keptAs as string,
      newContainerId: result.newContainerId as string,
      stopTimeoutMs: 5000,
    };
    // The new container is up first (a process that has not yet set its SIGTERM handler waits out the stop).
    await waitForDemoApp(`http://127.0.0.1:${port}`, name);
    expect((await run(activities.undoRollback, undo)).result.outcome).toBe('undone');
    await waitForDemoApp(`http://127.0.0.1:${port}`, name);
    const back = await e.runtime.inspect(name);
    expect(back).toMatchObject({ id: bad.id, name, running: true, imageId: e.bad.id, labels: bad.labels });
    expect(await e.runtime.inspect(undo.newContainerId)).toBeUndefined();
    expect(await containersNamed(e, name)).toEqual([name]);
    expect((await run(activities.undoRollback, undo, { attempt: 2 })).result.outcome).toBe('already-undone');
  });

  each('finishes a swap a worker left half done, whatever step it died after', async (e) => {
    const activities = activitiesOn(e);
    // Died after the rename (the bad container stopped and kept, no new one yet).
    const renamed = `${RUN}-half-${e.name}`;
    const { info: bad1 } = await demo(e, renamed);
    const kept1 = `${renamed}-medic-rollback-${bad1.id.slice(0, 12)}`;
    await e.runtime.stop(bad1.id, { stopTimeoutMs: 5000 });
    await e.runtime.rename(bad1.id, kept1);
    const first = await run(activities.rollbackContainer, rollbackInput(e, bad1), { attempt: 2 });
    expect(first.result.outcome).toBe('rolled-back');
    expect(await containersNamed(e, renamed)).toEqual([renamed, kept1].sort());
    expect((await e.runtime.inspect(renamed))?.running).toBe(true);

    // Died after the create (the new container made, never started).
    const created = `${RUN}-made-${e.name}`;
    const { info: bad2 } = await demo(e, created);
    const kept2 = `${created}-medic-rollback-${bad2.id.slice(0, 12)}`;
    await e.runtime.stop(bad2.id, { stopTimeoutMs: 5000 });
    await e.runtime.rename(bad2.id, kept2);
    const madeId = await e.runtime.createFrom(bad2.id, { name: created, imageId: e.good.id });
    const second = await run(activities.rollbackContainer, rollbackInput(e, bad2), { attempt: 2 });
    expect(second.result).toMatchObject({ outcome: 'rolled-back', newContainerId: madeId });
    expect(await containersNamed(e, created)).toEqual([created, kept2].sort());
    expect(await e.runtime.inspect(created)).toMatchObject({ id: madeId, running: true, imageId: e.good.id });
  });

  each('refuses a rollback whose precondition no longer holds', async (e) => {
    const name = `${RUN}-pre-${e.name}`;
    const { info } = await demo(e, name);
    const activities = activitiesOn(e);
    const input = rollbackInput(e, info);
    await expect(
      run(activities.rollbackContainer, { ...input, expectedImageId: e.good.id }),
    ).rejects.toMatchObject({
      type: 'PreconditionFailed',
      nonRetryable: true,
    });
    await expect(
      run(activities.rollbackContainer, { ...input, toImageId: `sha256:${'0'.repeat(64)}` }),
    ).rejects.toMatchObject({ type: 'ImageGone', nonRetryable: true });
    await expect(
      run(activities.rollbackContainer, { ...input, expectedContainerId: 'f'.repeat(64) }),
    ).rejects.toMatchObject({ type: 'TargetReplaced', nonRetryable: true });
    // Untouched.
    expect(await e.runtime.inspect(name)).toMatchObject({
      id: info.id,
      running: true,
      startedAt: info.startedAt,
    });
    expect(await containersNamed(e, name)).toEqual([name]);
  });

  each(
    'raises and restores a memory limit where the engine can (Docker), and says it cannot (Podman)',
    async (e) => {
      const name = `${RUN}-mem-${e.name}`;
      const { info } = await demo(e, name, { image: e.good.ref, memoryLimitBytes: 256 * MiB });
      const activities = activitiesOn(e);
      const raise = {
        incidentId: 'incident-mem',
        target: name,
        expectedContainerId: info.id,
        fromBytes: 256 * MiB,
        toBytes: 384 * MiB,
      };
      if (e.name === 'podman') {
        await expect(run(activities.raiseMemoryLimit, raise)).rejects.toMatchObject({
          type: 'RemedyNotSupported',
          nonRetryable: true,
        });
        expect((await e.runtime.inspect(name))?.memoryLimitBytes).toBe(256 * MiB);
        return;
      }
      expect(info.memorySwapBytes).toBe(512 * MiB);
      expect((await run(activitiesOn(e, true).raiseMemoryLimit, raise)).result.outcome).toBe('would-have');
      expect((await e.runtime.inspect(name))?.memoryLimitBytes).toBe(256 * MiB);
      expect((await run(activities.raiseMemoryLimit, raise)).result.outcome).toBe('raised');
      const raised = await e.runtime.inspect(name);
      expect(raised).toMatchObject({
        memoryLimitBytes: 384 * MiB,
        memorySwapBytes: 640 * MiB,
        startedAt: info.startedAt,
      });
      // The running container's own cgroup has the new limit.
      const cgroup =
        "const f=require('fs');for(const p of ['/sys/fs/cgroup/memory/memory.limit_in_bytes','/sys/fs/cgroup/memory.max'])try{console.log(f.readFileSync(p,'utf8').trim());break}catch{}";
      expect(Number(await readInside(e, info.id, cgroup))).toBe(384 * MiB);
      // The engine keeps it: a restart does not put the old limit back.
      await e.runtime.restart(info.id, { stopTimeoutMs: 5000 });
      expect(Number(await readInside(e, info.id, cgroup))).toBe(384 * MiB);
      expect((await run(activities.raiseMemoryLimit, raise, { attempt: 2 })).result.outcome).toBe(
        'already-raised',
      );
      // A limit someone else changed meanwhile is not touched.
      await expect(
        run(activities.raiseMemoryLimit, { ...raise, fromBytes: 300 * MiB, toBytes: 450 * MiB }),
      ).rejects.toMatchObject({
        type: 'PreconditionFailed',
      });
      const restore = { ...raise, fromBytes: 384 * MiB, toBytes: 256 * MiB };
      expect((await run(activities.restoreMemoryLimit, restore)).result.outcome).toBe('restored');
      expect(await e.runtime.inspect(name)).toMatchObject({
        memoryLimitBytes: 256 * MiB,
        memorySwapBytes: 512 * MiB,
      });
      expect((await run(activities.restoreMemoryLimit, restore)).result.outcome).toBe('already-restored');
    },
  );

  each(
    'runs a declared command through exec, once across a retry, and refuses an undeclared one',
    async (e) => {
      const name = `${RUN}-exec-${e.name}`;
      const flush = [
        '/usr/local/bin/node',
        '-e',
        "require('fs').appendFileSync('/tmp/flushes','x');console.log('flushed')",
      ];
      const failing = ['/usr/local/bin/node', '-e', "console.error('pool busy');process.exit(3)"];
      const { info } = await demo(e, name, {
        image: e.good.ref,
        labels: {
          'medic.action.flush-cache.exec': JSON.stringify(flush),
          'medic.action.flush-cache.risk': 'low',
          'medic.action.busy.exec': JSON.stringify(failing),
        },
      });
      const activities = activitiesOn(e);
      const input = {
        incidentId: 'incident-exec',
        target: name,
        expectedContainerId: info.id,
        action: 'flush-cache',
      };
      const scheduledTimestampMs = Date.now();
      const first = await run(activities.runServiceAction, input, { scheduledTimestampMs });
      expect(first.result).toMatchObject({ outcome: 'ran', exitCode: 0 });
      const noted = first.beats.at(-1) as { execId?: string };
      expect(noted.execId).toMatch(/^[0-9a-f]{64}$/);
      // A retry that reads the exec's id from the heartbeat does not run it again; nor does one whose note
      // never reached Temporal (the engine's event log shows the command started).
      const byNote = await run(activities.runServiceAction, input, {
        attempt: 2,
        heartbeatDetails: noted,
        scheduledTimestampMs,
      });
      expect(byNote.result).toMatchObject({ outcome: 'ran', exitCode: 0 });
      expect(byNote.result.detail).toMatch(/earlier attempt/);
      const byLog = await run(activities.runServiceAction, input, { attempt: 3, scheduledTimestampMs });
      expect(byLog.result.detail).toMatch(/engine shows an earlier attempt/);
      expect(
        await readInside(e, info.id, "console.log(require('fs').readFileSync('/tmp/flushes','utf8').length)"),
      ).toBe('1');

      const busy = await run(activities.runServiceAction, { ...input, action: 'ACTION:busy' });
      expect(busy.result).toMatchObject({ outcome: 'ran', exitCode: 3 });
      expect(busy.result.detail).toContain('pool busy');
      for (const action of ['reset-everything', '/usr/local/bin/node -e 1', 'POST /admin/reset-pool']) {
        await expect(run(activities.runServiceAction, { ...input, action })).rejects.toMatchObject({
          type: 'ActionNotDeclared',
          nonRetryable: true,
        });
      }
    },
  );

  it("logs nothing of the containers' environment", () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  describe('service actions over HTTP, dependents and dry-run (Podman)', () => {
    let service: Server;
    let elsewhere: Server;
    const requests: Array<{ method: string; url: string; key: string | undefined }> = [];
    let elsewhereHits = 0;
    let servicePort = 0;
    let e: OnEngine;

    beforeAll(async () => {
      e = engines.find((x) => x.name === 'podman') as OnEngine;
      elsewhere = createServer((_req, res) => {
        elsewhereHits += 1;
        res.end('stolen');
      });
      await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
      const elsewherePort = (elsewhere.address() as AddressInfo).port;
      service = createServer((req, res) => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          key: req.headers['idempotency-key'] as string,
        });
        if (req.url === '/admin/moved') {
          res.writeHead(302, { location: `http://127.0.0.1:${elsewherePort}/steal` }).end();
          return;
        }
        if (req.url === '/admin/broken') {
          res.writeHead(500).end(`pool reset failed: password=${SECRET}`);
          return;
        }
        res.writeHead(200).end('ok');
      });
      await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
      servicePort = (service.address() as AddressInfo).port;
    }, 120_000);

    afterAll(async () => {
      await new Promise((r) => service?.close(r));
      await new Promise((r) => elsewhere?.close(r));
    });

    /** A managed container whose health URL (and so its actions' origin) is the test's service. */
    const withService = (name: string, labels: Record<string, string> = {}, image = e.good.ref) =>
      demo(e, name, {
        image,
        labels: {
          'medic.health-url': `http://127.0.0.1:${servicePort}/health`,
          'medic.action.reset-pool': 'POST /admin/reset-pool',
          'medic.action.moved': 'POST /admin/moved',
          'medic.action.broken': 'POST /admin/broken',
          'medic.action.odd': 'GET //elsewhere.example/x',
          ...labels,
        },
      });

    it("sends a declared request to the health URL's origin, follows no redirect, and does not send it twice", async () => {
      const name = `${RUN}-http`;
      const { info } = await withService(name);
      const activities = activitiesOn(e);
      const input = {
        incidentId: 'incident-http',
        target: name,
        expectedContainerId: info.id,
        action: 'reset-pool',
      };
      requests.length = 0;
      const first = await run(activities.runServiceAction, input);
      expect(first.result).toMatchObject({ outcome: 'ran', status: 200 });
      expect(requests).toEqual([
        { method: 'POST', url: '/admin/reset-pool', key: 'medic-incident-http-reset-pool' },
      ]);
      // Noted before it was sent: a retry after a worker died reads it and does not send again.
      expect(first.beats[0]).toEqual({ phase: 'sending' });
      const retry = await run(activities.runServiceAction, input, {
        attempt: 2,
        heartbeatDetails: first.beats[0],
      });
      expect(retry.result.detail).toMatch(/earlier attempt sent/);
      expect(requests).toHaveLength(1);

      const moved = await run(activities.runServiceAction, { ...input, action: 'moved' });
      expect(moved.result.status).toBe(302);
      expect(elsewhereHits).toBe(0);
      const broken = await run(activities.runServiceAction, { ...input, action: 'broken' });
      expect(broken.result.status).toBe(500);
      expect(broken.result.detail).toContain('pool reset failed');
      expect(broken.result.detail).not.toContain(SECRET);
      // A path that looks like another host stays a path on the container's own origin.
      await run(activities.runServiceAction, { ...input, action: 'odd' });
      expect(requests.at(-1)).toMatchObject({ method: 'GET', url: '//elsewhere.example/x' });
      expect(elsewhereHits).toBe(0);
    });

    it('refuses an action the container does not declare, or one its labels no longer declare', async () => {
      const name = `${RUN}-undeclared`;
      const { info } = await withService(name, {
        'medic.action.bad path': 'POST /x',
        'medic.action.nope': 'PATCH /x',
      });
      const activities = activitiesOn(e);
      requests.length = 0;
      for (const action of ['drop-database', 'nope', 'POST /admin/reset-pool', '../../admin']) {
        await expect(
          run(activities.runServiceAction, {
            incidentId: 'i',
            target: name,
            expectedContainerId: info.id,
            action,
          }),
        ).rejects.toMatchObject({ type: 'ActionNotDeclared', nonRetryable: true });
      }
      expect(requests).toEqual([]);
      // Another container under the name (recreated since the diagnosis) is not acted on.
      await expect(
        run(activities.runServiceAction, {
          incidentId: 'i',
          target: name,
          expectedContainerId: 'f'.repeat(64),
          action: 'reset-pool',
        }),
      ).rejects.toMatchObject({ type: 'TargetReplaced' });
      expect(requests).toEqual([]);
    });

    it('lists the dependents that declare the target and are not healthy', async () => {
      const target = `${RUN}-db`;
      const down = await refusingPort();
      try {
        await demo(e, `${RUN}-dep-b`, {
          image: e.good.ref,
          labels: { 'medic.depends-on': target, 'medic.health-url': `${down.url}/health` },
        });
        const healthy = await demo(e, `${RUN}-dep-a`, {
          image: e.good.ref,
          labels: { 'medic.depends-on': target },
        });
        await demo(e, `${RUN}-dep-c`, {
          image: e.good.ref,
          labels: { 'medic.depends-on': `${target}-other`, 'medic.health-url': `${down.url}/health` },
        });
        const { result } = await run(activitiesOn(e).unhealthyDependents, { target });
        expect(result.map((d) => d.name)).toEqual([`${RUN}-dep-b`]);
        expect(result[0]?.detail).toMatch(/failed/);
        expect((await e.runtime.listDependents(target)).map((d) => d.name)).toEqual([
          healthy.info.name,
          `${RUN}-dep-b`,
        ]);
      } finally {
        await down.release();
      }
    });

    it('touches nothing in dry-run: every remedy answers would-have', async () => {
      const name = `${RUN}-dry`;
      const flush = ['/usr/local/bin/node', '-e', "require('fs').writeFileSync('/tmp/dry','x')"];
      const { info } = await withService(
        name,
        { 'medic.action.flush.exec': JSON.stringify(flush) },
        e.bad.ref,
      );
      const activities = activitiesOn(e, true);
      requests.length = 0;
      const target = { incidentId: 'incident-dry', target: name, expectedContainerId: info.id };
      const rollback = await run(activities.rollbackContainer, rollbackInput(e, info));
      expect(rollback.result.outcome).toBe('would-have');
      const http = await run(activities.runServiceAction, { ...target, action: 'reset-pool' });
      const exec = await run(activities.runServiceAction, { ...target, action: 'flush' });
      expect([http.result.outcome, exec.result.outcome]).toEqual(['would-have', 'would-have']);
      const keptAs = `${name}-medic-rollback-${info.id.slice(0, 12)}`;
      // The kept container of a finish or an undo does not exist here: a dry run reads, and still does nothing.
      expect((await run(activities.finishRollback, { target: name, keptAs })).result.outcome).toBe(
        'already-removed',
      );
      expect(requests).toEqual([]);
      const now = await e.runtime.inspect(name);
      expect(now).toMatchObject({
        id: info.id,
        startedAt: info.startedAt,
        imageId: info.imageId,
        running: true,
      });
      expect(await containersNamed(e, name)).toEqual([name]);
      expect(await readInside(e, info.id, "console.log(require('fs').existsSync('/tmp/dry'))")).toBe('false');
    });
  });
});
