// Gemini through @google/genai: JSON response schema, temperature 0, a timeout, no client retries
// (a failure falls through to the next provider instead of waiting out a backoff).
import { GoogleGenAI } from '@google/genai';
import type { ModelProvider } from './provider.js';
import type { GeminiSettings } from './settings.js';
import { ANSWER_JSON_SCHEMA } from './validate.js';

export function createGeminiProvider(settings: GeminiSettings): ModelProvider {
  if (!settings.apiKey) {
    return {
      name: 'gemini',
      unavailable: 'no API key (set GEMINI_API_KEY)',
      ask: () => Promise.reject(new Error('no API key')),
    };
  }
  const client = new GoogleGenAI({
    apiKey: settings.apiKey,
    httpOptions: {
      timeout: settings.timeoutMs,
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
    },
  });
  return {
    name: 'gemini',
    async ask(prompt) {
      const response = await client.models.generateContent({
        model: settings.model,
        contents: [{ role: 'user', parts: [{ text: prompt.user }] }],
        config: {
          systemInstruction: prompt.system,
          temperature: 0,
          responseMimeType: 'application/json',
          responseJsonSchema: ANSWER_JSON_SCHEMA,
          abortSignal: AbortSignal.timeout(settings.timeoutMs),
        },
      });
      const text = response.text;
      if (!text) {
        const reason = response.candidates?.[0]?.finishReason ?? response.promptFeedback?.blockReason;
        throw new Error(`empty answer${reason ? ` (${reason})` : ''}`);
      }
      return text;
    },
  };
}
