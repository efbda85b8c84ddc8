// A request deadline that always fires.

/**
 * Runs `task` with a signal that aborts with a TimeoutError after `ms`, or when `cancel` aborts.
 *
 * A plain timer on purpose: on Node 20 a signal from AbortSignal.timeout() that is only reachable
 * through AbortSignal.any() can be garbage-collected before it fires, and the request then never
 * times out (seen with the memory-leak fault, where the hang probe stopped timing out).
 */
export async function withDeadline<T>(
  ms: number,
  cancel: AbortSignal,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')),
    ms,
  );
  const onCancel = () => controller.abort(cancel.reason);
  if (cancel.aborted) onCancel();
  else cancel.addEventListener('abort', onCancel, { once: true });
  try {
    return await task(controller.signal);
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
}
