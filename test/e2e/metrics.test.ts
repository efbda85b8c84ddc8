// The worker's and the API's metrics as Prometheus scrapes them, and the Grafana dashboard that reads
// them: a real worker process (its own Temporal runtime, so its own Prometheus exporter) heals the demo
// container, then the same fault comes back inside the cooldown, the runbook answers and the guard
// refuses, and a person rejects. Every series the dashboard queries must then be in a scrape, so a
// renamed metric breaks this test, not the dashboard in silence. The same recorded incidents then feed
// GET /stats and the policy backtest (npm run backtest), which must reproduce each recorded decision.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runBacktest } from '../../scripts/backtest.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { loadConfig } from '../../src/config.js';
import type { BacktestResult } from '../../src/domain/backtest.js';
import type { IncidentStats } from '../../src/domain/stats.js';
import type { IncidentState } from '../../src/domain/types.js';
import { type ApiServer, startApi } from '../../src/server.js';
import { connectClient } from '../../src/temporal/connection.js';
import { captureLogger, signedSender } from '../support/medic.js';
import { portForAnotherProcess, refusingPort, waitFor } from '../support/ports.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { engineOrSkip, NO_WEBHOOK, startDemoContainer } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DASHBOARD = path.join(PROJECT_ROOT, 'deploy/grafana/dashboards/medic.json');
const SECRET = 'metrics-test-secret-0123456789';
const APPROVER = 'approver-token-for-the-metrics-test';

/** Every metric name a dashboard query reads: medic_* and temporal_* identifiers in its expressions. */
function dashboardSeries(dashboard: { panels: Array<{ targets?: Array<{ expr: string }> }> }): string[] {
  const names = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const match of target.expr.matchAll(/\b(?:medic|temporal)_[a-z0-9_]+\b/g)) names.add(match[0]);
    }
  }
  return [...names].sort();
}

/** Series names with at least one sample in a Prometheus text exposition. */
const sampled = (exposition: string) =>
  new Set(
    exposition
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(/[{\s]/)[0] as string),
  );

/** The value of the first sample of `name` whose labels contain `labels`. */
function sample(exposition: string, name: string, labels = ''): number | undefined {
  const line = exposition
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
  return line === undefined ? undefined : Number(line.trim().split(/\s+/).at(-1));
}

describe.skipIf(Boolean(skipReason))('worker and API metrics, and the dashboard', () => {
  const target = `medic-metrics-${process.pid}`;
  let worker: ChildProcess;
  let workerOutput = '';
  let workerMetricsUrl = '';
  let api: ApiServer;
  let apiUrl = '';
  let stopDemo: () => Promise<void> = async () => {};
  let closeClient: () => Promise<void> = async () => {};
  let releaseOllama: () => Promise<void> = async () => {};
  /** The settings the worker ran with: the backtest's "today". */
  let settingsEnv: Record<string, string> = {};
  let scratchDir = '';

  beforeAll(async () => {
    const demo = await startDemoContainer(engine!.docker, {
      name: target,
      env: { ...NO_WEBHOOK, MONITOR_INTERVAL_MS: '600000' },
      labels: { 'medic.managed': 'true' },
    });
    stopDemo = demo.stop;
    const noOllama = await refusingPort();
    releaseOllama = noOllama.release;
    const scratch = mkdtempSync(path.join(tmpdir(), 'medic-metrics-'));
    scratchDir = scratch;
    const metricsAddress = `127.0.0.1:${await portForAnotherProcess()}`;
    workerMetricsUrl = `http://${metricsAddress}/metrics`;
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MEDIC_TASK_QUEUE: uniqueTaskQueue('metrics'),
      DOCKER_HOST: inject('dockerHost') as string,
      MEDIC_WATCHER: 'off',
      MEDIC_RUNBOOK_PATH: path.join(scratch, 'runbook.json'),
      MEDIC_WORKER_HEALTH_FILE: path.join(scratch, 'worker-health'),
      MEDIC_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      GEMINI_API_KEY: '',
      OLLAMA_HOST: noOllama.url,
      MEDIC_RECURRENCE_WINDOW: '0s',
      // The second occurrence comes inside the cooldown: the guard refuses and a person is asked.
      MEDIC_GUARD_COOLDOWN: '1h',
      // One success is enough here, so the runbook diagnoses the second occurrence (and counts a hit).
      MEDIC_RUNBOOK_MIN_USES: '1',
      MEDIC_HEALTH_INITIAL_INTERVAL: '500ms',
      MEDIC_RESTART_STOP_TIMEOUT: '5s',
      MEDIC_WEBHOOK_SECRET: SECRET,
      MEDIC_APPROVER_TOKENS: `operator:${APPROVER}`,
      MEDIC_LOG_LEVEL: 'warn',
    };
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, MEDIC_WORKER_METRICS_ADDRESS: metricsAddress },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      workerOutput = (workerOutput + chunk.toString()).slice(-20_000);
    };
    worker.stdout?.on('data', keep);
    worker.stderr?.on('data', keep);
    await waitFor(
      'the worker to serve its metrics',
      async () => {
        if (worker.exitCode !== null) throw new Error(`the worker exited:\n${workerOutput}`);
        const res = await fetch(workerMetricsUrl).catch(() => undefined);
        return res?.ok && (await res.text()).includes('temporal_num_pollers') ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    settingsEnv = env;
    const config = loadConfig({ ...env, MEDIC_PORT: '0' });
    const client = await connectClient(config.temporal);
    closeClient = () => client.connection.close();
    api = await startApi({ client, config, logger: captureLogger().logger });
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (api) await new Promise<void>((resolve) => api.close(() => resolve()));
    await closeClient();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await stopDemo();
    await releaseOllama();
  });

  const incident = async (workflowId: string, status: IncidentState['status']) =>
    waitFor(
      `${workflowId} to be ${status}`,
      async () => {
        const res = await fetch(`${apiUrl}/incidents/${workflowId}`);
        const state = res.ok ? ((await res.json()) as IncidentState) : undefined;
        return state?.status === status ? state : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );

  const alert = () => ({
    container_name: target,
    alert_type: 'memory-leak',
    severity: 'medium',
    logs: ['{"level":"error","msg":"memory usage above threshold","rssMb":300}'],
    timestamp: new Date().toISOString(),
  });

  it('counts a healed incident, a refused restart and a rejection, and has every series the dashboard queries', async () => {
    const send = signedSender(apiUrl, SECRET);
    const workflowId = `incident:local:${target}:memory-leak`;

    expect((await send(alert())).status).toBe(202);
    const healed = await incident(workflowId, 'RESOLVED');
    expect(healed.actions.at(-1)?.outcome).toBe('restarted');

    // The same fault again, within the cooldown: the runbook answers, the guard refuses, a person is asked.
    expect((await send(alert())).status).toBe(202);
    const asked = await incident(workflowId, 'AWAITING_APPROVAL');
    expect(asked.diagnosis?.source).toBe('runbook');
    expect(asked.decisions?.at(-1)).toMatchObject({
      outcome: 'asked',
      permitDenied: expect.stringMatching(/^cooldown/),
    });
    const waiting = await (await fetch(`${apiUrl}/metrics`)).text();
    expect(sample(waiting, 'medic_incidents_awaiting_approval')).toBeGreaterThanOrEqual(1);

    const rejected = await fetch(`${apiUrl}/incidents/${workflowId}/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APPROVER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'alice', comment: 'not now' }),
    });
    expect(rejected.status).toBe(200);
    await incident(workflowId, 'REJECTED');

    const scrape = await waitFor(
      'the worker to export the rejected incident',
      async () => {
        const text = await (await fetch(workerMetricsUrl)).text();
        return sample(text, 'medic_incidents_closed_total', 'status="REJECTED"') ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(sample(scrape, 'medic_incidents_closed_total', 'status="RESOLVED"')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'medic_time_to_healthy_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'medic_actions_total', 'mode="automatic"')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'medic_guard_denials_total', 'reason="cooldown"')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'medic_runbook_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'medic_phase_seconds_count', 'phase="approve"')).toBeGreaterThanOrEqual(1);

    const apiScrape = await (await fetch(`${apiUrl}/metrics`)).text();
    const present = new Set([...sampled(scrape), ...sampled(apiScrape)]);
    const queried = dashboardSeries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.some((name) => name.startsWith('temporal_'))).toBe(true);
    expect(queried.filter((name) => !present.has(name))).toEqual([]);
  });

  it('answers GET /stats from the recorded incidents, and refuses a window it cannot read', async () => {
    type Stats = IncidentStats & { window: { since: string }; retention: string | null; cannotSee: string[] };
    // The rejected incident's workflow ends a moment after its state says REJECTED (it still tells people and
    // its guard); /stats counts runs that ended, and keeps an answer for a few seconds.
    const stats = await waitFor(
      'both ended incidents in /stats',
      async () => {
        const res = await fetch(`${apiUrl}/stats?since=1h`);
        expect(res.status).toBe(200);
        const read = (await res.json()) as Stats;
        return (read.byOutcome.REJECTED ?? 0) >= 1 && (read.byOutcome.RESOLVED ?? 0) >= 1 ? read : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    expect(stats.window.since).toBe('1h');
    expect(stats.byOutcome.RESOLVED).toBeGreaterThanOrEqual(1);
    expect(stats.byOutcome.REJECTED).toBeGreaterThanOrEqual(1);
    expect(stats.restarts.automatic).toBeGreaterThanOrEqual(1);
    expect(stats.timeToHealthy.overall.count).toBeGreaterThanOrEqual(1);
    expect(stats.timeToHealthy.overall.p95Ms).toBeGreaterThanOrEqual(stats.timeToHealthy.overall.p50Ms ?? 0);
    expect(Object.keys(stats.timeToHealthy.byPhase)).toEqual([
      'ingest',
      'diagnose',
      'decide',
      'approve',
      'act',
      'verify',
      'record',
    ]);
    expect(stats.timeToHealthy.byPhase.act.count).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(stats.topTargets) && Array.isArray(stats.topErrorSignatures)).toBe(true);
    expect(Array.isArray(stats.cannotSee)).toBe(true);
    if (inject('temporalKind') === 'dev') {
      // Longer than the dev server keeps closed workflows (24 h): it says so.
      expect(stats.retention).toBe('24h');
      const week = (await (await fetch(`${apiUrl}/stats?since=7d`)).json()) as { cannotSee: string[] };
      expect(week.cannotSee.join(' ')).toMatch(/keeps closed workflows for 24h/);
    }

    for (const bad of ['forever', '0h', '91d', '24']) {
      const refused = await fetch(`${apiUrl}/stats?since=${bad}`);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        error: { code: 'invalid_query', details: [expect.objectContaining({ path: 'since' })] },
      });
    }
  });

  it('backtests the recorded decisions: today reproduces them all, a stricter or looser policy changes them', async () => {
    // The CLI, as an operator runs it, with the worker's settings: every recorded decision reproduced.
    const cli = await runCli(
      ['scripts/backtest.ts', '--json', '--since', '1h', '--target', target],
      settingsEnv,
    );
    const today = JSON.parse(cli) as BacktestResult;
    expect(today).toMatchObject({
      incidents: 2,
      decisions: 2,
      agreement: 1,
      current: { acted: 1, asked: 1, recorded: 0, escalated: 0 },
      proposed: { acted: 1, asked: 1, recorded: 0, escalated: 0 },
      byTarget: { [target]: { current: { acted: 1, asked: 1 } } },
    });

    // "Medium needs approval": the automatic restart becomes a question.
    const stricter = path.join(scratchDir, 'stricter.json');
    writeFileSync(stricter, JSON.stringify({ policy: { severity: { medium: 'approval' } } }));
    const strict = await runBacktest({ env: settingsEnv, since: '1h', policyFile: stricter, target });
    expect(strict.agreement).toBe(1);
    expect(strict.proposed).toMatchObject({ acted: 0, asked: 2 });

    // No cooldown: the guard's refusal goes away, and the second occurrence is restarted alone.
    const looser = path.join(scratchDir, 'looser.json');
    writeFileSync(looser, JSON.stringify({ guard: { cooldownMs: 0 } }));
    const loose = await runBacktest({ env: settingsEnv, since: '1h', policyFile: looser, target });
    expect(loose.proposed).toMatchObject({ acted: 2, asked: 0 });

    // Today's policy changed (no cooldown): the recorded refusal is no longer reproduced, and the
    // agreement says so; it is computed, not echoed.
    const changed = await runBacktest({
      env: { ...settingsEnv, MEDIC_GUARD_COOLDOWN: '0s' },
      since: '1h',
      target,
    });
    expect(changed.agreement).toBe(0.5);
    expect(changed.disagreements).toEqual([
      expect.objectContaining({ recorded: 'asked', replayed: 'acted' }),
    ]);
  });
});

/** Runs a script with tsx in a child process and resolves with its standard output. */
function runCli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}
