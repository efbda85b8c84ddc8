// Every setting, read once from the environment and validated. Errors say which variable and why.
import { z } from 'zod';
import { parseDuration } from './domain/duration.js';
import { type ApprovalPolicy, parseSeverityPolicy } from './domain/policy.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const approverTokens = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const tokens: Array<{ name: string; token: string }> = [];
    for (const part of text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const sep = part.indexOf(':');
      const name = part.slice(0, sep).trim();
      const token = part.slice(sep + 1).trim();
      if (sep <= 0 || !/^[\w.@-]{1,64}$/.test(name) || token.length < 16) {
        ctx.addIssue({
          code: 'custom',
          message:
            'expected name:token pairs separated by commas; names are [A-Za-z0-9_.@-], tokens at least 16 characters',
        });
        return z.NEVER;
      }
      tokens.push({ name, token });
    }
    return tokens;
  });

const envSchema = z.object({
  MEDIC_HOST: z.string().default('127.0.0.1'),
  MEDIC_PORT: int(3000, 0, 65535),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  MEDIC_TASK_QUEUE: z.string().default('medic'),
  MEDIC_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  MEDIC_APPROVER_TOKENS: approverTokens,
  MEDIC_MANAGED_LABEL: z
    .string()
    .default('medic.managed=true')
    .refine((s) => /^[\w./-]+=[\w./-]+$/.test(s), 'expected key=value'),
  MEDIC_RUNBOOK_PATH: z.string().default('runbook.json'),
  MEDIC_SEVERITY_POLICY: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseSeverityPolicy(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  MEDIC_APPROVAL_TIMEOUT: duration('15m'),
  MEDIC_HEALTH_INITIAL_INTERVAL: duration('2s'),
  MEDIC_HEALTH_BACKOFF: z.coerce.number().min(1).max(10).default(2),
  MEDIC_HEALTH_MAX_ATTEMPTS: int(6, 1, 50),
  MEDIC_RESTART_STOP_TIMEOUT: duration('10s'),
  MEDIC_SEARCH_ATTRIBUTES: z.enum(['on', 'off']).default('on'),
  MEDIC_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  DOCKER_HOST: z.string().optional(),
});

export interface HealthRetrySettings {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumAttempts: number;
}

/** The settings an incident workflow runs with; captured at start so a run is reproducible. */
export interface IncidentSettings {
  approvalTimeoutMs: number;
  policy: ApprovalPolicy;
  healthRetry: HealthRetrySettings;
  restartStopTimeoutMs: number;
  /** Write Medic's custom search attributes (the Web UI's incident columns). */
  searchAttributes: boolean;
}

export interface MedicConfig {
  api: { host: string; port: number };
  temporal: { address: string; namespace: string; taskQueue: string };
  webhookSecret: string | undefined;
  approverTokens: Array<{ name: string; token: string }>;
  managedLabel: { key: string; value: string };
  runbookPath: string;
  incident: IncidentSettings;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  dockerHost: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MedicConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const [labelKey = '', labelValue = ''] = e.MEDIC_MANAGED_LABEL.split('=');
  return {
    api: { host: e.MEDIC_HOST, port: e.MEDIC_PORT },
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.MEDIC_TASK_QUEUE },
    webhookSecret: e.MEDIC_WEBHOOK_SECRET,
    approverTokens: e.MEDIC_APPROVER_TOKENS,
    managedLabel: { key: labelKey, value: labelValue },
    runbookPath: e.MEDIC_RUNBOOK_PATH,
    incident: {
      approvalTimeoutMs: e.MEDIC_APPROVAL_TIMEOUT,
      policy: e.MEDIC_SEVERITY_POLICY,
      healthRetry: {
        initialIntervalMs: e.MEDIC_HEALTH_INITIAL_INTERVAL,
        backoffCoefficient: e.MEDIC_HEALTH_BACKOFF,
        maximumAttempts: e.MEDIC_HEALTH_MAX_ATTEMPTS,
      },
      restartStopTimeoutMs: e.MEDIC_RESTART_STOP_TIMEOUT,
      searchAttributes: e.MEDIC_SEARCH_ATTRIBUTES === 'on',
    },
    logLevel: e.MEDIC_LOG_LEVEL,
    dockerHost: e.DOCKER_HOST,
  };
}
