// The Docker socket proxy the compose stack puts between the worker and the engine, for real: Debian's
// HAProxy with deploy/docker-proxy/haproxy.cfg (written from allowlist.json) in front of the test engine.
// Medic's own engine client does everything it does through it, a restart and the remedies' calls included;
// calls no remedy needs are refused before they reach the engine; and the list's own matcher agrees with
// HAProxy.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { removeContainer, runDemoContainer } from '../../scripts/demo-image.js';
import {
  type DockerProxy,
  HAPROXY_BINARY,
  HAPROXY_CONFIG_FILE,
  isAllowed,
  renderHaproxyConfig,
  startDockerProxy,
} from '../../scripts/docker-proxy.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { createDockerClient, DockerEngineRuntime } from '../../src/activities/containers.js';
import { MANAGED } from '../support/medic.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';
import { engineOrSkip } from './support.js';

const { engine, skipReason: noEngine } = engineOrSkip();
const noProxy = existsSync(HAPROXY_BINARY) ? undefined : 'HAProxy is not installed (npm run setup:docker)';
if (noProxy && process.env.CI) throw new Error(`the socket proxy test needs HAProxy in CI: ${noProxy}`);
const skipReason = noEngine ?? noProxy;

const NAME = `medic-proxy-${process.pid}`;
let proxy: DockerProxy;
let containerId = '';

/** A raw request through the proxy, the path sent exactly as given (no URL normalisation). */
function raw(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(Boolean(skipReason))('the Docker socket proxy', () => {
  beforeAll(async () => {
    const socket = engine!.dockerHost.replace(/^unix:\/\//, '');
    proxy = await startDockerProxy(socket, await portForAnotherProcess());
    const container = await runDemoContainer(engine!.docker, {
      name: NAME,
      image: inject('demoImage') ?? '',
      port: await portForAnotherProcess(),
      env: { MONITOR_INTERVAL_MS: '60000' },
    });
    containerId = container.id;
  });
  afterAll(async () => {
    await removeContainer(engine!.docker, NAME).catch(() => undefined);
    await proxy?.stop();
  });

  it('runs the configuration the allowlist writes', () => {
    expect(readFileSync(`${PROJECT_ROOT}/${HAPROXY_CONFIG_FILE}`, 'utf8')).toBe(renderHaproxyConfig());
  });

  it("lets Medic's engine client list, inspect, read, watch and restart through it", async () => {
    const docker = createDockerClient(proxy.dockerHost);
    const runtime = new DockerEngineRuntime(docker, MANAGED);
    await docker.ping();
    expect((await runtime.listManaged()).map((c) => c.name)).toContain(NAME);
    const before = await runtime.inspect(NAME);
    expect(before?.running).toBe(true);
    expect(Array.isArray(await runtime.logs(NAME, 20))).toBe(true);
    expect(await runtime.resourceCounters(NAME)).toBeTruthy();
    const since = Date.now();
    await runtime.restart(NAME, { stopTimeoutMs: 5000 });
    const after = await waitFor('the restarted container', async () => {
      const info = await runtime.inspect(NAME);
      return info?.running && info.startedAt !== before?.startedAt ? info : undefined;
    });
    expect(after.startedAt).not.toBe(before?.startedAt);
    // The engine's event log, through the proxy, shows the restart.
    expect(await runtime.stopRequestedSince(containerId, since - 1000, 5000)).toBe(true);
  });

  it("lets the remedies' calls through: an image by id, exec, a create from a copy, rename, start, stop, remove", async () => {
    const runtime = new DockerEngineRuntime(createDockerClient(proxy.dockerHost), MANAGED);
    const report = await runtime.capabilities();
    expect(report.can).toEqual(expect.arrayContaining(['restart', 'recreate', 'exec']));
    // What the proxy refuses is not what the engine cannot do: no capability is missing because of it.
    expect(report.cannot.map((c) => c.why).join(' ')).not.toMatch(/socket proxy/);
    const source = await runtime.inspect(NAME);
    expect(await runtime.imageExists(source?.imageId ?? '')).toBe(true);
    const ran = await runtime.exec(containerId, ['/usr/local/bin/node', '-e', 'console.log(6 * 7)'], {
      timeoutMs: 10_000,
      maxOutputBytes: 1000,
    });
    expect(ran).toMatchObject({ exitCode: 0, output: '42\n', timedOut: false });
    expect(await runtime.execStatus(ran.execId)).toEqual({ running: false, exitCode: 0 });
    // A copy on the same image (it shares the host network: the original stops while the copy runs).
    await runtime.stop(containerId, { stopTimeoutMs: 5000 });
    const copy = await runtime.createFrom(containerId, {
      name: `${NAME}-copy`,
      imageId: source?.imageId ?? '',
    });
    try {
      await runtime.rename(copy, `${NAME}-copy2`);
      await runtime.start(copy);
      expect(await runtime.inspect(`${NAME}-copy2`)).toMatchObject({ id: copy, running: true });
      await runtime.stop(copy, { stopTimeoutMs: 5000 });
      await runtime.remove(copy);
      expect(await runtime.inspect(copy)).toBeUndefined();
    } finally {
      await removeContainer(engine!.docker, `${NAME}-copy2`).catch(() => undefined);
      await removeContainer(engine!.docker, `${NAME}-copy`).catch(() => undefined);
      await runtime.start(containerId);
    }
  });

  it('refuses every call no remedy needs, before it reaches the engine', async () => {
    const imageId = (await engine!.docker.getContainer(containerId).inspect()).Image;
    const refused: Array<[string, string]> = [
      ['POST', '/images/create?fromImage=alpine&tag=latest'],
      ['POST', '/v1.41/images/create?fromImage=alpine'],
      ['POST', '/build'],
      ['GET', '/volumes'],
      ['POST', '/volumes/create'],
      ['GET', `/containers/${containerId}/archive?path=/`],
      ['PUT', `/containers/${containerId}/archive?path=/`],
      ['GET', '/swarm'],
      ['POST', '/swarm/init'],
      ['GET', '/plugins'],
      ['GET', '/images/json'],
      ['GET', '/info'],
      ['POST', `/containers/${containerId}/attach`],
      ['POST', `/containers/${containerId}/kill`],
      ['POST', `/commit?container=${containerId}`],
      ['GET', `/containers/${containerId}/export`],
      ['POST', '/containers/prune'],
      ['POST', `/exec/${containerId}/resize`],
      // Images by id only, and only read.
      ['GET', '/images/alpine/json'],
      ['GET', `/images/${imageId.replace('sha256:', '')}/json`],
      ['DELETE', `/images/${imageId}`],
      ['POST', `/images/${imageId}/tag?repo=x`],
      ['GET', `/images/${imageId}/history`],
      // Ways around the list: another method, a dot-segment, an encoded slash, a doubled slash.
      ['PUT', `/containers/${containerId}/restart`],
      ['POST', '/containers/../images/create'],
      ['POST', `/containers/${containerId}/..%2F..%2Fimages%2Fcreate`],
      ['POST', '/containers/a%2F..%2F..%2Fimages/create'],
      ['GET', '//containers/json'],
    ];
    for (const [method, path] of refused) {
      const answer = await raw(method, path);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(answer.body).message, `${method} ${path}`).toMatch(/allowlist\.json/);
      expect(isAllowed(method, path), `the list's own matcher, ${method} ${path}`).toBe(false);
    }
    // Nothing was pulled by the refused calls.
    expect(await engine!.docker.listImages({ filters: { reference: ['alpine'] } })).toEqual([]);
  });

  it("agrees with the list's own matcher on what goes through", async () => {
    const allowed: Array<[string, string]> = [
      ['GET', '/_ping'],
      ['GET', '/v1.41/containers/json?all=1'],
      ['GET', `/containers/${NAME}/json`],
      ['GET', `/v1.41/containers/${containerId}/logs?stdout=1&tail=5`],
      ['GET', `/containers/${NAME}/stats?stream=false`],
      ['GET', `/images/${(await engine!.docker.getContainer(NAME).inspect()).Image}/json`],
    ];
    for (const [method, path] of allowed) {
      const answer = await raw(method, path);
      expect(answer.status, `${method} ${path}`).toBe(200);
      expect(isAllowed(method, path), `${method} ${path}`).toBe(true);
    }
    // A call the remedies will make reaches the engine (404: no such container), it is not refused here.
    const missing = await raw('POST', `/containers/${NAME}-missing/update`);
    expect(missing.status).toBe(404);
  });
});
