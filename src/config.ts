// Every setting, read once from the environment and validated. Errors say which variable and why.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DiagnosisSettings } from './activities/diagnose/settings.js';
import { checkHttpUrl, type NotifySettings, parseNotifyRoutes } from './activities/notify-settings.js';
import type { SweepThresholds } from './domain/anomaly.js';
import { parseDuration } from './domain/duration.js';
import { normaliseHost } from './domain/health-url.js';
import { isLoopbackAddress } from './domain/ip-address.js';
import { DEFAULT_LOG_LIMITS, type LogLimits } from './domain/log-bounds.js';
import { HOST_NAME_PATTERN, LOCAL_HOST } from './domain/naming.js';
import { DEFAULT_MIN_CONFIDENCE, parseSeverityPolicy } from './domain/policy.js';
import { type IncidentSettings, WORKER_ROLES, type WorkerRole } from './domain/settings.js';

/**
 * The sticky cache's default size: enough for the incidents a team has open at once, small enough that a
 * worker with a thousand waiting incidents stays under 500 MB (bench:scale). Temporal's own default grows
 * with the heap limit (about a thousand workflows on a 2 GB heap).
 */
export const DEFAULT_WORKFLOW_CACHE = 250;

/** `host:port` with an IPv4 address, a name or a bracketed IPv6 address. */
const METRICS_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Text read by a parser that throws with a message naming what is wrong. */

const parsedWith = <T>(parse: (text: string) => T, fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const duration = (fallback: string) => parsedWith(parseDuration, fallback);
/** A comma-separated list, trimmed, without empty items. */
const commaList = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const namedTokens = z
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

/** An http(s) URL; the message never repeats the value, which may be a secret (a Slack webhook URL). */
const httpUrl = z.string().superRefine((text, ctx) => {
  const problem = checkHttpUrl(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Empty is the same as unset: compose files and .env templates write `NAME=`. */
const optionalHttpUrl = z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional());

/** A PEM file Medic can read, checked at start: a wrong path fails there, not at the first connection. */
const pemFile = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .superRefine((file, ctx) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        ctx.addIssue({ code: 'custom', message: `cannot read ${file} (${reason})` });
        return;
      }
      if (!text.includes('-----BEGIN '))
        ctx.addIssue({ code: 'custom', message: `${file} is not PEM (no -----BEGIN line)` });
    })
    .optional(),
);

/** Empty is the same as unset. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

const envSchema = z.object({
  MEDIC_HOST: z.string().default('127.0.0.1'),
  MEDIC_PORT: int(3000, 0, 65535),
  MEDIC_DECISION_TIMEOUT: duration('10s'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TLS: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['on', 'off']).optional()),
  TEMPORAL_TLS_CERT: pemFile,
  TEMPORAL_TLS_KEY: pemFile,
  TEMPORAL_TLS_CA: pemFile,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TEMPORAL_API_KEY: optionalText,
  MEDIC_TASK_QUEUE: z.string().default('medic'),
  /** The container host this worker serves; its queue is `<MEDIC_TASK_QUEUE>-host-<name>`. */
  MEDIC_HOST_NAME: z
    .string()
    .default(LOCAL_HOST)
    .refine(
      (name) => HOST_NAME_PATTERN.test(name),
      'expected letters, digits, _ . - (max 64), starting with a letter or digit',
    ),
  /** What this worker process runs: `all` (central and this host, the single-host default), `central`, or `host`. */
  MEDIC_WORKER_ROLE: z
    .enum(WORKER_ROLES, { error: `expected one of ${WORKER_ROLES.join(', ')}` })
    .default('all'),
  /**
   * Workflows a worker keeps in memory between their tasks (Temporal's sticky cache). One waiting incident
   * costs about half a megabyte; one that was evicted is replayed from its history when it wakes.
   */
  MEDIC_WORKFLOW_CACHE: int(DEFAULT_WORKFLOW_CACHE, 40, 100_000),
  /** How long an incident waits for its host's worker to take the first task before it escalates. */
  MEDIC_HOST_WAIT: duration('2m'),
  /** How long an incident waits for an unavailable container engine before it escalates. */
  MEDIC_ENGINE_OUTAGE_WAIT: duration('5m'),
  MEDIC_WEBHOOK_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'use at least 16 characters').optional(),
  ),
  MEDIC_APPROVER_TOKENS: namedTokens,
  MEDIC_VIEWER_TOKENS: namedTokens,
  MEDIC_ALERTMANAGER_TOKENS: namedTokens,
  MEDIC_ALERTMANAGER_TARGET_LABELS: commaList('container,name').refine(
    (labels) => labels.length > 0 && labels.every((l) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)),
    'expected Prometheus label names separated by commas',
  ),
  MEDIC_ALERTMANAGER_HOST_LABELS: commaList('host').refine(
    (labels) => labels.every((l) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)),
    'expected Prometheus label names separated by commas',
  ),
  MEDIC_COALESCE_WINDOW: duration('1s'),
  MEDIC_COALESCE_MAX_WINDOW: duration('10s'),
  MEDIC_RATE_LIMIT_PER_SECOND: int(5000, 0, 1_000_000),
  MEDIC_RATE_LIMIT_BURST: int(10_000, 1, 10_000_000),
  MEDIC_PROTECTED_CONTAINERS: commaList(),
  MEDIC_MANAGED_LABEL: z
    .string()
    .default('medic.managed=true')
    .refine((s) => /^[\w./-]+=[\w./-]+$/.test(s), 'expected key=value'),
  MEDIC_HEALTH_URL_HOSTS: commaList()
    .refine(
      (hosts) => hosts.every((h) => /^(\[?[0-9a-fA-F:.]+\]?|[a-zA-Z0-9.-]{1,253})$/.test(h)),
      'expected host names or IP addresses separated by commas (no scheme, port or path)',
    )
    .transform((hosts) => hosts.map(normaliseHost)),
  MEDIC_RUNBOOK_PATH: z.string().default('runbook.json'),
  MEDIC_SEVERITY_POLICY: parsedWith(parseSeverityPolicy),
  MEDIC_APPROVAL_TIMEOUT: duration('15m'),
  MEDIC_ESCALATION_LEVELS: commaList('on-call,team-lead,engineering-manager').refine(
    (levels) => levels.length > 0,
    'name at least one escalation level',
  ),
  MEDIC_ESCALATION_MAX_WAIT: duration('4h'),
  MEDIC_RECURRENCE_WINDOW: duration('10m'),
  MEDIC_DRY_RUN: z.enum(['on', 'off', 'true', 'false', '1', '0']).default('off'),
  MEDIC_GUARD_COOLDOWN: duration('300s'),
  MEDIC_GUARD_MAX_RESTARTS_PER_HOUR: int(3, 0, 1000),
  MEDIC_BREAKER_THRESHOLD: int(2, 1, 100),
  MEDIC_BREAKER_RESET: duration('30m'),
  MEDIC_LEASE_TTL: duration('10m'),
  MEDIC_BUDGET_PER_HOUR: int(10, 0, 100_000),
  MEDIC_BUDGET_PER_DAY: int(50, 0, 1_000_000),
  MEDIC_HEALTH_INITIAL_INTERVAL: duration('2s'),
  MEDIC_HEALTH_BACKOFF: z.coerce.number().min(1).max(10).default(2),
  MEDIC_HEALTH_MAX_ATTEMPTS: int(6, 1, 50),
  MEDIC_RESTART_STOP_TIMEOUT: duration('10s'),
  MEDIC_SEARCH_ATTRIBUTES: z.enum(['on', 'off']).default('on'),
  MEDIC_WATCHER: z.enum(['on', 'off']).default('on'),
  MEDIC_WATCHER_HEARTBEAT_TIMEOUT: duration('10s'),
  MEDIC_SWEEP_INTERVAL: duration('15s'),
  MEDIC_SWEEP_CPU_PERCENT: z.coerce.number().min(1).max(10_000).default(85),
  MEDIC_SWEEP_MEMORY_PERCENT: z.coerce.number().min(1).max(100).default(80),
  MEDIC_SWEEP_SUSTAINED: int(2, 1, 100),
  /** Where people open the Temporal Web UI: the console and notifications link each incident there. */
  MEDIC_TEMPORAL_UI_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8233')
    .transform((url) => url.replace(/\/+$/, '')),
  MEDIC_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `host:port` the worker serves Prometheus metrics on (temporal_* and medic_*); empty: no exporter. */
  MEDIC_WORKER_METRICS_ADDRESS: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || METRICS_ADDRESS.test(v), {
      message: 'expected host:port, e.g. 127.0.0.1:9464 (empty turns the exporter off)',
    }),
  // Log text kept per alert. The ceilings keep one alert far below Temporal's 2 MB payload limit.
  MEDIC_LOG_MAX_LINE_CHARS: int(DEFAULT_LOG_LIMITS.maxLineChars, 200, 16_000),
  MEDIC_LOG_MAX_LINES: int(DEFAULT_LOG_LIMITS.maxLines, 1, 1000),
  MEDIC_LOG_MAX_BYTES: int(DEFAULT_LOG_LIMITS.maxBytes, 1024, 256 * 1024),
  MEDIC_PROVIDERS: z
    .string()
    .default('gemini,ollama')
    .transform((text, ctx) => {
      const names = text
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const unknown = names.filter((n) => n !== 'gemini' && n !== 'ollama');
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown provider ${unknown.join(', ')} (expected gemini, ollama, or empty for rules only)`,
        });
        return z.NEVER;
      }
      return names as Array<'gemini' | 'ollama'>;
    }),
  GEMINI_API_KEY: z.string().optional(),
  MEDIC_GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash'),
  MEDIC_GEMINI_BASE_URL: z.url().optional(),
  // Empty counts as unset: compose files pass `${OLLAMA_HOST:-}`.
  OLLAMA_HOST: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(1).default('http://127.0.0.1:11434'),
  ),
  MEDIC_OLLAMA_MODEL: z.string().min(1).default('llama3.2:3b'),
  MEDIC_PROVIDER_TIMEOUT: duration('20s'),
  MEDIC_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(DEFAULT_MIN_CONFIDENCE),
  MEDIC_PROMPT_LOG_CHARS: int(2000, 100, 100_000),
  MEDIC_RUNBOOK_MIN_SUCCESS_RATE: z.coerce.number().min(0).max(1).default(0.8),
  MEDIC_RUNBOOK_MIN_USES: int(5, 1, 10_000),
  DOCKER_HOST: z.string().optional(),
  MEDIC_SLACK_WEBHOOK_URL: optionalHttpUrl,
  MEDIC_NOTIFY_WEBHOOK_URL: optionalHttpUrl,
  MEDIC_NOTIFY_ROUTES: parsedWith(parseNotifyRoutes),
  MEDIC_PUBLIC_URL: optionalHttpUrl,
  // Below the notify activity's 10 s per attempt, so a slow receiver fails with its own name.
  MEDIC_NOTIFY_TIMEOUT: duration('5s').refine(
    (ms) => ms >= 100 && ms <= 9000,
    'between 100ms and 9s (an attempt of the notify activity may take 10 s)',
  ),
});

/** Medic's own watch on the engine: the event watcher and the scheduled sweep. */
export interface WatchSettings {
  enabled: boolean;
  heartbeatTimeoutMs: number;
  /** 0: no sweep schedule. */
  sweepIntervalMs: number;
  thresholds: SweepThresholds;
}

/** How alerts come in: Alertmanager's door, storm coalescing and the per-source rate limit. */
export interface IngestSettings {
  alertmanagerTokens: Array<{ name: string; token: string }>;
  /** Alertmanager labels that name the target, first present wins. */
  alertmanagerTargetLabels: string[];
  /** Alertmanager labels that name the container host, first present wins; none present: `local`. */
  alertmanagerHostLabels: string[];
  coalesceWindowMs: number;
  /** During a long storm the window doubles after each signal up to this. */
  coalesceMaxWindowMs: number;
  rateLimit: { perSecond: number; burst: number };
}

/** How to reach Temporal: any server, self-hosted with (m)TLS or Temporal Cloud with an API key. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Absent: plaintext. Paths, read when connecting; every field optional (TLS with the system's roots). */
  tls?: { certFile?: string; keyFile?: string; caFile?: string; serverName?: string };
  /** Temporal Cloud's API key, sent as a bearer token; implies TLS. */
  apiKey?: string;
}

export interface MedicConfig {
  /** `decisionTimeoutMs`: how long an approve or reject waits for a worker to take it before 503. */
  api: { host: string; port: number; decisionTimeoutMs: number };
  temporal: TemporalSettings;
  /** The Temporal Web UI's base URL, without a trailing slash (MEDIC_TEMPORAL_UI_URL). */
  temporalUiUrl: string;
  webhookSecret: string | undefined;
  approverTokens: Array<{ name: string; token: string }>;
  /** Who may read incidents, guards and metrics (approvers may too); none: reads are open (loopback only). */
  viewerTokens: Array<{ name: string; token: string }>;
  ingest: IngestSettings;
  /** Container names never acted on, besides the built-in ones (Temporal's and Medic's own). */
  protectedContainers: string[];
  managedLabel: { key: string; value: string };
  /** Hosts a `medic.health-url` label may name besides loopback and the container's own addresses. */
  healthUrlHosts: string[];
  runbookPath: string;
  incident: IncidentSettings;
  diagnosis: DiagnosisSettings;
  watch: WatchSettings;
  /** Log text kept per alert, whoever gathered it (webhook, engine, engine watch); one limit for all. */
  logLimits: LogLimits;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Where the worker serves its Prometheus metrics (MEDIC_WORKER_METRICS_ADDRESS); undefined: off. */
  workerMetricsAddress: string | undefined;
  /** The container host this worker serves (MEDIC_HOST_NAME), and what the process runs (MEDIC_WORKER_ROLE). */
  worker: { hostName: string; role: WorkerRole; workflowCache: number };
  dockerHost: string | undefined;
  notify: NotifySettings;
}

/** The API's own URL, for links: an unspecified listen address is reached on loopback. */
function publicUrlOf(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = z.infer<typeof envSchema>;

/** A secret that opens one door must not open another: webhook senders never approve, viewers never act. */
function refuseReusedTokens(e: Env): void {
  const doors: Record<string, string[]> = {
    MEDIC_WEBHOOK_SECRET: e.MEDIC_WEBHOOK_SECRET ? [e.MEDIC_WEBHOOK_SECRET] : [],
    MEDIC_ALERTMANAGER_TOKENS: e.MEDIC_ALERTMANAGER_TOKENS.map((t) => t.token),
    MEDIC_APPROVER_TOKENS: e.MEDIC_APPROVER_TOKENS.map((t) => t.token),
  };
  const alsoUsedIn = (tokens: Array<{ token: string }>, others: string[]) => {
    const secrets = new Set(tokens.map((t) => t.token));
    return others.filter((door) => doors[door]?.some((secret) => secrets.has(secret)));
  };
  const approverReuse = alsoUsedIn(e.MEDIC_APPROVER_TOKENS, [
    'MEDIC_WEBHOOK_SECRET',
    'MEDIC_ALERTMANAGER_TOKENS',
  ]);
  const viewerReuse = alsoUsedIn(e.MEDIC_VIEWER_TOKENS, Object.keys(doors));
  const problems = [
    ...(approverReuse.length > 0
      ? [
          `MEDIC_APPROVER_TOKENS: an approver token is also used in ${approverReuse.join(' and ')}; give approvers their own tokens`,
        ]
      : []),
    ...(viewerReuse.length > 0
      ? [
          `MEDIC_VIEWER_TOKENS: a viewer token is also used in ${viewerReuse.join(' and ')}; give viewers their own tokens (approver tokens already grant reading)`,
        ]
      : []),
  ];
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * Incidents, reports, guards and metrics describe production (container names, log excerpts): on any
 * address but loopback, reading them needs a token.
 */
function refuseOpenReads(host: string, hasViewerTokens: boolean): void {
  if (hasViewerTokens || host === 'localhost' || isLoopbackAddress(host)) return;
  throw new ConfigError(
    `invalid configuration:\n  MEDIC_VIEWER_TOKENS: the API listens on ${host}, not a loopback address, so reading incidents must need a token: set MEDIC_VIEWER_TOKENS=name:token (tokens of at least 16 characters, comma-separated), or MEDIC_HOST=127.0.0.1`,
  );
}

/** TLS is on when asked for or when anything needs it (a client certificate, a CA, an API key). */
function temporalSettings(e: Env): TemporalSettings {
  const problems: string[] = [];
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY))
    problems.push(
      `${e.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: a client certificate needs its key; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together`,
    );
  const needsTls = [
    'TEMPORAL_TLS_CERT',
    'TEMPORAL_TLS_CA',
    'TEMPORAL_TLS_SERVER_NAME',
    'TEMPORAL_API_KEY',
  ] as const;
  const tlsSettings = needsTls.filter((name) => e[name]);
  if (e.TEMPORAL_TLS === 'off' && tlsSettings.length > 0)
    problems.push(
      `TEMPORAL_TLS: off, but ${tlsSettings.join(', ')} need TLS; remove TEMPORAL_TLS=off or them`,
    );
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const tls = e.TEMPORAL_TLS === 'on' || tlsSettings.length > 0;
  return {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.MEDIC_TASK_QUEUE,
    ...(tls
      ? {
          tls: {
            ...(e.TEMPORAL_TLS_CERT ? { certFile: e.TEMPORAL_TLS_CERT } : {}),
            ...(e.TEMPORAL_TLS_KEY ? { keyFile: e.TEMPORAL_TLS_KEY } : {}),
            ...(e.TEMPORAL_TLS_CA ? { caFile: e.TEMPORAL_TLS_CA } : {}),
            ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MedicConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  refuseReusedTokens(e);
  refuseOpenReads(e.MEDIC_HOST, e.MEDIC_VIEWER_TOKENS.length > 0);
  const [labelKey = '', labelValue = ''] = e.MEDIC_MANAGED_LABEL.split('=');
  const logLimits: LogLimits = {
    maxLineChars: e.MEDIC_LOG_MAX_LINE_CHARS,
    maxLines: e.MEDIC_LOG_MAX_LINES,
    maxBytes: e.MEDIC_LOG_MAX_BYTES,
  };
  return {
    api: { host: e.MEDIC_HOST, port: e.MEDIC_PORT, decisionTimeoutMs: e.MEDIC_DECISION_TIMEOUT },
    temporal: temporalSettings(e),
    temporalUiUrl: e.MEDIC_TEMPORAL_UI_URL,
    webhookSecret: e.MEDIC_WEBHOOK_SECRET,
    approverTokens: e.MEDIC_APPROVER_TOKENS,
    viewerTokens: e.MEDIC_VIEWER_TOKENS,
    ingest: {
      alertmanagerTokens: e.MEDIC_ALERTMANAGER_TOKENS,
      alertmanagerTargetLabels: e.MEDIC_ALERTMANAGER_TARGET_LABELS,
      alertmanagerHostLabels: e.MEDIC_ALERTMANAGER_HOST_LABELS,
      coalesceWindowMs: e.MEDIC_COALESCE_WINDOW,
      coalesceMaxWindowMs: Math.max(e.MEDIC_COALESCE_WINDOW, e.MEDIC_COALESCE_MAX_WINDOW),
      rateLimit: { perSecond: e.MEDIC_RATE_LIMIT_PER_SECOND, burst: e.MEDIC_RATE_LIMIT_BURST },
    },
    protectedContainers: e.MEDIC_PROTECTED_CONTAINERS,
    managedLabel: { key: labelKey, value: labelValue },
    healthUrlHosts: e.MEDIC_HEALTH_URL_HOSTS,
    runbookPath: e.MEDIC_RUNBOOK_PATH,
    incident: {
      approvalTimeoutMs: e.MEDIC_APPROVAL_TIMEOUT,
      policy: { severity: e.MEDIC_SEVERITY_POLICY, minConfidence: e.MEDIC_MIN_CONFIDENCE },
      healthRetry: {
        initialIntervalMs: e.MEDIC_HEALTH_INITIAL_INTERVAL,
        backoffCoefficient: e.MEDIC_HEALTH_BACKOFF,
        maximumAttempts: e.MEDIC_HEALTH_MAX_ATTEMPTS,
      },
      restartStopTimeoutMs: e.MEDIC_RESTART_STOP_TIMEOUT,
      searchAttributes: e.MEDIC_SEARCH_ATTRIBUTES === 'on',
      dryRun: ['on', 'true', '1'].includes(e.MEDIC_DRY_RUN),
      guard: {
        cooldownMs: e.MEDIC_GUARD_COOLDOWN,
        maxRestartsPerHour: e.MEDIC_GUARD_MAX_RESTARTS_PER_HOUR,
        breakerThreshold: e.MEDIC_BREAKER_THRESHOLD,
        breakerResetMs: e.MEDIC_BREAKER_RESET,
        leaseTtlMs: e.MEDIC_LEASE_TTL,
      },
      budget: { perHour: e.MEDIC_BUDGET_PER_HOUR, perDay: e.MEDIC_BUDGET_PER_DAY },
      escalation: { levels: e.MEDIC_ESCALATION_LEVELS, maxWaitMs: e.MEDIC_ESCALATION_MAX_WAIT },
      recurrenceWindowMs: e.MEDIC_RECURRENCE_WINDOW,
      hostWaitMs: e.MEDIC_HOST_WAIT,
      engineOutageWaitMs: e.MEDIC_ENGINE_OUTAGE_WAIT,
    },
    diagnosis: {
      // Gemini is tried only with a key; without one the trail says so.
      gemini: e.MEDIC_PROVIDERS.includes('gemini')
        ? {
            apiKey: e.GEMINI_API_KEY || undefined,
            model: e.MEDIC_GEMINI_MODEL,
            baseUrl: e.MEDIC_GEMINI_BASE_URL,
            timeoutMs: e.MEDIC_PROVIDER_TIMEOUT,
          }
        : undefined,
      ollama: e.MEDIC_PROVIDERS.includes('ollama')
        ? { host: e.OLLAMA_HOST, model: e.MEDIC_OLLAMA_MODEL, timeoutMs: e.MEDIC_PROVIDER_TIMEOUT }
        : undefined,
      promptLogChars: e.MEDIC_PROMPT_LOG_CHARS,
      runbookTrust: { minSuccessRate: e.MEDIC_RUNBOOK_MIN_SUCCESS_RATE, minUses: e.MEDIC_RUNBOOK_MIN_USES },
      logLimits,
    },
    watch: {
      enabled: e.MEDIC_WATCHER === 'on',
      heartbeatTimeoutMs: e.MEDIC_WATCHER_HEARTBEAT_TIMEOUT,
      sweepIntervalMs: e.MEDIC_SWEEP_INTERVAL,
      thresholds: {
        cpuPercent: e.MEDIC_SWEEP_CPU_PERCENT,
        memoryPercent: e.MEDIC_SWEEP_MEMORY_PERCENT,
        sustainedSweeps: e.MEDIC_SWEEP_SUSTAINED,
      },
    },
    logLimits,
    logLevel: e.MEDIC_LOG_LEVEL,
    workerMetricsAddress: e.MEDIC_WORKER_METRICS_ADDRESS || undefined,
    worker: { hostName: e.MEDIC_HOST_NAME, role: e.MEDIC_WORKER_ROLE, workflowCache: e.MEDIC_WORKFLOW_CACHE },
    dockerHost: e.DOCKER_HOST,
    notify: {
      ...(e.MEDIC_SLACK_WEBHOOK_URL ? { slackWebhookUrl: e.MEDIC_SLACK_WEBHOOK_URL } : {}),
      ...(e.MEDIC_NOTIFY_WEBHOOK_URL ? { webhookUrl: e.MEDIC_NOTIFY_WEBHOOK_URL } : {}),
      routes: e.MEDIC_NOTIFY_ROUTES,
      publicUrl: e.MEDIC_PUBLIC_URL ?? publicUrlOf(e.MEDIC_HOST, e.MEDIC_PORT),
      temporalUiUrl: e.MEDIC_TEMPORAL_UI_URL,
      namespace: e.TEMPORAL_NAMESPACE,
      timeoutMs: e.MEDIC_NOTIFY_TIMEOUT,
    },
  };
}
