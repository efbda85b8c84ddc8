// Every setting of the demo app, read once from the environment and validated.
// Errors name the variable, the value and what is expected, all at once.
import os from 'node:os';
import path from 'node:path';
import { HOST_NAME_PATTERN, TARGET_NAME_PATTERN } from '../../src/domain/naming.js';
import { SENDER_NAME_PATTERN } from '../../src/domain/sender-scope.js';
import { RELEASE_FILE } from './release.js';

export interface Thresholds {
  /** RSS growth over the RSS at start. */
  memoryGrowthMb: number;
  eventLoopLagMs: number;
  dbLatencyMs: number;
  /** Application errors counted in one monitor interval. */
  errorsPerInterval: number;
}

export interface DemoConfig {
  port: number;
  host: string;
  webhookUrl: string;
  /** Undefined: alerts are only logged, never sent. */
  webhookSecret: string | undefined;
  /** MEDIC_WEBHOOK_SENDER: the name sent in X-Medic-Sender; undefined: the secret is Medic's plain one. */
  webhookSender: string | undefined;
  containerName: string;
  /** MEDIC_HOST_NAME: the host its alerts name, so Medic acts through that host's worker. */
  hostName: string | undefined;
  monitorIntervalMs: number;
  hangProbeTimeoutMs: number;
  startupDelayMs: number;
  memoryLeakMaxMb: number;
  /** The settings file that outlives restarts (a mounted volume in a container). */
  settingsFile: string;
  /** The most the oom fault's job may need, so without a container memory limit it cannot take the host down. */
  oomMaxMb: number;
  /** OOM_ALLOCATE_MB: what the oom fault's job needs; undefined: set from the memory limit at first start. */
  oomAllocateMb: number | undefined;
  /** DEMO_RELEASE_FILE: the file that makes an image a bad release (see release.ts). */
  releaseFile: string;
  thresholds: Thresholds;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Medic refuses shorter secrets, so a shorter one here could never verify. */
const MIN_SECRET_LENGTH = 16;

export function loadConfig(env: NodeJS.ProcessEnv): DemoConfig {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return value;
  };

  const optionalInteger = (name: string, min: number, max: number): number | undefined =>
    env[name]?.trim() ? integer(name, min, min, max) : undefined;

  const text = (name: string, fallback: string): string => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? fallback : raw;
  };

  const webhookUrl = text('MEDIC_WEBHOOK_URL', 'http://127.0.0.1:3000/webhooks/alert');
  if (!isHttpUrl(webhookUrl)) {
    problems.push(
      `MEDIC_WEBHOOK_URL must be an http(s) URL such as http://medic:3000/webhooks/alert (got ${JSON.stringify(webhookUrl)})`,
    );
  }

  // An empty value counts as unset: compose files often pass `${MEDIC_WEBHOOK_SECRET:-}`.
  const secret = env.MEDIC_WEBHOOK_SECRET === '' ? undefined : env.MEDIC_WEBHOOK_SECRET;
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    problems.push(
      `MEDIC_WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters and the same as Medic's (got ${secret.length})`,
    );
  }

  const sender = env.MEDIC_WEBHOOK_SENDER === '' ? undefined : env.MEDIC_WEBHOOK_SENDER;
  if (sender !== undefined && !SENDER_NAME_PATTERN.test(sender)) {
    problems.push(
      `MEDIC_WEBHOOK_SENDER must be a sender name of Medic's MEDIC_WEBHOOK_SENDERS: 1-64 of a-z 0-9 _ - (got ${JSON.stringify(sender)})`,
    );
  }

  const containerName = text('CONTAINER_NAME', 'medic-demo');
  if (!TARGET_NAME_PATTERN.test(containerName)) {
    problems.push(
      `CONTAINER_NAME must be a container name: letters, digits, _ . - and at most 128 characters (got ${JSON.stringify(containerName)})`,
    );
  }

  const hostName = env.MEDIC_HOST_NAME === '' ? undefined : env.MEDIC_HOST_NAME;
  if (hostName !== undefined && !HOST_NAME_PATTERN.test(hostName)) {
    problems.push(
      `MEDIC_HOST_NAME must be a host name as Medic's worker there is named: letters, digits, _ . - (got ${JSON.stringify(hostName)})`,
    );
  }

  const config: DemoConfig = {
    port: integer('PORT', 8080, 0, 65535),
    host: text('HOST', '0.0.0.0'),
    webhookUrl,
    webhookSecret: secret,
    webhookSender: sender,
    containerName,
    hostName,
    monitorIntervalMs: integer('MONITOR_INTERVAL_MS', 5000, 10, 3_600_000),
    hangProbeTimeoutMs: integer('HANG_PROBE_TIMEOUT_MS', 2000, 10, 600_000),
    startupDelayMs: integer('STARTUP_DELAY_MS', 0, 0, 3_600_000),
    memoryLeakMaxMb: integer('MEMORY_LEAK_MAX_MB', 600, 5, 65_536),
    settingsFile: text(
      'DEMO_SETTINGS_FILE',
      path.join(os.tmpdir(), `medic-demo-${containerName}`, 'settings.json'),
    ),
    oomMaxMb: integer('OOM_MAX_MB', 2048, 5, 65_536),
    oomAllocateMb: optionalInteger('OOM_ALLOCATE_MB', 5, 65_536),
    releaseFile: text('DEMO_RELEASE_FILE', RELEASE_FILE),
    thresholds: {
      memoryGrowthMb: integer('MEMORY_THRESHOLD_MB', 150, 1, 65_536),
      eventLoopLagMs: integer('EVENT_LOOP_LAG_THRESHOLD_MS', 200, 1, 600_000),
      dbLatencyMs: integer('DB_LATENCY_THRESHOLD_MS', 1000, 1, 600_000),
      errorsPerInterval: integer('ERROR_RATE_THRESHOLD', 20, 1, 1_000_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
