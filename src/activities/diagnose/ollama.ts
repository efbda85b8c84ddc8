// A local model through the `ollama` client: /api/chat with `format` as the answer's JSON schema,
// temperature 0 and a timeout.
import { Ollama } from 'ollama';
import { fetchWithTimeout, type ModelProvider } from './provider.js';
import type { OllamaSettings } from './settings.js';
import { ANSWER_JSON_SCHEMA } from './validate.js';

export function createOllamaProvider(settings: OllamaSettings): ModelProvider {
  const client = new Ollama({ host: settings.host, fetch: fetchWithTimeout(settings.timeoutMs) });
  return {
    name: 'ollama',
    async ask(prompt) {
      const response = await client.chat({
        model: settings.model,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        format: ANSWER_JSON_SCHEMA as unknown as Record<string, unknown>,
        stream: false,
        options: { temperature: 0 },
      });
      const text = response.message?.content;
      if (!text) throw new Error('empty answer');
      return text;
    },
  };
}
