// Who may read incidents, reports, guards and metrics: viewer tokens, against the real dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, testSettings } from '../support/medic.js';
import { connectDevServer, type DevServerConnection, uniqueTaskQueue } from '../support/temporal.js';

const SECRET = 'test-webhook-secret-0123456789';
const APPROVER = { name: 'alice', token: 'alice-token-0123456789abcdef' };
const VIEWER = { name: 'dashboard', token: 'dashboard-token-0123456789ab' };
const READS = [
  '/incidents',
  '/incidents/incident-read-access-crash',
  '/incidents/incident-read-access-crash/report',
  '/guards/read-access',
  '/metrics',
];

let temporal: DevServerConnection;
let guarded: ServedApp;
let open: ServedApp;

function serve(viewerTokens: Array<{ name: string; token: string }>): Promise<ServedApp> {
  const config = {
    temporal: { address: 'unused', namespace: 'default', taskQueue: uniqueTaskQueue('read') },
    webhookSecret: SECRET,
    approverTokens: [APPROVER],
    viewerTokens,
    incident: testSettings(),
  };
  return serveApp(createApp({ client: temporal.client, config, logger: captureLogger().logger }));
}

const get = (app: ServedApp, path: string, token?: string) =>
  fetch(`${app.base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  temporal = await connectDevServer();
  guarded = await serve([VIEWER]);
  open = await serve([]);
});

afterAll(async () => {
  await guarded?.close();
  await open?.close();
  await temporal?.close();
});

describe('read endpoints need a viewer token', () => {
  it('answers 401 JSON to a read without a token, 403 to a wrong one', async () => {
    for (const path of READS) {
      const anonymous = await get(guarded, path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toContain('Bearer');
      const body = (await anonymous.json()) as { error: { code: string; message: string } };
      expect(body.error.code, path).toBe('unauthenticated');
      const wrong = await get(guarded, path, 'not-a-token-of-anyone-at-all');
      expect(wrong.status, path).toBe(403);
    }
  });

  it("lets a viewer's or an approver's token read; /healthz stays open", async () => {
    for (const token of [VIEWER.token, APPROVER.token]) {
      for (const path of READS) {
        const response = await get(guarded, path, token);
        // An incident or guard that does not exist is a 404: the request got past the door.
        expect([200, 404], path).toContain(response.status);
      }
      expect((await get(guarded, '/incidents', token)).status).toBe(200);
      expect((await get(guarded, '/metrics', token)).status).toBe(200);
    }
    expect((await get(guarded, '/healthz')).status).toBe(200);
  });

  it('a viewer token never approves', async () => {
    const response = await fetch(`${guarded.base}/incidents/incident-read-access-crash/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VIEWER.token}` },
    });
    expect(response.status).toBe(403);
  });

  it('without viewer tokens (loopback only), reads stay open', async () => {
    expect((await get(open, '/incidents')).status).toBe(200);
    expect((await get(open, '/metrics')).status).toBe(200);
  });

  it('refuses to start on a non-loopback address without viewer tokens, saying what to set', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'medic.internal']) {
      expect(() => loadConfig({ MEDIC_HOST: host }), host).toThrow(/MEDIC_VIEWER_TOKENS=name:token/);
    }
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      expect(loadConfig({ MEDIC_HOST: host }).viewerTokens, host).toEqual([]);
    }
    const config = loadConfig({
      MEDIC_HOST: '0.0.0.0',
      MEDIC_VIEWER_TOKENS: `${VIEWER.name}:${VIEWER.token}`,
    });
    expect(config.viewerTokens).toEqual([VIEWER]);
  });

  it('refuses a viewer token that opens another door', () => {
    expect(() =>
      loadConfig({
        MEDIC_APPROVER_TOKENS: `alice:${APPROVER.token}`,
        MEDIC_VIEWER_TOKENS: `dash:${APPROVER.token}`,
      }),
    ).toThrow(/viewer token is also used in MEDIC_APPROVER_TOKENS/);
    expect(() =>
      loadConfig({ MEDIC_WEBHOOK_SECRET: VIEWER.token, MEDIC_VIEWER_TOKENS: `dash:${VIEWER.token}` }),
    ).toThrow(/MEDIC_WEBHOOK_SECRET/);
  });
});
