// The compose `monitoring` profile's configuration, checked by Prometheus's and Alertmanager's own tools
// (Debian's prometheus and prometheus-alertmanager, installed by `npm run setup:docker`): the files parse,
// and the demo's alert rules fire on the series the demo app exports (deploy/prometheus/demo-rules.test.yml).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stopProcess } from '../../scripts/processes.js';
import { MAX_ALERTS_PER_NOTIFICATION } from '../../src/domain/alertmanager.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';

const run = promisify(execFile);
const cwd = new URL('../../deploy/', import.meta.url).pathname;
const tools = ['/usr/bin/promtool', '/usr/bin/amtool', '/usr/bin/prometheus-alertmanager'];
const missing = tools.filter((t) => !existsSync(t));
if (missing.length > 0 && process.env.CI)
  throw new Error(`missing ${missing.join(', ')}: run npm run setup:docker`);
if (missing.length > 0)
  console.warn(`[monitoring] skipping: ${missing.join(', ')} not installed (npm run setup:docker)`);

async function check(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd });
    return stdout + stderr;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('the shipped Alertmanager config', () => {
  it('sends fewer alerts a message than Medic accepts: a refused group is dropped for good', () => {
    const config = readFileSync(new URL('alertmanager/alertmanager.yml', `file://${cwd}`), 'utf8');
    const receivers = [...config.matchAll(/^\s+- url: .*$/gm)];
    const limits = [...config.matchAll(/^\s+max_alerts: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(limits).toHaveLength(receivers.length);
    // 0 means unlimited to Alertmanager.
    for (const limit of limits) expect(limit).toBeGreaterThan(0);
    for (const limit of limits) expect(limit).toBeLessThanOrEqual(MAX_ALERTS_PER_NOTIFICATION / 2);
  });
});

describe.skipIf(missing.length > 0)('monitoring profile configuration', () => {
  it('Prometheus reads its config (token files exist only in the container) and the alert rules', async () => {
    expect(
      await check('promtool', ['check', 'config', '--syntax-only', 'prometheus/prometheus.yml']),
    ).toMatch(/SUCCESS/);
    expect(await check('promtool', ['check', 'rules', 'prometheus/rules/demo.yml'])).toMatch(
      /SUCCESS: 4 rules/,
    );
  });

  it("the demo's alert rules fire on the demo app's series, with severities Medic knows", async () => {
    expect(await check('promtool', ['test', 'rules', 'prometheus/demo-rules.test.yml'])).toMatch(/SUCCESS/);
  });

  it('Alertmanager reads its config, with Medic as the receiver', async () => {
    const out = await check('amtool', ['check-config', 'alertmanager/alertmanager.yml']);
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/1 receivers/);
  });

  it("Alertmanager's API asks for basic auth, and the web config the docs make is valid", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'medic-alertmanager-'));
    const password = randomBytes(18).toString('hex');
    // The bcrypt hash as the deployment page makes it where htpasswd is missing.
    const { stdout: hash } = await run('python3', [
      '-W',
      'ignore',
      '-c',
      'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
      password,
    ]);
    const webConfig = path.join(dir, 'alertmanager-web.yml');
    writeFileSync(webConfig, `basic_auth_users:\n  prometheus: ${hash.trim()}\n`);
    expect(await check('promtool', ['check', 'web-config', webConfig])).toMatch(/SUCCESS/);
    const port = await portForAnotherProcess();
    const child = spawn(
      '/usr/bin/prometheus-alertmanager',
      [
        '--config.file=alertmanager/alertmanager.yml',
        `--web.config.file=${webConfig}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        `--storage.path=${dir}`,
      ],
      { cwd, stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}/api/v2`;
    const basic = (user: string, pass: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
    });
    const alert = JSON.stringify([{ labels: { alertname: 'crash', container: 'payments' } }]);
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: alert,
      }).then((r) => r.status);
    try {
      await waitFor(
        'Alertmanager',
        async () => (await fetch(`${url}/status`).catch(() => undefined))?.status,
      );
      expect((await fetch(`${url}/status`)).status).toBe(401);
      expect(await post({})).toBe(401);
      expect(await post(basic('prometheus', 'wrong'))).toBe(401);
      expect(await post(basic('prometheus', password))).toBe(200);
    } finally {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
