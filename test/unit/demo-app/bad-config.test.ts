// The fault a restart cannot fix: bad-config lives in the settings file, so a new process (the
// same thing a container restart gives) is just as broken, until the file is fixed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoApp, type DemoApp } from '../../../demo-app/src/app.js';
import { loadConfig } from '../../../demo-app/src/config.js';
import { startFakeMedic, waitFor } from './fake-medic.js';

const SECRET = 'integration-test-secret-0123456789';
const running: DemoApp[] = [];
afterEach(async () => {
  for (const demo of running.splice(0)) await demo.close();
});

async function start(env: Record<string, string>) {
  const demo = createDemoApp(
    loadConfig({
      CONTAINER_NAME: 'bad-config-under-test',
      MONITOR_INTERVAL_MS: '100',
      EVENT_LOOP_LAG_THRESHOLD_MS: '10000',
      MEMORY_THRESHOLD_MB: '4000',
      ...env,
    }),
    { write: () => undefined },
  );
  running.push(demo);
  const { port } = await demo.listen(0, '127.0.0.1');
  return { demo, base: `http://127.0.0.1:${port}` };
}

describe('bad-config', () => {
  it('breaks /health through the settings file, survives a new process, and heals when cleared', async () => {
    const medic = await startFakeMedic([202]);
    try {
      const env = {
        DEMO_SETTINGS_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'demo-settings-')), 'settings.json'),
        MEDIC_WEBHOOK_URL: medic.url,
        MEDIC_WEBHOOK_SECRET: SECRET,
      };
      const first = await start(env);
      expect((await fetch(`${first.base}/health`)).status).toBe(200);
      expect((await fetch(`${first.base}/trigger/bad-config`, { method: 'POST' })).status).toBe(202);
      const health = await fetch(`${first.base}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'degraded', reasons: ['invalid configuration'] });

      await waitFor('the bad-config alert', () =>
        medic.received.some((r) => r.json.alert_type === 'bad-config'),
      );
      const alert = medic.received.find((r) => r.json.alert_type === 'bad-config');
      expect(alert?.json.severity).toBe('medium');
      const messages = ((alert?.json.logs ?? []) as string[]).map(
        (l) => JSON.parse(l) as { msg: string; problem?: string },
      );
      expect(messages).toContainEqual(
        expect.objectContaining({
          msg: 'invalid configuration: refusing to serve orders',
          problem: expect.stringContaining('db.poolSize'),
        }),
      );

      // "Restart": the process goes, a new one starts with the same settings file.
      await first.demo.close();
      running.splice(running.indexOf(first.demo), 1);
      const second = await start(env);
      expect((await fetch(`${second.base}/health`)).status).toBe(503);
      const root = (await (await fetch(`${second.base}/`)).json()) as { active_faults: string[] };
      expect(root.active_faults).toContain('bad-config');

      expect((await fetch(`${second.base}/trigger/bad-config`, { method: 'DELETE' })).status).toBe(200);
      expect((await fetch(`${second.base}/health`)).status).toBe(200);
    } finally {
      await medic.close();
    }
  });
});
