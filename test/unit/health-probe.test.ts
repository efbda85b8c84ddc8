// The health URL's answer goes into histories, the API, reports, notifications and prompts: a healthy
// answer leaves its body out, an unhealthy one keeps a short hint with secrets redacted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHealthUrl } from '../../src/activities/health.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/healthy') {
      res.writeHead(200).end('{"ok":true,"dsn":"postgres://app:s3cr3t-pass@db:5432/app"}');
    } else {
      res
        .writeHead(503)
        .end(`database down: password=hunter22 token=abcdefghijkl ${'x'.repeat(2000)} tail-not-shown`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the health probe', () => {
  it('leaves the body of a healthy answer out', async () => {
    const probe = await probeHealthUrl(`${base}/healthy`, 2000);
    expect(probe.ok).toBe(true);
    expect(probe.detail).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/healthy answered 200 in \d+ ms$/);
  });

  it('keeps a redacted, bounded hint of an unhealthy answer', async () => {
    const probe = await probeHealthUrl(`${base}/sick`, 2000);
    expect(probe.ok).toBe(false);
    expect(probe.detail).toContain('answered 503');
    expect(probe.detail).toContain('database down: password=[REDACTED] token=[REDACTED]');
    expect(probe.detail).not.toContain('hunter22');
    expect(probe.detail).not.toContain('abcdefghijkl');
    expect(probe.detail).not.toContain('tail-not-shown');
  });
});
