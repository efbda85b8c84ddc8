// The MTTR benchmark: how much time Medic adds to a container's own time to recover. The demo app runs
// in a real container (the local stack's helpers, as the end-to-end tests use them), and each round
// sends one signed memory-leak alert and waits until Medic has restarted the container and seen it
// healthy, then restarts the same container bare through the Engine API and polls /health itself.
// Prints p50/p95 per phase and the overhead, and writes bench/results/mttr.json (dev server) or
// mttr-cluster.json (MEDIC_TEST_TEMPORAL=cluster or --cluster: the server on PostgreSQL).
//
// The guards are set out of the way (cooldown 0, high hourly limits and budgets, no recurrence watch),
// the models off (the rules and the runbook diagnose), and the engine watcher off: each round is one
// alert, one diagnosis, one lease, one restart, one verification, one runbook write.
import '../../test/support/quiet-sdk.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { startStack } from '../../scripts/local-stack.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { signWebhook } from '../../src/api/webhook-signature.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { createLogger } from '../../src/logger.js';
import { portForAnotherProcess } from '../../test/support/ports.js';
import {
  buildWorkflowBundle,
  type HistoryTimes,
  historyTimes,
  log,
  onCluster,
  p50p95,
  runBench,
  startBenchParts,
  withBenchRun,
} from '../support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DEMO = 'medic-bench-mttr';
const ALERT_TYPE = 'memory-leak';
const STOP_TIMEOUT_S = 10;
const PHASES = ['ingest', 'diagnose', 'decide', 'approve', 'act', 'verify', 'record'] as const;
type Phase = (typeof PHASES)[number];
/** Out of the guards' way for this bench, and said so in its output. */
const GUARDS_OFF = {
  MEDIC_GUARD_COOLDOWN: '0s',
  MEDIC_GUARD_MAX_RESTARTS_PER_HOUR: '1000',
  MEDIC_BUDGET_PER_HOUR: '100000',
  MEDIC_BUDGET_PER_DAY: '1000000',
  MEDIC_BREAKER_THRESHOLD: '100',
  MEDIC_RECURRENCE_WINDOW: '0s',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Polls `url` every few milliseconds until it answers 200; resolves with when it did. */
async function pollUntilHealthy(url: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await healthy(url)) return Date.now();
    await sleep(5);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/**
 * The phases of one incident. From its state's `phases` when the workflow records them; otherwise from
 * the history's event times: ingest from the alert's sending to the workflow's start, diagnose from
 * gathering evidence to the diagnosis, decide up to the restart's scheduling (policy, lease, budget),
 * act and verify and record their activities. `admit` (the allowlist check) is in none of the phases.
 */
function phasesOf(state: IncidentState, h: HistoryTimes, sentMs: number): Record<Phase | 'admit', number> {
  const a = (name: string) => h.activities.get(name);
  const span = (from?: number, to?: number) =>
    from !== undefined && to !== undefined ? to - from : Number.NaN;
  const diagnosed = a('diagnoseEvidence')?.completedMs ?? a('diagnose')?.completedMs;
  const fromHistory = {
    ingest: h.startedMs - sentMs,
    admit: span(h.startedMs, a('gatherEvidence')?.scheduledMs ?? a('diagnose')?.scheduledMs),
    diagnose: span(a('gatherEvidence')?.scheduledMs ?? a('diagnose')?.scheduledMs, diagnosed),
    decide: span(diagnosed, a('restartContainer')?.scheduledMs),
    approve: 0,
    act: span(a('restartContainer')?.scheduledMs, a('restartContainer')?.completedMs),
    verify: span(a('verifyHealth')?.scheduledMs, a('verifyHealth')?.completedMs),
    record: span(a('recordRunbookOutcome')?.scheduledMs, a('recordRunbookOutcome')?.completedMs),
  };
  const recorded = (state as { phases?: Partial<Record<Phase, number>> }).phases;
  return recorded ? { ...fromHistory, ...recorded, approve: recorded.approve ?? 0 } : fromHistory;
}

interface Round {
  alertToHealthyMs: number;
  bareRestartToHealthyMs: number;
  phases: Record<Phase | 'admit', number>;
  historyEvents: number;
  verification: string;
  /** Whether the phases came from the incident's state (it records them) or its history. */
  phasesRecorded: boolean;
}

async function main(): Promise<void> {
  await withBenchRun('medic-bench-mttr-', async ({ work, cleanups }) => {
    const { temporal, engine } = await startBenchParts('bench:mttr', { work, cleanups });
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      MEDIC_PORT: '0',
      MEDIC_TASK_QUEUE: 'medic-bench-mttr',
      MEDIC_RUNBOOK_PATH: path.join(work, 'runbook.json'),
      MEDIC_WATCHER: 'off',
      MEDIC_PROVIDERS: '',
      MEDIC_RESTART_STOP_TIMEOUT: `${STOP_TIMEOUT_S}s`,
      MEDIC_LOG_LEVEL: 'warn',
      ...GUARDS_OFF,
    };
    const stack = await startStack({
      env,
      engine,
      // The demo app's own monitor stays quiet: the bench sends the alerts.
      demo: { name: DEMO, port: await portForAnotherProcess(), env: { MONITOR_INTERVAL_MS: '3600000' } },
      workflowBundlePath: await buildWorkflowBundle(work),
      logger: createLogger({ name: 'medic', level: 'warn' }),
      log,
    });
    cleanups.push(() => stack.stop());
    const health = `${stack.demo.url}/health`;
    const h = stack.config.incident.healthRetry;
    log(
      `Temporal ${temporal.kind} ${temporal.address}; engine ${engine.product}; demo app ${DEMO} in a container`,
    );
    log(
      `guards out of the way: cooldown 0, ${GUARDS_OFF.MEDIC_GUARD_MAX_RESTARTS_PER_HOUR} restarts per hour per target, budget ${GUARDS_OFF.MEDIC_BUDGET_PER_HOUR}/h and ${GUARDS_OFF.MEDIC_BUDGET_PER_DAY}/day, breaker at ${GUARDS_OFF.MEDIC_BREAKER_THRESHOLD} failures, recurrence watch off`,
    );
    log(
      `models off (rules, then the runbook, diagnose), engine watcher off; health checks: MEDIC_HEALTH_INITIAL_INTERVAL ${h.initialIntervalMs} ms, backoff ${h.backoffCoefficient}, ${h.maximumAttempts} attempts`,
    );

    const round = async (): Promise<Round> => {
      const alertToHealthy = await medicHeals(stack.apiUrl, stack.webhookSender, stack.client);
      await pollUntilHealthy(health);
      await sleep(300);
      const bare = await bareRestart(engine.docker.getContainer(DEMO), health);
      await sleep(300);
      return { ...alertToHealthy, bareRestartToHealthyMs: bare };
    };
    log('warm-up round (not counted)');
    await round();
    log(
      `load before the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    const rounds: Round[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await round();
      rounds.push(r);
      log(
        `round ${i + 1}: alert-to-healthy ${r.alertToHealthyMs} ms, bare ${r.bareRestartToHealthyMs} ms (${PHASES.map((p) => `${p} ${Math.round(r.phases[p])}`).join(', ')})`,
      );
    }
    report(rounds, temporal.kind, h);
  });
}

/** One incident: a signed alert, then the workflow's result; the sender resolves the alert afterwards. */
async function medicHeals(
  apiUrl: string,
  sender: { name: string; secret: string },
  client: Awaited<ReturnType<typeof startStack>>['client'],
): Promise<Omit<Round, 'bareRestartToHealthyMs'>> {
  const send = async (status: 'firing' | 'resolved') => {
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      container_name: DEMO,
      alert_type: ALERT_TYPE,
      severity: 'medium',
      status,
      logs: ['{"level":"error","msg":"memory usage above threshold","rssMb":512}'],
      timestamp: new Date().toISOString(),
    });
    const res = await fetch(`${apiUrl}/webhooks/alert`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-medic-sender': sender.name,
        'x-medic-timestamp': String(ts),
        'x-medic-signature': signWebhook(sender.secret, ts, body),
      },
    });
    if (res.status >= 300) throw new Error(`alert answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { runId?: string };
  };
  const sentMs = Date.now();
  const { runId } = await send('firing');
  const handle = client.workflow.getHandle(incidentWorkflowId(DEMO, ALERT_TYPE), runId);
  const state = (await handle.result()) as IncidentState;
  // Alertmanager would say the alert ended: the API stops coalescing copies into the closed incident.
  await send('resolved');
  if (state.status !== 'RESOLVED' || !state.verification?.healthy)
    throw new Error(`incident ended ${state.status}: ${state.timeline.at(-1)?.detail}`);
  const h = await historyTimes(handle);
  return {
    alertToHealthyMs: Date.parse(state.verification.checkedAt) - sentMs,
    phases: phasesOf(state, h, sentMs),
    historyEvents: h.events,
    verification: state.verification.detail,
    phasesRecorded: 'phases' in state,
  };
}

/** The physical floor: the same restart through the Engine API, and our own poller on /health. */
async function bareRestart(
  container: { restart(options: { t: number }): Promise<unknown> },
  health: string,
): Promise<number> {
  const started = Date.now();
  await container.restart({ t: STOP_TIMEOUT_S });
  return (await pollUntilHealthy(health)) - started;
}

function report(
  rounds: Round[],
  temporalKind: string,
  h: { initialIntervalMs: number; backoffCoefficient: number; maximumAttempts: number },
): void {
  const alert = p50p95(rounds.map((r) => r.alertToHealthyMs));
  const bare = p50p95(rounds.map((r) => r.bareRestartToHealthyMs));
  const phases = Object.fromEntries(
    [...PHASES, 'admit' as const].map((p) => [p, p50p95(rounds.map((r) => r.phases[p]))]),
  );
  const paired = p50p95(rounds.map((r) => r.alertToHealthyMs - r.bareRestartToHealthyMs));
  const figures = {
    runs: rounds.length,
    bareRestartToHealthyP50Ms: bare.p50Ms,
    bareRestartToHealthyP95Ms: bare.p95Ms,
    alertToHealthyP50Ms: alert.p50Ms,
    alertToHealthyP95Ms: alert.p95Ms,
    // Alert-to-healthy at each percentile minus the bare restart's median.
    overheadP50Ms: alert.p50Ms - bare.p50Ms,
    overheadP95Ms: alert.p95Ms - bare.p50Ms,
    // Each round's alert-to-healthy minus the bare restart measured right after it.
    pairedOverhead: paired,
    phases: Object.fromEntries(PHASES.map((p) => [p, phases[p]])),
    notAPhase: { admit: phases.admit },
    historyEventsPerIncident: Math.round(rounds.reduce((s, r) => s + r.historyEvents, 0) / rounds.length),
    lastVerification: rounds.at(-1)?.verification,
    settings: {
      guards:
        'cooldown 0, 1000 restarts/h per target, budget 100000/h and 1000000/day, breaker 100, recurrence off',
      models: 'off (rules and runbook)',
      engineWatcher: 'off',
      health: h,
      restartStopTimeoutSeconds: STOP_TIMEOUT_S,
    },
    phaseSource: rounds.every((r) => r.phasesRecorded)
      ? "the incident state's phases (ingest from the API's receipt); admit from the history"
      : 'workflow history event times (the state records no phases yet); ingest from the alert being sent',
    temporal: temporalKind,
    cores: cpus().length,
    loadAverageAfter: Number(loadavg()[0]?.toFixed(2)),
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(figures, null, 2));
  const file = path.join(PROJECT_ROOT, 'bench', 'results', onCluster() ? 'mttr-cluster.json' : 'mttr.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  log(`written to ${path.relative(PROJECT_ROOT, file)}`);
  const misses = [
    figures.overheadP50Ms > 250 && `overhead p50 ${figures.overheadP50Ms} ms > 250`,
    figures.overheadP95Ms > 1000 && `overhead p95 ${figures.overheadP95Ms} ms > 1000`,
  ].filter(Boolean);
  log(
    misses.length
      ? `targets missed: ${misses.join('; ')}`
      : 'targets met (overhead p50 <= 250 ms, p95 <= 1 s)',
  );
}

runBench(main);
