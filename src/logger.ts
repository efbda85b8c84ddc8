// Structured JSON logs on stdout. Secrets never reach a log line: known fields are redacted by path.
import { pino } from 'pino';
import { defaultText } from './domain/settings-table.js';

export type Logger = pino.Logger;

const REDACT = [
  'secret',
  'token',
  'password',
  'authorization',
  'apiKey',
  '*.secret',
  '*.token',
  '*.password',
  '*.authorization',
  '*.apiKey',
  'headers.authorization',
  'headers["x-medic-signature"]',
];

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.MEDIC_LOG_LEVEL ?? defaultText('MEDIC_LOG_LEVEL'),
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { component: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
