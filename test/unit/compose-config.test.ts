// docker-compose.yml passes optional settings as `${NAME:-}`: an empty string when the operator leaves
// them unset. Medic must read every such empty value as "unset", or the containers refuse to start.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');

describe('docker-compose.yml and Medic settings', () => {
  it('starts with every optional setting left empty, as compose passes it', () => {
    const empty = [...compose.matchAll(/^\s+([A-Z][A-Z0-9_]*): \$\{[A-Z0-9_]+:-\}$/gm)].map(
      (m) => m[1] as string,
    );
    const medicSettings = empty.filter((name) => /^(MEDIC_|TEMPORAL_|GEMINI_|OLLAMA_)/.test(name));
    expect(medicSettings).toEqual(
      expect.arrayContaining(['OLLAMA_HOST', 'GEMINI_API_KEY', 'MEDIC_PROVIDERS']),
    );
    const env = Object.fromEntries(medicSettings.map((name) => [name, '']));
    const config = loadConfig(env);
    expect(config.diagnosis.ollama).toBeUndefined(); // MEDIC_PROVIDERS empty: the runbook and the rules only
    expect(loadConfig({ ...env, MEDIC_PROVIDERS: 'ollama' }).diagnosis.ollama?.host).toBe(
      'http://127.0.0.1:11434',
    );
  });
});

const run = promisify(execFile);
const haveCompose = existsSync('/usr/bin/docker-compose');
if (!haveCompose && process.env.CI)
  throw new Error('docker-compose is not installed: run npm run setup:docker');

/** `docker-compose config` of the given files, every profile on, resolved as compose itself resolves them. */
async function resolved(files: string[], envFile?: string): Promise<string> {
  const args = [...(envFile ? ['--env-file', envFile] : []), ...files.flatMap((f) => ['-f', f])];
  const { stdout } = await run('docker-compose', [...args, '--profile', 'monitoring', 'config'], {
    cwd: new URL('../../', import.meta.url).pathname,
  });
  return stdout;
}

/** The services of a resolved file whose volumes mount the engine socket (scans compose's normalised YAML). */
function servicesMountingSocket(config: string): string[] {
  const found = new Set<string>();
  let inServices = false;
  let service = '';
  for (const line of config.split('\n')) {
    if (/^\S/.test(line)) inServices = line.startsWith('services:');
    const name = /^ {2}([\w-]+):$/.exec(line);
    if (inServices && name) service = name[1] as string;
    if (inServices && /docker\.sock/.test(line) && /:\/var\/run\/docker\.sock/.test(line)) found.add(service);
  }
  return [...found];
}

describe.skipIf(!haveCompose)('docker-compose files, resolved by docker-compose', () => {
  it('only the worker mounts the engine socket, in every profile, alone, with .env.example and with the host override', async () => {
    for (const [files, envFile] of [
      [['docker-compose.yml'], undefined],
      [['docker-compose.yml', 'docker-compose.override.yml'], '.env.example'],
      [['docker-compose.yml', 'docker-compose.host-network.yml'], '.env.example'],
    ] as const) {
      const config = await resolved([...files], envFile);
      expect(config).toMatch(/grafana:/); // the monitoring profile is in
      expect(servicesMountingSocket(config), files.join(' + ')).toEqual(['medic-worker']);
    }
  });

  it('publishes no port under host networking, and only on loopback by default', async () => {
    const host = await resolved(['docker-compose.yml', 'docker-compose.host-network.yml'], '.env.example');
    expect(host).not.toMatch(/^\s+ports:/m);
    const published = await resolved(['docker-compose.yml', 'docker-compose.override.yml'], '.env.example');
    // Normalised short syntax: `- <host ip>:<published>:<target>/tcp`.
    const hostIps = [...published.matchAll(/^ {4}- ([\d.]+):\d+:\d+\/tcp$/gm)].map((m) => m[1]);
    expect(hostIps.length).toBeGreaterThanOrEqual(7);
    expect(new Set(hostIps)).toEqual(new Set(['127.0.0.1']));
  });
});
