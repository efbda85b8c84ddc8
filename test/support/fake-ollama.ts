// Ollama's /api/chat wire format (non-streaming), for the `ollama` client pointed here with `host`.
import { type Behaviour, type FakeModelServer, startFakeModelServer } from './fake-model-server.js';

export interface FakeOllama extends FakeModelServer {
  answer(value: unknown): void;
  /** Ollama's error body (`{ error }`) with this HTTP status. */
  fail(status: number, message?: string): void;
  hang(): void;
}

export async function startFakeOllama(): Promise<FakeOllama> {
  const server = await startFakeModelServer({
    matches: (method, path) => method === 'POST' && path === '/api/chat',
    wrapAnswer: (text, request) => ({
      model: (request.body as { model?: string })?.model ?? 'fake',
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: text },
      done: true,
      done_reason: 'stop',
      total_duration: 1_000_000,
      eval_count: 20,
    }),
  });
  const set = (b: Behaviour) => server.behave(b);
  return {
    ...server,
    answer: (value) =>
      set({ kind: 'answer', text: typeof value === 'string' ? value : JSON.stringify(value) }),
    fail: (status, message = 'fake failure') => set({ kind: 'status', status, body: { error: message } }),
    hang: () => set({ kind: 'hang' }),
  };
}
