// The usual security headers for a JSON-only API: nothing here is meant to be rendered or framed.
import type { RequestHandler } from 'express';

const HEADERS = new Map(
  Object.entries({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  }),
);

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeaders(HEADERS);
  next();
};
