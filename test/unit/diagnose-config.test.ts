import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('diagnosis configuration', () => {
  it('tries Gemini then Ollama by default, and carries the confidence threshold into the policy', () => {
    const config = loadConfig({});
    expect(config.diagnosis.gemini).toMatchObject({
      apiKey: undefined,
      model: 'gemini-2.5-flash',
      timeoutMs: 20_000,
    });
    expect(config.diagnosis.ollama).toMatchObject({ host: 'http://127.0.0.1:11434', model: 'llama3.2:3b' });
    expect(config.diagnosis.promptLogChars).toBe(2000);
    expect(config.incident.policy.minConfidence).toBe(0.5);
  });

  it('reads every diagnosis variable', () => {
    const config = loadConfig({
      MEDIC_PROVIDERS: 'ollama',
      GEMINI_API_KEY: 'k',
      OLLAMA_HOST: 'http://ollama:11434',
      MEDIC_OLLAMA_MODEL: 'qwen2.5:0.5b',
      MEDIC_PROVIDER_TIMEOUT: '5s',
      MEDIC_MIN_CONFIDENCE: '0.7',
      MEDIC_PROMPT_LOG_CHARS: '500',
      MEDIC_RUNBOOK_MIN_SUCCESS_RATE: '0.9',
      MEDIC_RUNBOOK_MIN_USES: '3',
    });
    expect(config.diagnosis.gemini).toBeUndefined();
    expect(config.diagnosis.ollama).toEqual({
      host: 'http://ollama:11434',
      model: 'qwen2.5:0.5b',
      timeoutMs: 5000,
    });
    expect(config.diagnosis.runbookTrust).toEqual({ minSuccessRate: 0.9, minUses: 3 });
    expect(config.diagnosis.promptLogChars).toBe(500);
    expect(config.incident.policy.minConfidence).toBe(0.7);
    expect(loadConfig({ MEDIC_PROVIDERS: '' }).diagnosis).toMatchObject({
      gemini: undefined,
      ollama: undefined,
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ MEDIC_PROVIDERS: 'gemini,gpt' })).toThrow(
      /MEDIC_PROVIDERS: unknown provider gpt/,
    );
    expect(() => loadConfig({ MEDIC_MIN_CONFIDENCE: '2' })).toThrow(/MEDIC_MIN_CONFIDENCE/);
    expect(() => loadConfig({ MEDIC_GEMINI_BASE_URL: 'not a url' })).toThrow(/MEDIC_GEMINI_BASE_URL/);
  });
});
