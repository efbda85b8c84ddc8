// The `medic.health-url` label may only send Medic to the container itself
// (docs/decisions/health-url-names-the-container.md).
// No test here sends traffic beyond 127.0.0.1: fetch is spied on, and refused URLs must never reach it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DockerEngineRuntime, HEALTH_URL_LABEL, ProcessSupervisor } from '../../src/activities/containers.js';
import { gatherCoreEvidence } from '../../src/activities/diagnose/evidence.js';
import { probeHealthUrl } from '../../src/activities/health.js';
import { createActivities } from '../../src/activities/index.js';
import { LogNotifier } from '../../src/activities/notify.js';
import { loadConfig } from '../../src/config.js';
import { captureLogger, MANAGED, tempRunbook, testSettings } from '../support/medic.js';

const METADATA = 'http://169.254.169.254/latest/meta-data/';

/** A dockerode stand-in whose inspect answers `data`: enough for DockerEngineRuntime.inspect. */
function engineAnswering(data: Record<string, unknown>): Docker {
  const inspected = {
    Id: 'c0ffee',
    Name: '/svc',
    State: {
      Status: 'running',
      Running: true,
      StartedAt: '2030-01-01T00:00:00Z',
      ExitCode: 0,
      OOMKilled: false,
    },
    HostConfig: {},
    ...data,
  };
  return { getContainer: () => ({ inspect: async () => inspected }) } as unknown as Docker;
}

function bridgeContainer(url: string) {
  return {
    Config: { Labels: { 'medic.managed': 'true', [HEALTH_URL_LABEL]: url } },
    NetworkSettings: {
      IPAddress: '',
      Networks: { podman: { IPAddress: '10.88.0.5', GlobalIPv6Address: 'fd00::5' } },
    },
  };
}

let supervisor: ProcessSupervisor;

beforeAll(() => {
  supervisor = new ProcessSupervisor(MANAGED);
  supervisor.start({
    name: 'ssrf-svc',
    command: process.execPath,
    args: ['-e', 'setInterval(() => {}, 1000)'],
    labels: { 'medic.managed': 'true', [HEALTH_URL_LABEL]: METADATA },
  });
});
afterAll(async () => {
  await supervisor.stopAll();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('a medic.health-url label naming another host is never requested', () => {
  it('fails the health check with the reason, without a request to that host', async () => {
    // Were the URL fetched, this stand-in for the metadata service would answer 200: "healthy".
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('ami-id', { status: 200 }));
    const { logger } = captureLogger();
    const activities = createActivities({
      incidentSettings: testSettings(),
      runtime: supervisor,
      runbook: tempRunbook(),
      notifier: new LogNotifier(logger),
      logger,
    });

    const verifying = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
      activities.verifyHealth,
      { target: 'ssrf-svc' },
    );

    await expect(verifying).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/169\.254\.169\.254 is not loopback.*MEDIC_HEALTH_URL_HOSTS/),
    });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('the diagnosis notes the refused URL', async () => {
    const { evidence } = await gatherCoreEvidence(
      { target: 'ssrf-svc', alertType: 'crash', severity: 'high', logs: ['boom'] },
      supervisor,
    );
    expect(evidence.notes.join('\n')).toMatch(/health URL: .*169\.254\.169\.254.* was refused/);
    expect(evidence.observed.healthUrl).toBeUndefined();
  });

  it("allows loopback and the container's own addresses; anything else only through MEDIC_HEALTH_URL_HOSTS", async () => {
    const inspect = (
      url: string,
      data: Record<string, unknown> = bridgeContainer(url),
      hosts: string[] = [],
    ) => new DockerEngineRuntime(engineAnswering(data), MANAGED, { healthUrlHosts: hosts }).inspect('svc');

    expect(await inspect('http://10.88.0.5:8080/health')).toMatchObject({
      healthUrl: 'http://10.88.0.5:8080/health',
    });
    expect(await inspect('http://[fd00:0::5]/health')).toMatchObject({
      healthUrl: 'http://[fd00::5]/health',
    });
    expect(await inspect('http://127.0.0.1:8080/health')).toMatchObject({
      healthUrl: 'http://127.0.0.1:8080/health',
    });
    expect(await inspect('http://localhost:8080/health')).toMatchObject({
      healthUrl: 'http://localhost:8080/health',
    });
    for (const url of [
      METADATA,
      'http://10.88.0.6/health',
      'http://2852039166/', // 169.254.169.254 as one number
      'http://db.internal/admin',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_FLUSHALL',
      'not a url',
    ]) {
      const info = await inspect(url);
      expect(info?.healthUrl, url).toBeUndefined();
      expect(info?.healthUrlRefused, url).toMatch(/health URL/);
    }
    // A container on the host's network has no address of its own: it is reached on loopback.
    const hostNetwork = {
      ...bridgeContainer('http://127.0.0.1:8080/health'),
      NetworkSettings: { Networks: { host: {} } },
    };
    expect(await inspect('', hostNetwork)).toMatchObject({ healthUrl: 'http://127.0.0.1:8080/health' });
    const hosts = loadConfig({ MEDIC_HEALTH_URL_HOSTS: 'DB.internal, 10.0.0.9' }).healthUrlHosts;
    expect(await inspect('http://db.internal/health', undefined, hosts)).toMatchObject({
      healthUrl: 'http://db.internal/health',
    });
    expect(await inspect('http://10.0.0.9/health', undefined, hosts)).toMatchObject({
      healthUrl: 'http://10.0.0.9/health',
    });
  });

  it('MEDIC_HEALTH_URL_HOSTS takes host names and addresses only', () => {
    expect(loadConfig({}).healthUrlHosts).toEqual([]);
    expect(loadConfig({ MEDIC_HEALTH_URL_HOSTS: 'a.example, [::1] ,10.0.0.1' }).healthUrlHosts).toEqual([
      'a.example',
      '0:0:0:0:0:0:0:1',
      '10.0.0.1',
    ]);
    expect(() => loadConfig({ MEDIC_HEALTH_URL_HOSTS: 'http://a.example/' })).toThrow(
      /MEDIC_HEALTH_URL_HOSTS/,
    );
  });
});

describe('the health probe', () => {
  let elsewhere: Server;
  let redirecting: Server;
  let elsewhereHits = 0;
  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  beforeAll(async () => {
    elsewhere = createServer((_req, res) => {
      elsewhereHits += 1;
      res.end('ok');
    });
    const elsewherePort = await listen(elsewhere);
    redirecting = createServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${elsewherePort}/` }).end();
    });
  });
  afterAll(() => {
    elsewhere.close();
    redirecting.close();
  });

  it('does not follow a redirect: it could lead where the label may not', async () => {
    const port = await listen(redirecting);
    const probe = await probeHealthUrl(`http://127.0.0.1:${port}/health`, 2000);
    expect(probe).toMatchObject({ ok: false, detail: expect.stringContaining('answered 302') });
    expect(elsewhereHits).toBe(0);
  });
});
