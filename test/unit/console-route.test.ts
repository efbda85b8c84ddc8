// The approval console's files as the API serves them: found beside the module, each with the strict
// CSP, and only files of its own referenced. No Temporal is needed: nothing here reads an incident.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { CONSOLE_CSP } from '../../src/api/console.js';
import { type ServedApp, serveApp } from '../support/api.js';
import { captureLogger, testSettings } from '../support/medic.js';

let api: ServedApp;

beforeAll(async () => {
  api = await serveApp(
    createApp({
      // The gateway is only constructed; no route used here calls Temporal.
      client: {} as Client,
      config: {
        temporal: { address: 'unused', namespace: 'medic-ns', taskQueue: 'unused' },
        temporalUiUrl: 'http://127.0.0.1:18233',
        webhookSecret: 'console-test-secret-0123456789',
        approverTokens: [],
        incident: testSettings(),
      },
      logger: captureLogger().logger,
    }),
  );
});

afterAll(async () => {
  await api?.close();
});

describe('the approval console route', () => {
  it('serves the page with a CSP that allows only its own files and this API', async () => {
    for (const path of ['/console', '/console/']) {
      const res = await fetch(`${api.base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(await res.text()).toContain('<h1>Medic · approvals</h1>');
    }
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
  });

  it('references only its own files, and serves each with its type and the CSP', async () => {
    const html = await (await fetch(`${api.base}/console`)).text();
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.filter((r) => r !== 'data:,').sort()).toEqual([
      '/console/console.css',
      '/console/console.js',
    ]);
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    for (const [path, type] of [
      ['/console/console.js', 'text/javascript; charset=utf-8'],
      ['/console/console.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${api.base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });

  it('tells the page where the Temporal Web UI is and which namespace to link', async () => {
    const res = await fetch(`${api.base}/console/settings.json`);
    expect(await res.json()).toEqual({ temporalUiUrl: 'http://127.0.0.1:18233', namespace: 'medic-ns' });
  });

  it('serves nothing else under /console', async () => {
    const res = await fetch(`${api.base}/console/../package.json`);
    expect(res.status).toBe(404);
    expect((await fetch(`${api.base}/console/index.html.bak`)).status).toBe(404);
  });
});
