// Building blocks for tests: Medic's real activities over a given runtime, a quiet logger that
// keeps its lines, the demo app as a supervised process, and signed webhook requests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { bundleDemoApp } from '../../scripts/demo-image.js';
import {
  type ContainerRuntime,
  HEALTH_URL_LABEL,
  ProcessSupervisor,
} from '../../src/activities/containers.js';
import type { DiagnosisSettings } from '../../src/activities/diagnose/settings.js';
import { createActivities } from '../../src/activities/index.js';
import { LogNotifier } from '../../src/activities/notify.js';
import { RunbookStore } from '../../src/activities/runbook.js';
import { signWebhook } from '../../src/api/webhook-signature.js';
import { DEFAULT_GUARD_LIMITS } from '../../src/domain/guard.js';
import { DEFAULT_APPROVAL_POLICY } from '../../src/domain/policy.js';
import type { IncidentSettings } from '../../src/domain/settings.js';
import type { Alert } from '../../src/domain/types.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { freePort, waitFor } from './ports.js';

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
) {
  const { logger, lines } = captureLogger();
  const activities = createActivities({
    incidentSettings: settings,
    runtime,
    runbook,
    notifier: new LogNotifier(logger),
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

/** The demo app as a real process under Medic's process supervisor. */
export async function superviseDemoApp(options: {
  name: string;
  env?: Record<string, string>;
  /** Add the process to this supervisor (several targets under one runtime). */
  supervisor?: ProcessSupervisor;
}) {
  const bundle = await bundleDemoApp();
  const port = await freePort();
  const supervisor = options.supervisor ?? new ProcessSupervisor(MANAGED);
  supervisor.start({
    name: options.name,
    command: process.execPath,
    args: [bundle.file],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      CONTAINER_NAME: options.name,
      MONITOR_INTERVAL_MS: '600000', // the tests send alerts themselves
      ...options.env,
    },
    labels: { 'medic.managed': 'true', [HEALTH_URL_LABEL]: `http://127.0.0.1:${port}/health` },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the demo app to listen', async () => {
    const res = await fetch(`${url}/`);
    return res.status === 200;
  });
  return { supervisor, url, port };
}

export function signedRequest(secret: string, body: unknown, options: { timestampSeconds?: number } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-medic-timestamp': String(ts),
      'x-medic-signature': signWebhook(secret, ts, raw),
    },
    body: raw,
  };
}
