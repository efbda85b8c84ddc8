// Building blocks for tests: Medic's real activities over a given runtime, a quiet logger that
// keeps its lines, the demo app as a supervised process, and signed webhook requests and senders.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { bundleDemoApp } from '../../scripts/demo-image.js';
import {
  type ContainerRuntime,
  HEALTH_URL_LABEL,
  ProcessSupervisor,
  type SupervisedProcessSpec,
} from '../../src/activities/containers.js';
import type { DiagnosisSettings } from '../../src/activities/diagnose/settings.js';
import { createActivities } from '../../src/activities/index.js';
import { LogNotifier, type Notifier } from '../../src/activities/notify.js';
import { RunbookStore } from '../../src/activities/runbook.js';
import { signWebhook } from '../../src/api/webhook-signature.js';
import { DEFAULT_GUARD_LIMITS } from '../../src/domain/guard.js';
import { DEFAULT_APPROVAL_POLICY } from '../../src/domain/policy.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import type { Alert } from '../../src/domain/types.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { waitFor } from './ports.js';

export const MANAGED = { key: 'medic.managed', value: 'true' };

/** A logger whose JSON lines are kept for assertions instead of printed. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ name: 'test', level: 'debug', destination }), lines };
}

export function tempRunbook(): RunbookStore {
  return new RunbookStore(path.join(mkdtempSync(path.join(tmpdir(), 'medic-test-')), 'runbook.json'));
}

/**
 * Medic's activities as a worker runs them. `settings` are the worker's incident settings, which apply to
 * every incident it runs, whatever the starter passed: give the same ones to the gateway.
 */
export function buildActivities(
  runtime: ContainerRuntime,
  runbook = tempRunbook(),
  diagnosis?: DiagnosisSettings,
  settings: IncidentSettings = testSettings(),
  options: {
    /** The notifier to run, given the captured logger (its log lines still feed `notifications()`). */
    notifier?: (logger: Logger) => Notifier;
    /** The host half's own MEDIC_DRY_RUN, where it differs from the central half's (`settings.dryRun`). */
    hostDryRun?: boolean;
  } = {},
) {
  const { logger, lines } = captureLogger();
  const activities = createActivities({
    incidentSettings: settings,
    runtime,
    dryRun: options.hostDryRun ?? settings.dryRun,
    runbook,
    notifier: options.notifier ? options.notifier(logger) : new LogNotifier(logger),
    logger,
    ...(diagnosis ? { diagnosis } : {}),
  });
  const notifications = () =>
    lines.filter((l) => l.notification).map((l) => l.notification as Record<string, unknown>);
  return { activities, runbook, logLines: lines, notifications };
}

/** A firing medium-severity memory-leak alert about `target`, as the demo app sends it. */
export function alertFor(target: string, overrides: Partial<Alert> = {}): Alert {
  return {
    source: 'webhook',
    target,
    alertType: 'memory-leak',
    severity: 'medium',
    status: 'firing',
    logs: ['{"level":"error","msg":"memory usage above threshold","rssMb":300}'],
    firedAt: new Date().toISOString(),
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

export function testSettings(overrides: Partial<IncidentSettings> = {}): IncidentSettings {
  return {
    approvalTimeoutMs: 15 * 60 * 1000,
    policy: DEFAULT_APPROVAL_POLICY,
    healthRetry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 8 },
    restartStopTimeoutMs: 3000,
    searchAttributes: true,
    dryRun: false,
    // Permissive limits, so a test of something else is never denied by a guard by accident.
    guard: { ...DEFAULT_GUARD_LIMITS, cooldownMs: 0, maxRestartsPerHour: 1000 },
    budget: { perHour: 100_000, perDay: 100_000 },
    escalation: { levels: ['on-call', 'team-lead'], maxWaitMs: 4 * 60 * 60 * 1000 },
    recurrenceWindowMs: 0,
    ...overrides,
  };
}

/**
 * The demo app as a real process under Medic's process supervisor. It listens on port 0 and says in
 * its log which port it got; that port is kept for its restarts, as a container keeps its port.
 */
export async function superviseDemoApp(options: {
  name: string;
  env?: Record<string, string>;
  /** Add the process to this supervisor (several targets under one runtime). */
  supervisor?: ProcessSupervisor;
  /** More labels (the actions and plans it declares). */
  labels?: Record<string, string>;
}) {
  const bundle = await bundleDemoApp();
  const supervisor = options.supervisor ?? new ProcessSupervisor(MANAGED);
  // The supervisor reads this spec at every (re)start, so the bound port, once known, is the one it keeps.
  const spec: SupervisedProcessSpec & { env: Record<string, string> } = {
    name: options.name,
    command: process.execPath,
    args: [bundle.file],
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      CONTAINER_NAME: options.name,
      MONITOR_INTERVAL_MS: '600000', // the tests send alerts themselves
      ...options.env,
    },
    labels: { ...options.labels, 'medic.managed': 'true' },
  };
  supervisor.start(spec);
  const port = await waitFor(`${options.name} to say which port it listens on`, async () => {
    const info = await supervisor.inspect(options.name);
    if (info && !info.running)
      throw new Error(`exited: ${(await supervisor.logs(options.name, 20)).join('\n')}`);
    for (const line of await supervisor.logs(options.name, 50)) {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'demo app listening' && entry.port) return entry.port;
    }
    return undefined;
  });
  spec.env.PORT = String(port);
  spec.labels[HEALTH_URL_LABEL] = `http://127.0.0.1:${port}/health`;
  const url = `http://127.0.0.1:${port}`;
  await waitForDemoApp(url, options.name);
  return { supervisor, url, port };
}

/**
 * Waits until the demo app called `name` answers at `url`: it names itself at GET /, so a 200 from
 * whatever else holds that port is not taken for it.
 */
export async function waitForDemoApp(url: string, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `the demo app ${name} to answer at ${url}`,
    async () => {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { container_name?: string };
      if (res.status === 200 && body.container_name !== name)
        throw new Error(`${url} is answered by ${JSON.stringify(body.container_name)}, not ${name}`);
      return res.status === 200;
    },
    { timeoutMs },
  );
}

export function signedRequest(
  secret: string,
  body: unknown,
  options: { timestampSeconds?: number; sender?: string } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.sender === undefined ? {} : { 'x-medic-sender': options.sender }),
      'x-medic-timestamp': String(ts),
      'x-medic-signature': signWebhook(secret, ts, raw),
    },
    body: raw,
  };
}

/** What Medic's API answered: the status, the headers and the JSON body (its errors' shape typed). */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: {
    error?: { code: string; message: string; details?: Array<{ path: string; message: string }> };
  } & Record<string, unknown>;
}

/**
 * Signs each alert afresh with the sender's secret, posts it to `POST /webhooks/alert` and reads the answer.
 * `sender` is the name sent in X-Medic-Sender; without one the secret is the plain MEDIC_WEBHOOK_SECRET.
 */
export function signedSender(apiUrl: string, secret: string, sender?: string) {
  return async (alert: unknown, options: { timestampSeconds?: number } = {}): Promise<ApiAnswer> => {
    const res = await fetch(
      `${apiUrl}/webhooks/alert`,
      signedRequest(secret, alert, { ...options, ...(sender === undefined ? {} : { sender }) }),
    );
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
  };
}
