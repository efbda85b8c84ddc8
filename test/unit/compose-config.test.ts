// docker-compose.yml passes optional settings as `${NAME:-}`: an empty string when the operator leaves
// them unset. Medic must read every such empty value as "unset", or the containers refuse to start.
import { readFileSync } from 'node:fs';
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
