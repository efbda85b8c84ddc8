// Structured logs on stdout: readable lines for a person at a terminal, JSON lines for a log pipeline
// (MEDIC_LOG_FORMAT). Secrets never reach a log line: known fields are redacted by path.
import { pino } from 'pino';
import pretty from 'pino-pretty';
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

/** `pretty` or `json`, from MEDIC_LOG_FORMAT; `auto`: pretty where stdout is a terminal. */
export function logFormat(env: NodeJS.ProcessEnv = process.env): 'pretty' | 'json' {
  const format = env.MEDIC_LOG_FORMAT || defaultText('MEDIC_LOG_FORMAT');
  if (format === 'pretty' || format === 'json') return format;
  return process.stdout.isTTY ? 'pretty' : 'json';
}

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: pino.DestinationStream;
}): Logger {
  const destination =
    options.destination ??
    (logFormat() === 'pretty'
      ? pretty({
          colorize: true,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          messageFormat: '{component}: {msg}',
          ignore: 'pid,hostname,name,component',
        })
      : undefined);
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.MEDIC_LOG_LEVEL ?? defaultText('MEDIC_LOG_LEVEL'),
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { component: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
