// Why a request to Temporal failed, and what its caller should do: wait for Temporal (an outage: the API
// answers 503, the watch keeps its cursor and retries) or not (Temporal refused this very request, or Medic
// has a bug: the API answers 500, the watch skips and reports the one event), so that neither an alert
// storm's sender retries a bug forever nor one event Temporal will never accept blinds the watch.

/**
 * - `unavailable`: Temporal (or the connection to it) is down, slow or refusing everyone: the same
 *   event will go through later, so keep the cursor and retry with backoff, never skip.
 * - `refused`: Temporal answered, and the answer is no for this request (payload too large, invalid
 *   argument): retrying the same event can never succeed.
 * - `unknown`: anything else (a bug in handling this one event, an engine error): worth a few tries,
 *   then skipped like a refusal.
 */
export type RaiseFailureKind = 'unavailable' | 'refused' | 'unknown';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

// Access problems and a missing namespace are not about one event: skipping would drop every fault
// until an operator fixes them, so they wait like an outage (and the warning says so).
const RETRY_LATER: ReadonlySet<number> = new Set([
  GRPC.CANCELLED,
  GRPC.DEADLINE_EXCEEDED,
  GRPC.NOT_FOUND,
  GRPC.ABORTED,
  GRPC.UNAVAILABLE,
  GRPC.PERMISSION_DENIED,
  GRPC.UNAUTHENTICATED,
]);
const NEVER_FOR_THIS_REQUEST: ReadonlySet<number> = new Set([
  GRPC.INVALID_ARGUMENT,
  GRPC.ALREADY_EXISTS,
  GRPC.FAILED_PRECONDITION,
  GRPC.OUT_OF_RANGE,
  GRPC.UNIMPLEMENTED,
]);

/** Node's socket errors: the far end (Temporal or the engine) is not reachable right now. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT', // a unix socket that is not there (yet)
]);

/** Said by Temporal or gRPC about a request too large to accept, whatever the status code. */
const TOO_LARGE = /exceeds? (the )?(blob )?size limit|larger than max|too large|size limit/i;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  details?: unknown;
  metadata?: unknown;
  cause?: unknown;
}

/** The error and the causes it wraps (the gateway wraps gRPC errors in its own), outermost first. */
function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = err;
  while (current && typeof current === 'object' && chain.length < 8 && !chain.includes(current)) {
    chain.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return chain;
}

const isGrpcStatus = (e: ErrorLike): e is ErrorLike & { code: number } =>
  typeof e.code === 'number' && ('metadata' in e || 'details' in e);

function kindOf(e: ErrorLike): RaiseFailureKind | undefined {
  const text = `${String(e.message ?? '')} ${String(e.details ?? '')}`;
  if (isGrpcStatus(e)) {
    if (TOO_LARGE.test(text)) return 'refused';
    // Temporal's rate limits answer RESOURCE_EXHAUSTED too: those pass with time.
    if (e.code === GRPC.RESOURCE_EXHAUSTED || RETRY_LATER.has(e.code)) return 'unavailable';
    if (NEVER_FOR_THIS_REQUEST.has(e.code)) return 'refused';
    return undefined;
  }
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return 'unavailable';
  // The SDK's own errors: its connection is gone, or a payload could not be encoded at all.
  if (e.name === 'TransportError' || e.name === 'ConnectionError') return 'unavailable';
  if (e.name === 'PayloadConverterError' || e.name === 'ValueError') return 'refused';
  return undefined;
}

/** What the watch should do about an alert it could not raise; the innermost explanation wins. */
export function classifyRaiseFailure(err: unknown): RaiseFailureKind {
  const chain = causeChain(err);
  for (const e of [...chain].reverse()) {
    const kind = kindOf(e);
    if (kind) return kind;
  }
  return 'unknown';
}

/** One line for the operator: the innermost message, which names the real reason. */
export function describeRaiseFailure(err: unknown): string {
  const chain = causeChain(err);
  const innermost = [...chain].reverse().find((e) => typeof e.message === 'string' && e.message !== '');
  const text = innermost ? String(innermost.message) : String(err);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
