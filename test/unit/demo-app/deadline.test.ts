import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../../demo-app/src/deadline.js';

describe('withDeadline', () => {
  it('aborts a request that gets no answer with a TimeoutError, even under garbage collection', async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    // Garbage the heap while waiting: an AbortSignal.timeout() reached only through
    // AbortSignal.any() would be collected here and never fire.
    const churn = setInterval(() => Array.from({ length: 50_000 }, (_, i) => ({ i })), 5);
    try {
      const outcome = await withDeadline(200, new AbortController().signal, (signal) =>
        fetch(url, { signal }),
      ).then(
        () => 'answered',
        (err: Error) => err.name,
      );
      expect(outcome).toBe('TimeoutError');
    } finally {
      clearInterval(churn);
      server.closeAllConnections();
      server.close();
    }
  });

  it('passes cancellation through with its reason', async () => {
    const cancel = new AbortController();
    const running = withDeadline(
      60_000,
      cancel.signal,
      (signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    cancel.abort(new Error('shutting down'));
    await expect(running).rejects.toThrow('shutting down');
  });

  it('returns what the task returns', async () => {
    expect(await withDeadline(60_000, new AbortController().signal, async () => 42)).toBe(42);
  });
});
