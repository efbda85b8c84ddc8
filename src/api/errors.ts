// JSON errors everywhere: `{ "error": { "code", "message", "details"? } }`. No stack traces leave.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import { describeZodError } from '../domain/alert.js';
import type { Logger } from '../logger.js';
import {
  DecisionTimeoutError,
  GuardNotFoundError,
  IncidentNotFoundError,
  InvalidDecisionError,
  NotAwaitingApprovalError,
  TemporalUnavailableError,
} from '../temporal/errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A path parameter that must match `pattern`; 400 with `code` and `message` otherwise. */
export function pathParam(
  raw: string | string[] | undefined,
  pattern: RegExp,
  code: string,
  message: string,
): string {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value || !pattern.test(value)) throw new HttpError(400, code, message);
  return value;
}

/** A body parsed with `schema`; 400 with `code`, `message` and each wrong field otherwise. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, code: string, message: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, code, message, describeZodError(parsed.error));
  return parsed.data;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** What the Temporal client's errors mean to an HTTP caller; undefined for anything else. */
function fromTemporal(err: unknown): HttpError | undefined {
  if (err instanceof TemporalUnavailableError) {
    return new HttpError(503, 'temporal_unavailable', err.message, undefined, {
      'Retry-After': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof IncidentNotFoundError) return new HttpError(404, 'incident_not_found', err.message);
  if (err instanceof GuardNotFoundError) return new HttpError(404, 'guard_not_found', err.message);
  if (err instanceof NotAwaitingApprovalError)
    return new HttpError(409, 'not_awaiting_approval', err.message, { status: err.status });
  if (err instanceof DecisionTimeoutError) {
    return new HttpError(503, 'decision_timeout', err.message, undefined, {
      'Retry-After': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof InvalidDecisionError) return new HttpError(400, 'invalid_decision', err.message);
  return undefined;
}

/** body-parser's error types, mapped to what the client did wrong. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'body_too_large', 'request body is larger than allowed'],
  'entity.parse.failed': [400, 'malformed_json', 'request body is not valid JSON'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset; send UTF-8'],
  'request.aborted': [400, 'request_aborted', 'request was aborted by the client'],
  'request.size.invalid': [400, 'request_size_invalid', 'request size did not match Content-Length'],
  'stream.encoding.set': [500, 'internal', 'internal error'],
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let httpError: HttpError;
    const temporal = fromTemporal(err);
    if (err instanceof HttpError) {
      httpError = err;
    } else if (temporal) {
      httpError = temporal;
    } else if (
      err &&
      typeof err === 'object' &&
      'type' in err &&
      typeof err.type === 'string' &&
      BODY_ERRORS[err.type]
    ) {
      const [status, code, message] = BODY_ERRORS[err.type] as [number, string, string];
      const limit = 'limit' in err ? ` (limit ${err.limit} bytes)` : '';
      httpError = new HttpError(status, code, status === 413 ? `${message}${limit}` : message);
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
      httpError = new HttpError(500, 'internal', 'internal error; see the Medic logs');
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    res.status(httpError.status).json({
      error: {
        code: httpError.code,
        message: httpError.message,
        ...(httpError.details === undefined ? {} : { details: httpError.details }),
      },
    });
  };
}

/** 415 unless the request says it carries JSON. */
export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(
      new HttpError(
        415,
        'unsupported_media_type',
        `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`,
      ),
    );
    return;
  }
  next();
};
