// Gemini's generateContent wire format (v1beta), for @google/genai pointed here with httpOptions.baseUrl.
import { type Behaviour, type FakeModelServer, startFakeModelServer } from './fake-model-server.js';

export interface FakeGemini extends FakeModelServer {
  /** The model replies with this JSON (or text). */
  answer(value: unknown): void;
  /** Gemini's error envelope with this HTTP status. */
  fail(status: number, message?: string): void;
  hang(): void;
  garbage(): void;
  /** The prompt text of a recorded request: system instruction and user content. */
  promptOf(index: number): { system: string; user: string };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export async function startFakeGemini(): Promise<FakeGemini> {
  const server = await startFakeModelServer({
    matches: (method, path) => method === 'POST' && /^\/v1beta\/models\/[^/]+:generateContent$/.test(path),
    wrapAnswer: (text, request) => ({
      candidates: [
        {
          content: { role: 'model', parts: [{ text }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 120 },
      modelVersion: /models\/([^:]+)/.exec(request.path)?.[1] ?? 'fake',
    }),
  });
  const set = (b: Behaviour) => server.behave(b);
  return {
    ...server,
    answer: (value) =>
      set({ kind: 'answer', text: typeof value === 'string' ? value : JSON.stringify(value) }),
    fail: (status, message = 'fake failure') =>
      set({
        kind: 'status',
        status,
        body: { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } },
      }),
    hang: () => set({ kind: 'hang' }),
    garbage: () =>
      set({ kind: 'raw', status: 200, contentType: 'application/json', body: '{"candidates": [tr' }),
    promptOf(index) {
      const body = server.requests[index]?.body as {
        contents?: Array<{ parts?: Array<{ text?: string }> }>;
        systemInstruction?: { parts?: Array<{ text?: string }> };
      };
      return {
        system: body?.systemInstruction?.parts?.map((p) => p.text).join('') ?? '',
        user:
          body?.contents
            ?.flatMap((c) => c.parts ?? [])
            .map((p) => p.text)
            .join('') ?? '',
      };
    },
  };
}
