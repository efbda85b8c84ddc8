// Every setting, read once from the environment and validated. Errors say which variable and why. What
// each variable is, its default and the config path it fills are declared once, in the settings table
// (src/domain/settings-table.ts); the schema (src/settings-schema.ts) and the mapping below derive from it.
import type { DiagnosisSettings } from './activities/diagnose/settings.js';
import type { NotifySettings } from './activities/notify-settings.js';
import type { SweepThresholds } from './domain/anomaly.js';
import { isLoopbackAddress } from './domain/ip-address.js';
import type { LogLimits } from './domain/log-bounds.js';
import type { ScopedToken, WebhookSenderSetting } from './domain/sender-scope.js';
import type { IncidentSettings, WorkerRole } from './domain/settings.js';
import { defaultNumber, type ParsedSetting, SETTINGS, type SettingRow } from './domain/settings-table.js';
import type { SlackApprover } from './domain/slack-approval.js';
import { type Env, envSchema, type SettingValue } from './settings-schema.js';

/** The sticky cache's default size (MEDIC_WORKFLOW_CACHE). */
export const DEFAULT_WORKFLOW_CACHE = defaultNumber('MEDIC_WORKFLOW_CACHE');

/** Medic's own watch on the engine: the event watcher and the scheduled sweep. */
export interface WatchSettings {
  enabled: boolean;
  heartbeatTimeoutMs: number;
  /** 0: no sweep schedule. */
  sweepIntervalMs: number;
  thresholds: SweepThresholds;
}

/** How alerts come in: Alertmanager's door, storm coalescing and the rate limits. */
export interface IngestSettings {
  /** Each token's name is the sender of its alerts; one with scopes speaks only for those targets. */
  alertmanagerTokens: ScopedToken[];
  /** Alertmanager labels that name the target, first present wins. */
  alertmanagerTargetLabels: string[];
  /** Alertmanager labels that name the container host, first present wins; none present: `local`. */
  alertmanagerHostLabels: string[];
  coalesceWindowMs: number;
  /** During a long storm the window doubles after each signal up to this. */
  coalesceMaxWindowMs: number;
  /** Per authenticated sender, token or person; `perSecond` 0 turns every limit off. */
  rateLimit: { perSecond: number; burst: number };
  /** Per client address, for requests without valid credentials. */
  unauthenticatedRateLimit: { perSecond: number; burst: number };
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
  /** `trustedProxies`: peers whose X-Forwarded-For names the client (MEDIC_TRUSTED_PROXIES). */
  api: { host: string; port: number; decisionTimeoutMs: number; trustedProxies: string[] };
  temporal: TemporalSettings;
  /** The Temporal Web UI's base URL, without a trailing slash (MEDIC_TEMPORAL_UI_URL). */
  temporalUiUrl: string;
  /** The plain webhook secret: the sender `webhook-secret`, for every target. */
  webhookSecret: string | undefined;
  /** Named webhook senders, each with its own secret and scope (MEDIC_WEBHOOK_SENDERS). */
  webhookSenders: WebhookSenderSetting[];
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
  /** MEDIC_LOG_FORMAT: the logger reads it from the environment itself (it exists before the config). */
  logFormat: string;
  /** Where the worker serves its Prometheus metrics (MEDIC_WORKER_METRICS_ADDRESS); undefined: off. */
  workerMetricsAddress: string | undefined;
  /** The container host this worker serves (MEDIC_HOST_NAME), and what the process runs (MEDIC_WORKER_ROLE). */
  worker: { hostName: string; role: WorkerRole; workflowCache: number };
  dockerHost: string | undefined;
  notify: NotifySettings;
  /** Deciding from Slack's buttons (the API's `POST /integrations/slack/actions`). */
  slack: SlackActionSettings;
}

export interface SlackActionSettings {
  /** Unset: the route answers 404. */
  signingSecret: string | undefined;
  approvers: SlackApprover[];
  responseHosts: string[];
}

/** The API's own URL, for links: an unspecified listen address is reached on loopback. */
function publicUrlOf(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A secret that opens one door must not open another: webhook senders never approve, viewers never act,
 * and a named sender's secret is not the plain one (which speaks for every target).
 */
function refuseReusedTokens(e: Env): void {
  const doors: Record<string, string[]> = {
    MEDIC_WEBHOOK_SECRET: e.MEDIC_WEBHOOK_SECRET ? [e.MEDIC_WEBHOOK_SECRET] : [],
    MEDIC_WEBHOOK_SENDERS: e.MEDIC_WEBHOOK_SENDERS.map((s) => s.secret),
    MEDIC_ALERTMANAGER_TOKENS: e.MEDIC_ALERTMANAGER_TOKENS.map((t) => t.token),
    MEDIC_APPROVER_TOKENS: e.MEDIC_APPROVER_TOKENS.map((t) => t.token),
  };
  const alsoUsedIn = (secrets: string[], others: string[]) => {
    const mine = new Set(secrets);
    return others.filter((door) => doors[door]?.some((secret) => mine.has(secret)));
  };
  const tokensOf = (tokens: Array<{ token: string }>) => tokens.map((t) => t.token);
  const approverReuse = alsoUsedIn(tokensOf(e.MEDIC_APPROVER_TOKENS), [
    'MEDIC_WEBHOOK_SECRET',
    'MEDIC_WEBHOOK_SENDERS',
    'MEDIC_ALERTMANAGER_TOKENS',
  ]);
  const viewerReuse = alsoUsedIn(tokensOf(e.MEDIC_VIEWER_TOKENS), Object.keys(doors));
  const senderReuse = alsoUsedIn(doors.MEDIC_WEBHOOK_SENDERS ?? [], [
    'MEDIC_WEBHOOK_SECRET',
    'MEDIC_ALERTMANAGER_TOKENS',
  ]);
  const problems = [
    ...(senderReuse.length > 0
      ? [
          `MEDIC_WEBHOOK_SENDERS: a sender's secret is also used in ${senderReuse.join(' and ')}; give each sender a secret of its own`,
        ]
      : []),
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
function temporalAccess(e: Env): Pick<TemporalSettings, 'tls' | 'apiKey'> {
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

/**
 * The variables whose value is not simply written at their config paths: `combine` below reads them with
 * others (TLS is on when any TLS setting is set; a provider is configured only when listed; the public URL
 * falls back on the API's own; the notification URLs appear only when set).
 */
const COMBINED = [
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_TLS_CA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
  'MEDIC_COALESCE_MAX_WINDOW',
  'MEDIC_PROVIDERS',
  'MEDIC_SLACK_WEBHOOK_URL',
  'MEDIC_NOTIFY_WEBHOOK_URL',
  'MEDIC_PUBLIC_URL',
] as const satisfies ReadonlyArray<ParsedSetting['name']>;

type PlacedSetting = Exclude<ParsedSetting, { name: (typeof COMBINED)[number] }>;

/** The type at a dotted path of T, through optional objects; never when the path does not exist. */
type PathValue<T, P extends string> = P extends `${infer K}.${infer Rest}`
  ? K extends keyof NonNullable<T>
    ? PathValue<NonNullable<T>[K], Rest>
    : never
  : P extends keyof NonNullable<T>
    ? NonNullable<T>[P]
    : never;

/** `NAME -> path` for each path in the table that does not exist in MedicConfig or takes another type. */
type Misfit<R extends PlacedSetting> = R extends { fills: readonly (infer P)[] }
  ? P extends string
    ? [SettingValue<R>] extends [PathValue<MedicConfig, P>]
      ? never
      : `${R['name']} -> ${P}`
    : never
  : never;

/** Fails to typecheck, naming the variable and the path, when a row's value does not fit where it goes. */
const everyPathFits: [Misfit<PlacedSetting>] extends [never] ? true : Misfit<PlacedSetting> = true;

function place(config: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = config;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Each variable's value at the config paths the table gives it, but for the combined ones. */
function placed(e: Env): Record<string, unknown> {
  const combined: ReadonlySet<string> = new Set(COMBINED);
  const config: Record<string, unknown> = {};
  for (const row of SETTINGS as readonly SettingRow[]) {
    if (!row.parser || combined.has(row.name)) continue;
    for (const path of row.fills ?? []) place(config, path, e[row.name as keyof Env]);
  }
  return config;
}

/** Adds what the combined variables fill to the placed values. */
function combine(e: Env, config: MedicConfig): MedicConfig {
  Object.assign(config.temporal, temporalAccess(e));
  config.ingest.coalesceMaxWindowMs = Math.max(e.MEDIC_COALESCE_WINDOW, e.MEDIC_COALESCE_MAX_WINDOW);
  // Gemini is tried only with a key; without one the trail says so.
  if (!e.MEDIC_PROVIDERS.includes('gemini')) config.diagnosis.gemini = undefined;
  if (!e.MEDIC_PROVIDERS.includes('ollama')) config.diagnosis.ollama = undefined;
  config.notify = {
    ...(e.MEDIC_SLACK_WEBHOOK_URL ? { slackWebhookUrl: e.MEDIC_SLACK_WEBHOOK_URL } : {}),
    ...(e.MEDIC_NOTIFY_WEBHOOK_URL ? { webhookUrl: e.MEDIC_NOTIFY_WEBHOOK_URL } : {}),
    ...config.notify,
    publicUrl: e.MEDIC_PUBLIC_URL ?? publicUrlOf(e.MEDIC_HOST, e.MEDIC_PORT),
  };
  return config;
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
  return everyPathFits && combine(e, placed(e) as unknown as MedicConfig);
}
