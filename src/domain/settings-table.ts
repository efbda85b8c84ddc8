// Every setting Medic and its compose stack read, declared once: name, how its text is read (a parser
// named here, built with zod in src/settings-schema.ts), default, a one-line doc, the config paths it
// fills, and which compose services it is passed to. Plain data: config.ts derives its schema and mapping
// from it, `npm run docs:config` writes docs/operations/configuration.md and .env.example from it, and the
// modules that need a default (the guard, the policy, the log limits, the API) take it from here. Pure and
// free of Node: the guard and the policy run inside workflow code.
import { parseDuration } from './duration.js';
import { LOCAL_HOST } from './naming.js';

export const SETTING_GROUPS = {
  temporal: { title: 'Temporal', about: 'How Medic reaches Temporal, and where people look at it.' },
  api: { title: 'API and access', about: 'Where the API listens, and the secrets of each of its doors.' },
  ingest: { title: 'Ingest', about: 'How alerts come in: Alertmanager, storm coalescing, the rate limit.' },
  guardrails: {
    title: 'Guardrails',
    about: 'What Medic may touch, and how often: per target (the guard) and across all targets (the budget).',
  },
  approvals: {
    title: 'Approvals',
    about: 'When a person decides, and who is told while a decision waits.',
  },
  remediation: {
    title: 'Restart and verification',
    about: 'How a restart is done and how a restarted target is judged healthy again.',
  },
  diagnosis: { title: 'Diagnosis', about: 'The model providers, the prompt, and the learned runbook.' },
  notifications: {
    title: 'Notifications',
    about: 'Where incidents are announced, and the links they carry.',
  },
  hosts: {
    title: 'Hosts and workers',
    about: 'What a worker process runs, for which container host, and how it is checked.',
  },
  watching: { title: 'Watching', about: "Medic's own watch on the engine: the event watcher and the sweep." },
  logs: { title: 'Logs', about: "Medic's log level, and the log text kept per alert." },
  development: {
    title: 'Local development',
    about: 'Read by `npm start`, `npm run setup` and the demo app.',
  },
  'compose-images': {
    title: 'Compose: images',
    about: 'The images of the compose stack: official ones with pinned tags; point them at a mirror.',
  },
  'compose-temporal': {
    title: "Compose: Temporal's services",
    about: 'PostgreSQL, the Temporal server and its Web UI, as the compose stack runs them.',
  },
  'compose-access': {
    title: 'Compose: secrets and the engine',
    about: 'Files and sockets the compose stack mounts into its containers.',
  },
  'compose-addresses': {
    title: 'Compose: addresses',
    about:
      'Where published ports listen on the host (loopback by default: put a reverse proxy with TLS in front), bind addresses inside the containers, and how services find each other.',
  },
  'compose-ports': {
    title: 'Compose: ports',
    about: 'The same inside the container and where it is published.',
  },
  'compose-demo': { title: 'Compose: the demo app', about: 'The deliberately buggy demo app of the stack.' },
} as const;

export type SettingGroup = keyof typeof SETTING_GROUPS;

export const COMPOSE_SERVICES = [
  'postgresql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'temporal-certs',
  'docker-proxy',
  'medic-worker',
  'medic-api',
  'demo',
  'prometheus',
  'alertmanager',
  'grafana',
  'ollama',
] as const;
export type ComposeService = (typeof COMPOSE_SERVICES)[number];

/**
 * How a variable's text is read; src/settings-schema.ts builds each with zod. `min`/`max` bound `int`,
 * `number` and `duration` (milliseconds), `values` lists the words of `enum`, `optional-enum`, `switch`
 * (on/true/1 read as true) and `worker-role`.
 */
export type SettingParser =
  | 'text'
  | 'non-empty-text'
  /** Empty counts as unset, and the default applies. */
  | 'text-or-default'
  /** Unset: undefined; empty stays empty. */
  | 'optional'
  /** Empty counts as unset. */
  | 'optional-text'
  | 'int'
  | 'number'
  | 'duration'
  | 'switch'
  | 'enum'
  | 'optional-enum'
  | 'worker-role'
  | 'host-name'
  | 'list'
  | 'label-names'
  | 'escalation-levels'
  | 'health-url-hosts'
  | 'key-value'
  | 'tokens'
  /** `name:token[:<target glob>@<host>],...` (src/domain/sender-scope.ts). */
  | 'scoped-tokens'
  /** `name:secret:<target glob>@<host>[,...];...` (src/domain/sender-scope.ts). */
  | 'webhook-senders'
  /** IP addresses and CIDR ranges, comma-separated. */
  | 'trusted-proxies'
  | 'secret'
  | 'http-url'
  | 'url'
  | 'base-url'
  | 'pem-file'
  | 'metrics-address'
  | 'providers'
  | 'severity-policy'
  | 'notify-routes'
  | 'slack-approvers';

export interface SettingRow {
  readonly name: string;
  readonly group: SettingGroup;
  /** One line: what it does. */
  readonly doc: string;
  /** Medic's own settings, read by config.ts; compose-only and tool variables have none. */
  readonly parser?: SettingParser;
  readonly min?: number;
  readonly max?: number;
  /** Why the bounds are what they are; part of the error message and of the docs. */
  readonly bounds?: string;
  readonly values?: readonly string[];
  /** The default as it is written in the environment; absent: unset. */
  readonly default?: string;
  /** What applies when unset, when that is not a fixed text (e.g. "the API's URL"). */
  readonly unsetMeans?: string;
  /** Never printed, empty in .env.example. */
  readonly secret?: boolean;
  /** The paths of MedicConfig this variable's value fills (e.g. `incident.guard.cooldownMs`). */
  readonly fills?: readonly string[];
  /** Modules besides config.ts that read the variable themselves. */
  readonly readBy?: readonly string[];
  /** The compose services whose definition uses `${NAME}`: setting it in .env reaches them. */
  readonly services?: readonly ComposeService[];
  /** The compose files' `${NAME:-default}` where it is not the default above. */
  readonly composeDefault?: string;
  /** Services whose environment docker-compose.yml sets to a value of its own, not from `${NAME}`. */
  readonly composeSets?: { readonly services: readonly ComposeService[]; readonly value: string };
}

const MEDIC_SERVICES = ['medic-worker', 'medic-api'] as const;

/** What a worker process runs: the central queue and its own host's (`all`), or one of them. */
export const WORKER_ROLES = ['all', 'central', 'host'] as const;

export const SETTINGS = [
  // --- Temporal ---
  {
    name: 'TEMPORAL_ADDRESS',
    group: 'temporal',
    doc: 'The Temporal frontend, `host:port`.',
    parser: 'text',
    default: '127.0.0.1:7233',
    fills: ['temporal.address'],
    composeSets: {
      services: ['temporal-setup', 'temporal-ui', ...MEDIC_SERVICES],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
      value: '${TEMPORAL_HOST:-temporal}:${TEMPORAL_PORT:-7233}',
    },
  },
  {
    name: 'TEMPORAL_NAMESPACE',
    group: 'temporal',
    doc: "Medic's Temporal namespace; notifications name it in their links.",
    parser: 'text',
    default: 'default',
    fills: ['temporal.namespace', 'notify.namespace'],
    services: ['temporal-setup', 'temporal-ui', ...MEDIC_SERVICES],
  },
  {
    name: 'MEDIC_TASK_QUEUE',
    group: 'temporal',
    doc: "The central task queue; a host's queue is `<this>-host-<host name>`, the runbook writer's `<this>-runbook`.",
    parser: 'text',
    default: 'medic',
    fills: ['temporal.taskQueue'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'TEMPORAL_TLS',
    group: 'temporal',
    doc: "`on`: TLS with the system's roots and no client certificate; `off` next to a setting that needs TLS is an error.",
    parser: 'optional-enum',
    values: ['on', 'off'],
    unsetMeans: 'on when any TLS setting below or an API key is set, else off',
    fills: ['temporal.tls'],
  },
  {
    name: 'TEMPORAL_TLS_CERT',
    group: 'temporal',
    doc: 'Client certificate (a PEM file) for a frontend that requires mutual TLS; set it with `TEMPORAL_TLS_KEY`.',
    parser: 'pem-file',
    fills: ['temporal.tls.certFile'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'TEMPORAL_TLS_KEY',
    group: 'temporal',
    doc: "The client certificate's key (a PEM file).",
    parser: 'pem-file',
    fills: ['temporal.tls.keyFile'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'TEMPORAL_TLS_CA',
    group: 'temporal',
    doc: "The CA (a PEM file) that signed the server's certificate.",
    parser: 'pem-file',
    unsetMeans: "the system's roots",
    fills: ['temporal.tls.caFile'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'TEMPORAL_TLS_SERVER_NAME',
    group: 'temporal',
    doc: "The name to check the server's certificate against (when you connect by IP or through a proxy).",
    parser: 'optional-text',
    unsetMeans: 'the host in `TEMPORAL_ADDRESS`',
    fills: ['temporal.tls.serverName'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'TEMPORAL_API_KEY',
    group: 'temporal',
    doc: "Temporal Cloud's API key, sent as a bearer token; implies TLS.",
    parser: 'optional-text',
    secret: true,
    fills: ['temporal.apiKey'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'MEDIC_SEARCH_ATTRIBUTES',
    group: 'temporal',
    doc: "Write Medic's custom search attributes (the Web UI's incident columns); `off` for servers without them.",
    parser: 'switch',
    values: ['on', 'off'],
    default: 'on',
    fills: ['incident.searchAttributes'],
  },
  {
    name: 'MEDIC_TEMPORAL_UI_URL',
    group: 'temporal',
    doc: 'Where people open the Temporal Web UI: the console and notifications link each incident there.',
    parser: 'base-url',
    default: 'http://127.0.0.1:8233',
    fills: ['temporalUiUrl', 'notify.temporalUiUrl'],
    services: MEDIC_SERVICES,
    composeDefault: 'http://localhost:8233',
  },

  // --- API and access ---
  {
    name: 'MEDIC_HOST',
    group: 'api',
    doc: 'The address the API listens on; any but loopback needs `MEDIC_VIEWER_TOKENS`.',
    parser: 'text',
    default: '127.0.0.1',
    fills: ['api.host'],
    readBy: ['src/healthcheck.ts'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
    composeSets: { services: ['medic-api'], value: '${MEDIC_API_BIND:-0.0.0.0}' },
  },
  {
    name: 'MEDIC_PORT',
    group: 'api',
    doc: "The API's port.",
    parser: 'int',
    min: 0,
    max: 65535,
    default: '3000',
    fills: ['api.port'],
    readBy: ['src/healthcheck.ts'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
    composeSets: { services: ['medic-api'], value: '${MEDIC_API_PORT:-3000}' },
  },
  {
    name: 'MEDIC_DECISION_TIMEOUT',
    group: 'api',
    doc: "How long an approve or reject waits for a worker to take it; past it the API answers 503 and the decision never happens. The runbook's requests (`GET /runbook`, disable, enable) wait as long for its writer.",
    parser: 'duration',
    default: '10s',
    fills: ['api.decisionTimeoutMs'],
  },
  {
    name: 'MEDIC_WEBHOOK_SECRET',
    group: 'api',
    doc: 'The plain HMAC secret of `POST /webhooks/alert` (at least 16 characters): a sender named `webhook-secret` that speaks for every target, no `X-Medic-Sender` needed; prefer `MEDIC_WEBHOOK_SENDERS`. The API refuses to start without one of the two.',
    parser: 'secret',
    min: 16,
    secret: true,
    fills: ['webhookSecret'],
    services: MEDIC_SERVICES,
    // The demo app signs as the sender `demo`, with that sender's secret.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
    composeSets: { services: ['demo'], value: '${MEDIC_DEMO_WEBHOOK_SECRET:-}' },
  },
  {
    name: 'MEDIC_WEBHOOK_SENDERS',
    group: 'api',
    doc: 'Named webhook senders, `name:secret:<target glob>@<host>[,...]` separated by `;` (names a-z 0-9 _ -, secrets of at least 16 characters, globs with `*` and `?`, hosts exact or `*`): each signs with its own secret, names itself in `X-Medic-Sender` and may speak only for its targets (`npm start` makes `demo`).',
    parser: 'webhook-senders',
    secret: true,
    unsetMeans: 'only the plain `MEDIC_WEBHOOK_SECRET`',
    fills: ['webhookSenders'],
    // Compose gives the API the demo app's sender.
    composeSets: {
      services: ['medic-api'],
      value:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
        'demo:${MEDIC_DEMO_WEBHOOK_SECRET:-}:${DEMO_CONTAINER_NAME:-medic-demo}@${MEDIC_HOST_NAME:-local}',
    },
  },
  {
    name: 'MEDIC_TRUSTED_PROXIES',
    group: 'api',
    doc: 'Proxies in front of the API (IP addresses or CIDR ranges, comma-separated): a request from one of them has its client address read from `X-Forwarded-For`, for the rate limit of unauthenticated requests.',
    parser: 'trusted-proxies',
    default: '',
    unsetMeans: 'none: the client address is the peer of the connection',
    fills: ['api.trustedProxies'],
  },
  {
    name: 'MEDIC_APPROVER_TOKENS',
    group: 'api',
    doc: '`name:token,...` of the people who decide on incidents (the name is recorded as `decidedBy`); never the webhook secret or an Alertmanager token.',
    parser: 'tokens',
    secret: true,
    fills: ['approverTokens'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'MEDIC_VIEWER_TOKENS',
    group: 'api',
    doc: '`name:token,...` bearer tokens for the read endpoints (approver tokens read too); required when `MEDIC_HOST` is not loopback.',
    parser: 'tokens',
    secret: true,
    unsetMeans: 'reads are open (on loopback only)',
    fills: ['viewerTokens'],
    services: MEDIC_SERVICES,
  },

  // --- Ingest ---
  {
    name: 'MEDIC_ALERTMANAGER_TOKENS',
    group: 'ingest',
    doc: '`name:token[:<target glob>@<host>],...` bearer tokens for `POST /webhooks/alertmanager`; the name is the sender of its alerts, and a token with a scope speaks only for those targets (an alert outside it is refused, the others go on). None: the endpoint answers 403.',
    parser: 'scoped-tokens',
    secret: true,
    fills: ['ingest.alertmanagerTokens'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'MEDIC_ALERTMANAGER_TARGET_LABELS',
    group: 'ingest',
    doc: 'Alert labels naming the target container, first present wins.',
    parser: 'label-names',
    min: 1,
    default: 'container,name',
    fills: ['ingest.alertmanagerTargetLabels'],
  },
  {
    name: 'MEDIC_ALERTMANAGER_HOST_LABELS',
    group: 'ingest',
    doc: 'Alert labels naming the container host, first present wins; none present: `local`.',
    parser: 'label-names',
    min: 0,
    default: 'host',
    fills: ['ingest.alertmanagerHostLabels'],
  },
  {
    name: 'MEDIC_COALESCE_WINDOW',
    group: 'ingest',
    doc: 'At most one signal per incident per window.',
    parser: 'duration',
    default: '1s',
    fills: ['ingest.coalesceWindowMs'],
  },
  {
    name: 'MEDIC_COALESCE_MAX_WINDOW',
    group: 'ingest',
    doc: 'While a storm lasts the window doubles after each signal, up to this (never below the window).',
    parser: 'duration',
    default: '10s',
    fills: ['ingest.coalesceMaxWindowMs'],
  },
  {
    name: 'MEDIC_RATE_LIMIT_PER_SECOND',
    group: 'ingest',
    doc: 'Requests per second per authenticated sender, token or person, counted after the credential check (token bucket; `0` turns every limit off); an alert refused for load is answered 503 with `Retry-After`.',
    parser: 'int',
    min: 0,
    max: 1_000_000,
    default: '5000',
    fills: ['ingest.rateLimit.perSecond'],
  },
  {
    name: 'MEDIC_RATE_LIMIT_BURST',
    group: 'ingest',
    doc: "The rate limit's bucket: requests a sender may send at once.",
    parser: 'int',
    min: 1,
    max: 10_000_000,
    default: '10000',
    fills: ['ingest.rateLimit.burst'],
  },
  {
    name: 'MEDIC_RATE_LIMIT_UNAUTHENTICATED_PER_SECOND',
    group: 'ingest',
    doc: "Requests per second per client address (an IPv4 address or an IPv6 /64) without valid credentials: open endpoints, and requests whose credentials fail; their own bucket, so they never use up a sender's.",
    parser: 'int',
    min: 1,
    max: 1_000_000,
    default: '50',
    fills: ['ingest.unauthenticatedRateLimit.perSecond'],
  },
  {
    name: 'MEDIC_RATE_LIMIT_UNAUTHENTICATED_BURST',
    group: 'ingest',
    doc: "The unauthenticated requests' bucket: what one client address may send at once.",
    parser: 'int',
    min: 1,
    max: 10_000_000,
    default: '100',
    fills: ['ingest.unauthenticatedRateLimit.burst'],
  },

  // --- Guardrails ---
  {
    name: 'MEDIC_DRY_RUN',
    group: 'guardrails',
    doc: '`on`: everything runs and the action is recorded as "would restart", but nothing is touched.',
    parser: 'switch',
    values: ['on', 'off', 'true', 'false', '1', '0'],
    default: 'off',
    fills: ['incident.dryRun'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'MEDIC_MANAGED_LABEL',
    group: 'guardrails',
    doc: 'Only containers with this label (`key=value`) are ever touched.',
    parser: 'key-value',
    default: 'medic.managed=true',
    fills: ['managedLabel'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_PROTECTED_CONTAINERS',
    group: 'guardrails',
    doc: "More container names Medic never acts on, besides Temporal's and its own (comma-separated).",
    parser: 'list',
    default: '',
    fills: ['protectedContainers'],
  },
  {
    name: 'MEDIC_GUARD_COOLDOWN',
    group: 'guardrails',
    doc: 'Minimum time between two actions on one target.',
    parser: 'duration',
    default: '300s',
    fills: ['incident.guard.cooldownMs'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_GUARD_MAX_RESTARTS_PER_HOUR',
    group: 'guardrails',
    doc: 'Restarts of one target in any hour.',
    parser: 'int',
    min: 0,
    max: 1000,
    default: '3',
    fills: ['incident.guard.maxRestartsPerHour'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_BREAKER_THRESHOLD',
    group: 'guardrails',
    doc: "Consecutive failed remediations that open a target's circuit breaker.",
    parser: 'int',
    min: 1,
    max: 100,
    default: '2',
    fills: ['incident.guard.breakerThreshold'],
  },
  {
    name: 'MEDIC_BREAKER_RESET',
    group: 'guardrails',
    doc: 'How long an open breaker stays open before it closes by itself.',
    parser: 'duration',
    default: '30m',
    fills: ['incident.guard.breakerResetMs'],
  },
  {
    name: 'MEDIC_LEASE_TTL',
    group: 'guardrails',
    doc: "A target's lease not released by then is taken back (its incident died or was terminated).",
    parser: 'duration',
    default: '10m',
    fills: ['incident.guard.leaseTtlMs'],
  },
  {
    name: 'MEDIC_BUDGET_PER_HOUR',
    group: 'guardrails',
    doc: 'Actions across all targets in any hour.',
    parser: 'int',
    min: 0,
    max: 100_000,
    default: '10',
    fills: ['incident.budget.perHour'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_BUDGET_PER_DAY',
    group: 'guardrails',
    doc: 'Actions across all targets in any day.',
    parser: 'int',
    min: 0,
    max: 1_000_000,
    default: '50',
    fills: ['incident.budget.perDay'],
    services: ['medic-worker'],
  },

  // --- Approvals ---
  {
    name: 'MEDIC_SEVERITY_POLICY',
    group: 'approvals',
    doc: 'What a medium-risk remedy (a restart, a service action declared without a risk) at each severity needs: `record`, `auto`, `notify` or `approval`; severities left out keep their default.',
    parser: 'severity-policy',
    default: 'low=record,medium=auto,high=notify,critical=approval',
    fills: ['incident.policy.severity'],
  },
  {
    name: 'MEDIC_SEVERITY_POLICY_LOW_RISK',
    group: 'approvals',
    doc: 'The same for low-risk remedies (a service action declared `risk=low`, such as resetting a pool).',
    parser: 'severity-policy',
    default: 'low=record,medium=auto,high=auto,critical=approval',
    fills: ['incident.policy.byRisk.low'],
  },
  {
    name: 'MEDIC_SEVERITY_POLICY_HIGH_RISK',
    group: 'approvals',
    doc: 'The same for high-risk remedies (a rollback, a memory raise): by default a person always agrees.',
    parser: 'severity-policy',
    default: 'low=record,medium=approval,high=approval,critical=approval',
    fills: ['incident.policy.byRisk.high'],
  },
  {
    name: 'MEDIC_MIN_CONFIDENCE',
    group: 'approvals',
    doc: 'A diagnosis less confident than this needs approval, whatever the severity (`0`: never).',
    parser: 'number',
    min: 0,
    max: 1,
    default: '0.5',
    fills: ['incident.policy.minConfidence'],
  },
  {
    name: 'MEDIC_APPROVAL_TIMEOUT',
    group: 'approvals',
    doc: 'How long each escalation level has to decide before the next is told.',
    parser: 'duration',
    default: '15m',
    fills: ['incident.approvalTimeoutMs'],
  },
  {
    name: 'MEDIC_ESCALATION_LEVELS',
    group: 'approvals',
    doc: 'Who is told, in order, each time an approval wait times out.',
    parser: 'escalation-levels',
    default: 'on-call,team-lead,engineering-manager',
    fills: ['incident.escalation.levels'],
  },
  {
    name: 'MEDIC_ESCALATION_MAX_WAIT',
    group: 'approvals',
    doc: 'How long an incident waits for a decision in all before it ends ESCALATED.',
    parser: 'duration',
    default: '4h',
    fills: ['incident.escalation.maxWaitMs'],
  },

  // --- Restart and verification ---
  {
    name: 'MEDIC_RESTART_STOP_TIMEOUT',
    group: 'remediation',
    doc: 'Grace period after SIGTERM before the engine kills the container.',
    parser: 'duration',
    default: '10s',
    fills: ['incident.restartStopTimeoutMs'],
  },
  {
    name: 'MEDIC_HEALTH_INITIAL_INTERVAL',
    group: 'remediation',
    doc: "The wait before a restarted target's second health check (with the defaults: checks at 0, 2, 6, 14, 30 and 62 s).",
    parser: 'duration',
    default: '2s',
    fills: ['incident.healthRetry.initialIntervalMs'],
  },
  {
    name: 'MEDIC_HEALTH_BACKOFF',
    group: 'remediation',
    doc: 'Each wait between health checks is the previous one times this (at most 100 initial intervals).',
    parser: 'number',
    min: 1,
    max: 10,
    default: '2',
    fills: ['incident.healthRetry.backoffCoefficient'],
  },
  {
    name: 'MEDIC_HEALTH_MAX_ATTEMPTS',
    group: 'remediation',
    doc: 'Health checks of a restarted target before the verdict; `1` is a single probe.',
    parser: 'int',
    min: 1,
    max: 50,
    default: '6',
    fills: ['incident.healthRetry.maximumAttempts'],
  },
  {
    name: 'MEDIC_HEALTH_URL_HOSTS',
    group: 'remediation',
    doc: "Hosts (names or IP addresses, comma-separated) a `medic.health-url` label may name besides loopback and the container's own addresses.",
    parser: 'health-url-hosts',
    default: '',
    fills: ['healthUrlHosts'],
    services: ['medic-worker'],
    composeDefault: 'demo',
  },
  {
    name: 'MEDIC_RECURRENCE_WINDOW',
    group: 'remediation',
    doc: 'How long a resolved incident watches for the same alert, which reopens it (`0s`: not at all).',
    parser: 'duration',
    default: '10m',
    fills: ['incident.recurrenceWindowMs'],
  },
  {
    name: 'MEDIC_MEMORY_RAISE_FACTOR',
    group: 'remediation',
    doc: "A memory raise multiplies the limit by this, up to the cap (the container's `medic.memory.max` label, else `MEDIC_MEMORY_MAX`).",
    parser: 'number',
    min: 1.1,
    max: 4,
    default: '1.5',
    fills: ['incident.remedies.memoryRaiseFactor'],
  },
  {
    name: 'MEDIC_MEMORY_MAX',
    group: 'remediation',
    doc: 'The cap of a memory raise for containers without a `medic.memory.max` label (e.g. `2g`); unset: such a raise always asks a person.',
    parser: 'text',
    default: '',
    unsetMeans: 'no cap: a person agrees to each raise',
    fills: ['incident.remedies.memoryMax'],
  },
  {
    name: 'MEDIC_DEPLOY_WINDOW',
    group: 'remediation',
    doc: 'A fault within this long of an image change is taken for a bad deploy: the plan proposes a rollback first.',
    parser: 'duration',
    default: '15m',
    fills: ['incident.remedies.deployWindowMs'],
  },

  // --- Diagnosis ---
  {
    name: 'MEDIC_PROVIDERS',
    group: 'diagnosis',
    doc: 'The model providers to try, in order (`gemini`, `ollama`); empty for the runbook and the rules only.',
    parser: 'providers',
    default: 'gemini,ollama',
    fills: ['diagnosis.gemini', 'diagnosis.ollama'],
    services: ['medic-worker'],
    composeDefault: '',
  },
  {
    name: 'GEMINI_API_KEY',
    group: 'diagnosis',
    doc: "Gemini's API key; without it Gemini is skipped and the trail says so.",
    parser: 'optional-text',
    secret: true,
    fills: ['diagnosis.gemini.apiKey'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_GEMINI_MODEL',
    group: 'diagnosis',
    doc: 'The Gemini model.',
    parser: 'non-empty-text',
    default: 'gemini-2.5-flash',
    fills: ['diagnosis.gemini.model'],
  },
  {
    name: 'MEDIC_GEMINI_BASE_URL',
    group: 'diagnosis',
    doc: 'Another endpoint that speaks the Gemini API (a proxy).',
    parser: 'url',
    unsetMeans: "Google's",
    fills: ['diagnosis.gemini.baseUrl'],
  },
  {
    name: 'OLLAMA_HOST',
    group: 'diagnosis',
    doc: 'The Ollama server.',
    parser: 'text-or-default',
    default: 'http://127.0.0.1:11434',
    fills: ['diagnosis.ollama.host'],
    services: ['medic-worker'],
    composeDefault: '',
    // The ollama profile's own server reads the same variable: where it listens.
    composeSets: {
      services: ['ollama'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
      value: '${OLLAMA_BIND:-0.0.0.0}:${OLLAMA_PORT:-11434}',
    },
  },
  {
    name: 'MEDIC_OLLAMA_MODEL',
    group: 'diagnosis',
    doc: 'The Ollama model (pull it first: `ollama pull llama3.2:3b`; `npm run setup:ollama` builds `medic-small`, which `npm start` uses).',
    parser: 'non-empty-text',
    default: 'llama3.2:3b',
    fills: ['diagnosis.ollama.model'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_PROVIDER_TIMEOUT',
    group: 'diagnosis',
    doc: 'How long each model may take before the next provider is asked.',
    parser: 'duration',
    default: '20s',
    fills: ['diagnosis.gemini.timeoutMs', 'diagnosis.ollama.timeoutMs'],
  },
  {
    name: 'MEDIC_PROMPT_LOG_CHARS',
    group: 'diagnosis',
    doc: 'Logs in a prompt are cut to their last this many characters.',
    parser: 'int',
    min: 100,
    max: 100_000,
    default: '2000',
    fills: ['diagnosis.promptLogChars'],
  },
  {
    name: 'MEDIC_RUNBOOK_PATH',
    group: 'diagnosis',
    doc: 'The learned runbook (a JSON file).',
    parser: 'text',
    default: 'runbook.json',
    fills: ['runbookPath'],
  },
  {
    name: 'MEDIC_RUNBOOK_MIN_SUCCESS_RATE',
    group: 'diagnosis',
    doc: 'A known fix is applied without a model when at least this share of its uses resolved (a rejection and a recurrence count as uses that did not), over at least `MEDIC_RUNBOOK_MIN_USES` uses. A fix whose last two uses failed goes back to the models whatever its rate.',
    parser: 'number',
    min: 0,
    max: 1,
    default: '0.8',
    fills: ['diagnosis.runbookTrust.minSuccessRate'],
  },
  {
    name: 'MEDIC_RUNBOOK_MIN_USES',
    group: 'diagnosis',
    doc: 'The uses a known fix needs before its success rate (`MEDIC_RUNBOOK_MIN_SUCCESS_RATE`) counts: with 2, one success is not enough to skip the models, two are.',
    parser: 'int',
    min: 1,
    max: 10_000,
    default: '2',
    fills: ['diagnosis.runbookTrust.minUses'],
  },

  // --- Notifications ---
  {
    name: 'MEDIC_SLACK_WEBHOOK_URL',
    group: 'notifications',
    doc: 'A Slack incoming webhook: notifications as Block Kit messages (logged as scheme and host only).',
    parser: 'http-url',
    secret: true,
    fills: ['notify.slackWebhookUrl'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_SLACK_BUTTONS',
    group: 'notifications',
    doc: "`on`: Slack messages that await a decision carry Approve and Reject buttons; needs the Slack app's interactivity pointed at `POST /integrations/slack/actions` and `MEDIC_SLACK_SIGNING_SECRET` on the API.",
    parser: 'switch',
    values: ['on', 'off'],
    default: 'off',
    fills: ['notify.slackButtons'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_SLACK_SIGNING_SECRET',
    group: 'notifications',
    doc: "The Slack app's signing secret (Basic Information, App Credentials): `POST /integrations/slack/actions` checks each click's `v0` signature with it; unset, that route answers 404.",
    parser: 'secret',
    min: 8,
    secret: true,
    fills: ['slack.signingSecret'],
    services: ['medic-api'],
  },
  {
    name: 'MEDIC_SLACK_APPROVERS',
    group: 'notifications',
    doc: 'Slack users who may decide with the buttons: user ids, each optionally bound to its workspace (`U0456,T0123/U0789`); a workspace id alone admits nobody. Anyone else gets "you may not decide this", recorded in the timeline.',
    parser: 'slack-approvers',
    default: '',
    fills: ['slack.approvers'],
    services: ['medic-api'],
  },
  {
    name: 'MEDIC_SLACK_RESPONSE_HOSTS',
    group: 'notifications',
    doc: "Hosts a click's `response_url` may name (https only, but for loopback): Medic posts the outcome there and nowhere else.",
    parser: 'list',
    default: 'hooks.slack.com',
    fills: ['slack.responseHosts'],
    services: ['medic-api'],
  },
  {
    name: 'MEDIC_NOTIFY_WEBHOOK_URL',
    group: 'notifications',
    doc: 'A generic webhook: notifications as the documented JSON body.',
    parser: 'http-url',
    secret: true,
    fills: ['notify.webhookUrl'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_PAGERDUTY_ROUTING_KEY',
    group: 'notifications',
    doc: "A PagerDuty Events API v2 integration key: one PagerDuty incident per Medic incident (`dedup_key` = its first run's id), triggered when a person is needed or Medic gave up, acknowledged when it goes on without one, resolved when healthy again or rejected.",
    parser: 'secret',
    min: 20,
    secret: true,
    fills: ['notify.pagerdutyRoutingKey'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_PAGERDUTY_EVENTS_URL',
    group: 'notifications',
    doc: "Where PagerDuty's events go: its Events API, or a local receiver in tests.",
    parser: 'base-url',
    default: 'https://events.pagerduty.com/v2/enqueue',
    fills: ['notify.pagerdutyEventsUrl'],
  },
  {
    name: 'MEDIC_TEAMS_WEBHOOK_URL',
    group: 'notifications',
    doc: 'A Microsoft Teams incoming webhook (a Workflows "when a Teams webhook request is received" URL): notifications as Adaptive Cards that link to the console (logged as scheme and host only).',
    parser: 'http-url',
    secret: true,
    fills: ['notify.teamsWebhookUrl'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_NOTIFY_ROUTES',
    group: 'notifications',
    doc: "`level=URL,...` (e.g. `on-call=<url>,team-lead=webhook:<url>,manager=teams:<url>,on-call=pagerduty:<integration key>`): that escalation level's notifications go there instead; `slack:`, `webhook:` or `teams:` chooses the format.",
    parser: 'notify-routes',
    default: '',
    secret: true,
    fills: ['notify.routes'],
  },
  {
    name: 'MEDIC_PUBLIC_URL',
    group: 'notifications',
    doc: 'The base of the console and report links in notifications.',
    parser: 'http-url',
    unsetMeans: "the API's URL (`http://MEDIC_HOST:MEDIC_PORT`)",
    fills: ['notify.publicUrl'],
    services: ['medic-api'],
  },
  {
    name: 'MEDIC_NOTIFY_TIMEOUT',
    group: 'notifications',
    doc: "Each notification POST's limit.",
    parser: 'duration',
    min: 100,
    max: 9000,
    bounds: 'an attempt of the notify activity may take 10 s',
    default: '5s',
    fills: ['notify.timeoutMs'],
  },

  // --- Hosts and workers ---
  {
    name: 'MEDIC_HOST_NAME',
    group: 'hosts',
    doc: 'The container host this worker serves (letters, digits, `_ . -`); incident ids, alerts and the engine watch name hosts the same way.',
    parser: 'host-name',
    default: LOCAL_HOST,
    fills: ['worker.hostName'],
    services: ['medic-worker', 'medic-api', 'demo'],
  },
  {
    name: 'MEDIC_WORKER_ROLE',
    group: 'hosts',
    doc: 'What a worker process polls: `all` (the central queue, the runbook writer and its host), `central`, or `host`.',
    parser: 'worker-role',
    values: WORKER_ROLES,
    default: 'all',
    fills: ['worker.role'],
    composeSets: { services: ['medic-worker'], value: 'all' },
  },
  {
    name: 'MEDIC_WORKFLOW_CACHE',
    group: 'hosts',
    // Enough for the incidents a team has open at once, small enough that a worker with a thousand waiting
    // incidents stays under 500 MB (bench:scale); Temporal's own default grows with the heap limit.
    doc: "Workflows a worker keeps in memory between their tasks (Temporal's sticky cache); a waiting incident costs about half a megabyte, an evicted one replays its history when it wakes.",
    parser: 'int',
    min: 40,
    max: 100_000,
    bounds: "at least the worker's concurrent workflow tasks",
    default: '250',
    fills: ['worker.workflowCache'],
  },
  {
    name: 'MEDIC_HOST_WAIT',
    group: 'hosts',
    doc: "How long an incident waits for a worker on its host's queue to take its first task before it escalates.",
    parser: 'duration',
    default: '2m',
    fills: ['incident.hostWaitMs'],
  },
  {
    name: 'MEDIC_ENGINE_OUTAGE_WAIT',
    group: 'hosts',
    doc: 'How long a step that needs the container engine waits, retrying, for an engine that does not answer before the incident escalates (set it on the central worker).',
    parser: 'duration',
    default: '5m',
    fills: ['incident.engineOutageWaitMs'],
  },
  {
    name: 'DOCKER_HOST',
    group: 'hosts',
    doc: "The Docker Engine API (Podman's works too) of this worker's host; a `central` worker opens none.",
    parser: 'optional',
    unsetMeans: '`/var/run/docker.sock`',
    fills: ['dockerHost'],
    composeSets: {
      services: ['medic-worker'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
      value: 'tcp://${DOCKER_PROXY_HOST:-docker-proxy}:${DOCKER_PROXY_PORT:-2375}',
    },
  },
  {
    name: 'MEDIC_WORKER_METRICS_ADDRESS',
    group: 'hosts',
    doc: '`host:port` where the worker serves Prometheus metrics (`temporal_*`, `medic_*`); empty: no exporter (`npm start` uses `127.0.0.1:9464`).',
    parser: 'metrics-address',
    default: '',
    fills: ['workerMetricsAddress'],
    composeSets: {
      services: ['medic-worker'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the compose file's own text
      value: '${MEDIC_WORKER_METRICS_BIND:-0.0.0.0}:${MEDIC_WORKER_METRICS_PORT:-9464}',
    },
  },
  {
    name: 'MEDIC_WORKER_HEALTH_FILE',
    group: 'hosts',
    doc: "The file the worker touches while it runs and Temporal answers; the image's health check reads it.",
    unsetMeans: '`medic-worker.health` in the temporary directory',
    readBy: ['src/worker-health.ts'],
  },
  {
    name: 'MEDIC_WORKFLOW_BUNDLE',
    group: 'hosts',
    doc: 'A pre-built workflow bundle (`npm run build` makes one) instead of bundling at start.',
    readBy: ['src/worker.ts'],
  },

  // --- Watching ---
  {
    name: 'MEDIC_WATCHER',
    group: 'watching',
    doc: 'The engine event watcher and the health sweep (`off` for setups that do not want them).',
    parser: 'switch',
    values: ['on', 'off'],
    default: 'on',
    fills: ['watch.enabled'],
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_WATCHER_HEARTBEAT_TIMEOUT',
    group: 'watching',
    doc: 'A watching worker silent this long is presumed dead; another takes over.',
    parser: 'duration',
    default: '10s',
    fills: ['watch.heartbeatTimeoutMs'],
  },
  {
    name: 'MEDIC_SWEEP_INTERVAL',
    group: 'watching',
    doc: 'How often the health sweep runs; `0` stops it.',
    parser: 'duration',
    default: '15s',
    fills: ['watch.sweepIntervalMs'],
  },
  {
    name: 'MEDIC_SWEEP_CPU_PERCENT',
    group: 'watching',
    doc: 'CPU use (as % of one CPU) the sweep reports.',
    parser: 'number',
    min: 1,
    max: 10_000,
    default: '85',
    fills: ['watch.thresholds.cpuPercent'],
  },
  {
    name: 'MEDIC_SWEEP_MEMORY_PERCENT',
    group: 'watching',
    doc: "Memory use (as % of the container's limit) the sweep reports.",
    parser: 'number',
    min: 1,
    max: 100,
    default: '80',
    fills: ['watch.thresholds.memoryPercent'],
  },
  {
    name: 'MEDIC_SWEEP_SUSTAINED',
    group: 'watching',
    doc: 'Sweeps in a row a CPU, memory or health-URL reading must be bad before it is reported.',
    parser: 'int',
    min: 1,
    max: 100,
    default: '2',
    fills: ['watch.thresholds.sustainedSweeps'],
  },

  // --- Logs ---
  {
    name: 'MEDIC_LOG_LEVEL',
    group: 'logs',
    doc: "Medic's own log level.",
    parser: 'enum',
    values: ['debug', 'info', 'warn', 'error'],
    default: 'info',
    fills: ['logLevel'],
    readBy: ['src/logger.ts'],
    services: MEDIC_SERVICES,
  },
  {
    name: 'MEDIC_LOG_FORMAT',
    group: 'logs',
    doc: "How log lines are written: `pretty` (readable lines, for a person at a terminal), `json` (one JSON object a line, for a log pipeline: Medic's images set it), or `auto`: pretty on a terminal, JSON otherwise.",
    parser: 'enum',
    values: ['auto', 'pretty', 'json'],
    default: 'auto',
    fills: ['logFormat'],
    readBy: ['src/logger.ts'],
  },
  {
    name: 'MEDIC_LOG_MAX_LINE_CHARS',
    group: 'logs',
    doc: 'Characters kept of one log line of an alert (its start), wherever it was gathered (webhook, engine, engine watch).',
    parser: 'int',
    min: 200,
    max: 16_000,
    bounds: "one alert stays far below Temporal's 2 MB payload limit",
    default: '2000',
    fills: ['logLimits.maxLineChars', 'diagnosis.logLimits.maxLineChars'],
  },
  {
    name: 'MEDIC_LOG_MAX_LINES',
    group: 'logs',
    doc: 'Log lines kept per alert (the newest).',
    parser: 'int',
    min: 1,
    max: 1000,
    bounds: "one alert stays far below Temporal's 2 MB payload limit",
    default: '200',
    fills: ['logLimits.maxLines', 'diagnosis.logLimits.maxLines'],
  },
  {
    name: 'MEDIC_LOG_MAX_BYTES',
    group: 'logs',
    doc: 'UTF-8 bytes of all the log lines kept per alert.',
    parser: 'int',
    min: 1024,
    max: 256 * 1024,
    bounds: "one alert stays far below Temporal's 2 MB payload limit",
    default: '32768',
    fills: ['logLimits.maxBytes', 'diagnosis.logLimits.maxBytes'],
  },

  // --- Local development ---
  {
    name: 'TEMPORAL_CLI_PATH',
    group: 'development',
    doc: 'The Temporal CLI (dev server) binary.',
    unsetMeans: 'found on `PATH` or installed into `.tools/` by `npm run setup`',
    readBy: ['scripts/tools.ts'],
  },
  {
    name: 'TEMPORAL_TEST_SERVER_PATH',
    group: 'development',
    doc: "Temporal's time-skipping test server binary.",
    unsetMeans: 'found on `PATH` or installed into `.tools/` by `npm run setup`',
    readBy: ['scripts/tools.ts'],
  },
  {
    name: 'DEMO_APP_PORT',
    group: 'development',
    doc: "The demo app's port under `npm start`.",
    default: '8080',
    readBy: ['scripts/local-stack.ts'],
  },
  {
    name: 'DEMO_MEMORY_LIMIT_MB',
    group: 'development',
    doc: "The demo app's memory limit under `npm start`, in MB.",
    default: '384',
    readBy: ['scripts/local-stack.ts'],
  },
  {
    name: 'DEMO_SETTINGS_FILE',
    group: 'development',
    doc: "The demo app's settings file (`npm start` uses `.data/<demo name>-settings/settings.json` and clears it at start).",
    readBy: ['demo-app/src/config.ts'],
  },
  {
    name: 'DEMO_RELEASE_FILE',
    group: 'development',
    doc: 'The file that makes a demo image a bad release (`npm run demo:deploy -- bad` bakes it into the image); no file: a good release.',
    default: '/app/release.json',
    readBy: ['demo-app/src/config.ts'],
  },

  // --- Compose: images ---
  ...(
    [
      [
        'POSTGRES_IMAGE',
        'postgres:15.10-bookworm',
        ['postgresql', 'temporal-certs'],
        "Temporal's database; its openssl makes the TLS overlay's certificates.",
      ],
      ['TEMPORAL_SERVER_IMAGE', 'temporalio/server:1.32.2', ['temporal'], 'The Temporal server.'],
      [
        'TEMPORAL_ADMIN_TOOLS_IMAGE',
        'temporalio/admin-tools:1.32.2',
        ['temporal-schema', 'temporal-setup'],
        'The one-shot jobs that create the schema and register the namespace.',
      ],
      ['TEMPORAL_UI_IMAGE', 'temporalio/ui:2.56.4', ['temporal-ui'], 'The Temporal Web UI.'],
      ['PROMETHEUS_IMAGE', 'prom/prometheus:v2.42.0', ['prometheus'], 'Prometheus (monitoring profile).'],
      [
        'ALERTMANAGER_IMAGE',
        'prom/alertmanager:v0.25.0',
        ['alertmanager'],
        'Alertmanager (monitoring profile).',
      ],
      ['GRAFANA_IMAGE', 'grafana/grafana:11.3.0', ['grafana'], 'Grafana (monitoring profile).'],
      [
        'OLLAMA_IMAGE',
        'ollama/ollama:0.17.4',
        ['ollama'],
        'Ollama (ollama profile): the version `npm run setup:ollama` builds from source.',
      ],
      [
        'DOCKER_PROXY_IMAGE',
        'haproxy:2.6.12',
        ['docker-proxy'],
        'The Docker socket proxy: HAProxy with deploy/docker-proxy/haproxy.cfg (the version Debian ships, which the tests run).',
      ],
      [
        'MEDIC_WORKER_IMAGE',
        'medic-worker:local',
        ['medic-worker'],
        "Medic's worker, built from docker/medic.Dockerfile.",
      ],
      [
        'MEDIC_API_IMAGE',
        'medic-api:local',
        ['medic-api'],
        "Medic's API, built from docker/medic.Dockerfile.",
      ],
      ['DEMO_IMAGE', 'medic-demo-app:local', ['demo'], 'The demo app, built from demo-app/Dockerfile.'],
      [
        'MEDIC_NODE_IMAGE',
        'node:20.20.2-bookworm-slim',
        ['medic-worker', 'medic-api'],
        "The Node.js base of Medic's images (a build argument).",
      ],
    ] as const
  ).map(([name, value, services, doc]) => ({
    name,
    group: 'compose-images' as const,
    doc,
    default: value,
    services,
  })),

  // --- Compose: Temporal's services ---
  {
    name: 'POSTGRES_USER',
    group: 'compose-temporal',
    doc: "Temporal's database user.",
    default: 'temporal',
    services: ['postgresql', 'temporal-schema', 'temporal'],
  },
  {
    name: 'POSTGRES_PASSWORD',
    group: 'compose-temporal',
    doc: "Temporal's database password.",
    secret: true,
    services: ['postgresql', 'temporal-schema', 'temporal'],
  },
  {
    name: 'TEMPORAL_NAMESPACE_RETENTION',
    group: 'compose-temporal',
    doc: "How long Temporal keeps a closed incident's history.",
    default: '30d',
    services: ['temporal-setup'],
  },
  {
    name: 'TEMPORAL_LOG_LEVEL',
    group: 'compose-temporal',
    doc: "The Temporal server's log level.",
    default: 'warn',
    services: ['temporal'],
  },
  {
    name: 'TEMPORAL_DISABLE_WRITE_ACTIONS',
    group: 'compose-temporal',
    doc: "`true`: a read-only Web UI (no signals, updates or terminations from it). `false` only behind the UI's own sign-in: whoever reaches a writable UI can approve incidents (`npm start` keeps them on).",
    default: 'true',
    services: ['temporal-ui'],
  },

  // --- Compose: secrets and the engine ---
  {
    name: 'MEDIC_SECRETS_DIR',
    group: 'compose-access',
    doc: "Folder of the monitoring profile's secret files, each mounted at /run/secrets/<name> into its own service only: prometheus-token and alertmanager-web-password (Prometheus), alertmanager-token and alertmanager-web.yml (Alertmanager), grafana-admin-password (Grafana). Compose 1.29 keeps the files' modes: chmod 700 the folder, chown each file to its service's user (65534 for Prometheus and Alertmanager, 472 for Grafana) and chmod 400 it.",
    default: './.secrets',
    services: ['prometheus', 'alertmanager', 'grafana'],
  },
  {
    name: 'DOCKER_SOCKET',
    group: 'compose-access',
    doc: 'The engine socket, mounted into the Docker socket proxy only (the worker talks to the proxy).',
    default: '/var/run/docker.sock',
    services: ['docker-proxy'],
  },
  {
    name: 'DOCKER_SOCKET_GID',
    group: 'compose-access',
    doc: "The socket's group, so the socket proxy's non-root user may use it: `echo DOCKER_SOCKET_GID=$(stat -c %g /var/run/docker.sock) >> .env`.",
    default: '0',
    services: ['docker-proxy'],
  },

  // --- Compose: addresses ---
  ...(
    [
      [
        'MEDIC_API_PUBLISH_ADDRESS',
        '127.0.0.1',
        'medic-api',
        "Where the API's port is published on the host.",
      ],
      [
        'TEMPORAL_PUBLISH_ADDRESS',
        '127.0.0.1',
        'temporal',
        "Where Temporal's port is published on the host.",
      ],
      [
        'TEMPORAL_UI_PUBLISH_ADDRESS',
        '127.0.0.1',
        'temporal-ui',
        "Where the Web UI's port is published on the host.",
      ],
      ['DEMO_PUBLISH_ADDRESS', '127.0.0.1', 'demo', "Where the demo app's port is published on the host."],
      [
        'PROMETHEUS_PUBLISH_ADDRESS',
        '127.0.0.1',
        'prometheus',
        "Where Prometheus's port is published on the host.",
      ],
      [
        'ALERTMANAGER_PUBLISH_ADDRESS',
        '127.0.0.1',
        'alertmanager',
        "Where Alertmanager's port is published on the host.",
      ],
      ['GRAFANA_PUBLISH_ADDRESS', '127.0.0.1', 'grafana', "Where Grafana's port is published on the host."],
      [
        'POSTGRES_LISTEN_ADDRESSES',
        '*',
        'postgresql',
        "PostgreSQL's `listen_addresses` inside its container.",
      ],
      [
        'TEMPORAL_BIND_ON_IP',
        '0.0.0.0',
        'temporal',
        "The Temporal server's bind address inside its container.",
      ],
      ['TEMPORAL_UI_BIND', '0.0.0.0', 'temporal-ui', "The Web UI's bind address inside its container."],
      [
        'MEDIC_API_BIND',
        '0.0.0.0',
        'medic-api',
        "The API's bind address inside its container (its `MEDIC_HOST`).",
      ],
      [
        'MEDIC_WORKER_METRICS_BIND',
        '0.0.0.0',
        'medic-worker',
        "The bind address of the worker's metrics inside its container.",
      ],
      [
        'DOCKER_PROXY_BIND',
        '0.0.0.0',
        'docker-proxy',
        "The socket proxy's bind address inside its container (on the `engine` network only).",
      ],
      ['PROMETHEUS_BIND', '0.0.0.0', 'prometheus', "Prometheus's bind address inside its container."],
      ['ALERTMANAGER_BIND', '0.0.0.0', 'alertmanager', "Alertmanager's bind address inside its container."],
      ['GRAFANA_BIND', '0.0.0.0', 'grafana', "Grafana's bind address inside its container."],
      ['OLLAMA_BIND', '0.0.0.0', 'ollama', "Ollama's bind address inside its container (ollama profile)."],
    ] as const
  ).map(([name, value, service, doc]) => ({
    name,
    group: 'compose-addresses' as const,
    doc,
    default: value,
    services: [service],
  })),
  {
    name: 'POSTGRES_HOST',
    group: 'compose-addresses',
    doc: 'How Temporal finds its database.',
    default: 'postgresql',
    services: ['temporal-schema', 'temporal'],
  },
  {
    name: 'TEMPORAL_HOST',
    group: 'compose-addresses',
    doc: 'How the services find the Temporal server (with `TEMPORAL_PORT`, their `TEMPORAL_ADDRESS`).',
    default: 'temporal',
    services: ['temporal-setup', 'temporal-ui', ...MEDIC_SERVICES],
  },
  {
    name: 'DOCKER_PROXY_HOST',
    group: 'compose-addresses',
    doc: 'How the worker finds the Docker socket proxy (its `DOCKER_HOST`, with `DOCKER_PROXY_PORT`).',
    default: 'docker-proxy',
    services: ['medic-worker'],
  },
  {
    name: 'MEDIC_API_HOST',
    group: 'compose-addresses',
    doc: 'How the demo app finds the API it sends alerts to.',
    default: 'medic-api',
    services: ['demo'],
  },
  {
    name: 'DEMO_HEALTH_HOST',
    group: 'compose-addresses',
    doc: "The host in the demo app's `medic.health-url` label (a name `MEDIC_HEALTH_URL_HOSTS` allows).",
    default: 'demo',
    services: ['demo'],
  },
  {
    name: 'PROMETHEUS_HOST',
    group: 'compose-addresses',
    doc: 'How Grafana finds Prometheus.',
    default: 'prometheus',
    services: ['grafana'],
  },

  // --- Compose: ports ---
  ...(
    [
      ['POSTGRES_PORT', '5432', ['postgresql', 'temporal-schema', 'temporal'], "PostgreSQL's port."],
      [
        'TEMPORAL_PORT',
        '7233',
        ['temporal', 'temporal-setup', 'temporal-ui', ...MEDIC_SERVICES],
        "The Temporal frontend's gRPC port.",
      ],
      ['TEMPORAL_HTTP_PORT', '7243', ['temporal'], "The Temporal frontend's HTTP port."],
      ['TEMPORAL_HISTORY_PORT', '7234', ['temporal'], "Temporal's history service."],
      ['TEMPORAL_MATCHING_PORT', '7235', ['temporal'], "Temporal's matching service."],
      ['TEMPORAL_WORKER_PORT', '7239', ['temporal'], "Temporal's internal worker service."],
      ['TEMPORAL_FRONTEND_MEMBERSHIP_PORT', '6933', ['temporal'], "The frontend's membership port."],
      ['TEMPORAL_HISTORY_MEMBERSHIP_PORT', '6934', ['temporal'], "The history service's membership port."],
      ['TEMPORAL_MATCHING_MEMBERSHIP_PORT', '6935', ['temporal'], "The matching service's membership port."],
      ['TEMPORAL_WORKER_MEMBERSHIP_PORT', '6939', ['temporal'], "The worker service's membership port."],
      ['TEMPORAL_METRICS_PORT', '8000', ['temporal'], "The Temporal server's Prometheus metrics."],
      ['TEMPORAL_UI_PORT', '8233', ['temporal-ui'], 'The Temporal Web UI.'],
      ['MEDIC_API_PORT', '3000', ['medic-api', 'demo'], 'The API (its `MEDIC_PORT`).'],
      [
        'MEDIC_WORKER_METRICS_PORT',
        '9464',
        ['medic-worker'],
        "The worker's Prometheus metrics (its `MEDIC_WORKER_METRICS_ADDRESS`).",
      ],
      ['DEMO_PORT', '8080', ['demo'], 'The demo app.'],
      [
        'DOCKER_PROXY_PORT',
        '2375',
        ['docker-proxy', 'medic-worker'],
        'The Docker socket proxy (never published).',
      ],
      ['PROMETHEUS_PORT', '9090', ['prometheus', 'grafana'], 'Prometheus.'],
      ['ALERTMANAGER_PORT', '9093', ['alertmanager'], 'Alertmanager.'],
      ['GRAFANA_PORT', '3001', ['grafana'], 'Grafana.'],
      ['OLLAMA_PORT', '11434', ['ollama'], 'Ollama (ollama profile; never published).'],
    ] as const
  ).map(([name, value, services, doc]) => ({
    name,
    group: 'compose-ports' as const,
    doc,
    default: value,
    services,
  })),

  // --- Compose: the demo app ---
  {
    name: 'DEMO_CONTAINER_NAME',
    group: 'compose-demo',
    doc: "The demo app's container name (the target its alerts name, and the one its sender may speak for); also read by `npm start` and `npm run demo:deploy`.",
    default: 'medic-demo',
    services: ['medic-api', 'demo'],
    readBy: ['scripts/local-stack.ts', 'scripts/demo-deploy.ts'],
  },
  {
    name: 'MEDIC_DEMO_WEBHOOK_SECRET',
    group: 'compose-demo',
    doc: "The demo app's webhook secret, as the sender `demo` (at least 16 characters, not `MEDIC_WEBHOOK_SECRET`): it speaks only for the demo container on this host.",
    secret: true,
    services: ['medic-api', 'demo'],
  },
  {
    name: 'MEDIC_WEBHOOK_SENDER',
    group: 'compose-demo',
    doc: 'The name the demo app gives in `X-Medic-Sender`: one of `MEDIC_WEBHOOK_SENDERS`, whose secret it signs with (`MEDIC_WEBHOOK_SECRET` in its environment); unset: it signs as the plain secret.',
    readBy: ['demo-app/src/config.ts'],
    composeSets: { services: ['demo'], value: 'demo' },
  },
  {
    name: 'DEMO_MEMORY_LIMIT',
    group: 'compose-demo',
    doc: "The demo app's memory limit, so that `/trigger/oom` ends in a real OOM kill.",
    default: '384m',
    services: ['demo'],
  },
  {
    name: 'DEMO_MEMORY_MAX',
    group: 'compose-demo',
    doc: "How far Medic may raise the demo app's memory limit after an OOM kill (its label `medic.memory.max`; `npm start` gives 2 x its limit).",
    default: '768m',
    services: ['demo'],
  },
  {
    name: 'DEMO_OOM_ALLOCATE_MB',
    group: 'compose-demo',
    doc: 'What `/trigger/oom` allocates at once, in MB: a fixed amount, so that a raised limit fixes it (also read by `npm start`).',
    unsetMeans:
      '1.2 x the memory limit the container first started with (461 for 384 MiB), kept beside its settings file',
    services: ['demo'],
    readBy: ['scripts/local-stack.ts'],
  },
  {
    name: 'DEMO_MEMORY_LEAK_MAX_MB',
    group: 'compose-demo',
    doc: 'How far `/trigger/memory-leak` grows, in MB (also read by `npm start`).',
    default: '240',
    services: ['demo'],
    readBy: ['scripts/local-stack.ts'],
  },
  {
    name: 'DEMO_MONITOR_INTERVAL_MS',
    group: 'compose-demo',
    doc: 'How often the demo app checks itself and alerts, in milliseconds (also read by `npm start`).',
    default: '3000',
    services: ['demo'],
    readBy: ['scripts/local-stack.ts'],
  },
] as const satisfies readonly SettingRow[];

export type Setting = (typeof SETTINGS)[number];
export type SettingName = Setting['name'];
/** Medic's own settings: read and validated by config.ts. */
export type ParsedSetting = Extract<Setting, { parser: SettingParser }>;

const BY_NAME: ReadonlyMap<string, SettingRow> = new Map(SETTINGS.map((row) => [row.name, row]));

export function settingRow(name: SettingName): SettingRow {
  const row = BY_NAME.get(name);
  if (!row) throw new Error(`${name} is not in the settings table`);
  return row;
}

function defaultOf(name: SettingName, parsers: readonly SettingParser[]): string {
  const row = settingRow(name);
  if (!row.parser || !parsers.includes(row.parser))
    throw new Error(`${name} is read as ${row.parser ?? 'nothing'}, not as ${parsers.join(' or ')}`);
  if (row.default === undefined) throw new Error(`${name} has no default`);
  return row.default;
}

/** A setting's default text, for the modules that need it as it is written (a URL, a level). */
export const defaultText = (name: SettingName): string =>
  defaultOf(name, [
    'text',
    'non-empty-text',
    'text-or-default',
    'enum',
    'worker-role',
    'base-url',
    'severity-policy',
  ]);

/** A numeric setting's default. */
export const defaultNumber = (name: SettingName): number => Number(defaultOf(name, ['int', 'number']));

/** A duration setting's default, in milliseconds. */
export const defaultMs = (name: SettingName): number => parseDuration(defaultOf(name, ['duration']));

/** A comma-separated setting's default, as its items. */
export const defaultList = (name: SettingName): string[] =>
  defaultOf(name, ['list', 'label-names', 'escalation-levels'])
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
