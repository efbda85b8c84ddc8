// A model provider: gets the prompt, returns its raw answer text. Validation is not its job.
import type { Prompt } from './prompt.js';

export interface ModelProvider {
  readonly name: 'gemini' | 'ollama';
  /** Why the provider will not be asked at all (e.g. no API key); undefined when it can be. */
  readonly unavailable?: string;
  ask(prompt: Prompt): Promise<string>;
}

/** One line for the trail: what went wrong, in the words an operator searches for. */
export function describeProviderError(err: unknown, timeoutMs: number): string {
  const e = err as {
    name?: string;
    message?: string;
    status?: number;
    status_code?: number;
    code?: string;
    cause?: { code?: string; name?: string; message?: string };
  };
  const status = e.status ?? e.status_code;
  if (typeof status === 'number') {
    const kind = status === 429 ? ' (rate limited)' : status >= 500 ? ' (server error)' : '';
    return `HTTP ${status}${kind}: ${oneLine(e.message ?? '')}`;
  }
  const names = [e.name, e.cause?.name];
  if (
    names.includes('TimeoutError') ||
    names.includes('AbortError') ||
    /aborted|timed? ?out/i.test(e.message ?? '')
  ) {
    return `timed out after ${timeoutMs} ms`;
  }
  const code = e.cause?.code ?? e.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code) return `${code}: ${oneLine(e.cause?.message ?? e.message ?? '')}`;
  return oneLine(e.message ?? String(err));
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

/** A fetch that gives up after `ms`, whatever the caller's own signal says. */
export function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => {
    const signals = [AbortSignal.timeout(ms), ...(init?.signal ? [init.signal] : [])];
    return fetch(input, { ...init, signal: AbortSignal.any(signals) });
  };
}
