// The ingest benchmark: 20,000 signed webhooks over 200 distinct incidents on 64 connections, against
// the real stack in its production shape: a Temporal dev server, `npm run start:worker` and `npm run start:api` as
// their own processes, and the container engine. Prints the figures and writes bench/results/ingest.json.
//
// The 200 targets do not exist on the engine, so the allowlist makes each an ESCALATED incident that
// stays open while its alert keeps firing: every copy must land in the one incident of its target.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { findEngine } from '../../scripts/engine.js';
import { PROJECT_ROOT } from '../../scripts/paths.js';
import { stopProcess } from '../../scripts/processes.js';
import { startTemporalCluster } from '../../scripts/temporal-cluster.js';
import { startTemporalDevServer } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { signWebhook } from '../../src/api/webhook-signature.js';
import { incidentWorkflowId } from '../../src/domain/naming.js';
import type { IncidentState } from '../../src/domain/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { portForAnotherProcess } from '../../test/support/ports.js';
import { runBench, startChild, withBenchRun } from '../support.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 200);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const RESULTS = path.join(PROJECT_ROOT, 'bench', 'results', 'ingest.json');
const log = (line: string) => console.log(`[bench] ${line}`);

/** CPU seconds (user + system) a process has used so far, from /proc; 0 where there is no /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function pidOf(pattern: string): number | undefined {
  try {
    return (
      Number(execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n')[0]) || undefined
    );
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** One webhook request: the JSON body and the headers that sign it at `ts` (unix seconds). */
function signed(
  secret: string,
  payload: object,
  ts: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-medic-timestamp': String(ts),
      'x-medic-signature': signWebhook(secret, ts, body),
    },
  };
}

/** 20,000 distinct signed requests: each has its own body, hence its own signature (replay protection). */
function signedRequests(secret: string): Array<{ body: string; headers: Record<string, string> }> {
  const ts = Math.floor(Date.now() / 1000);
  return Array.from({ length: REQUESTS }, (_, i) =>
    signed(
      secret,
      {
        incident_id: `bench-${i}`,
        container_name: `bench-target-${i % INCIDENTS}`,
        alert_type: 'memory-leak',
        severity: 'medium',
        logs: ['{"level":"error","msg":"memory usage above threshold","rssMb":512}'],
        timestamp: new Date(ts * 1000).toISOString(),
      },
      ts,
    ),
  );
}

async function main(): Promise<void> {
  await withBenchRun('medic-bench-', async ({ work, cleanups }) => {
    const cliPath = await ensureTool(TEMPORAL_CLI, log);
    const temporalPort = await portForAnotherProcess();
    // MEDIC_TEST_TEMPORAL=cluster measures on the server on PostgreSQL instead of the dev server.
    const onCluster = process.env.MEDIC_TEST_TEMPORAL === 'cluster';
    const cluster = onCluster ? await startTemporalCluster({ log }) : undefined;
    const temporal =
      cluster ??
      (await startTemporalDevServer({
        cliPath,
        port: temporalPort,
        // BENCH_TEMPORAL_DB=memory runs the dev server without a database file (no fsync per write).
        ...(process.env.BENCH_TEMPORAL_DB === 'memory' ? {} : { dbFile: path.join(work, 'temporal.db') }),
        log,
      }));
    cleanups.push(() => temporal.stop());
    const engine = await findEngine({ startPodman: true, log });
    if (engine) cleanups.push(() => engine.stop());
    log(
      `Temporal ${cluster ? 'cluster (PostgreSQL)' : 'dev server'} ${temporal.address}; engine ${engine?.product ?? 'none (targets are checked against nothing)'}`,
    );

    const secret = randomBytes(24).toString('hex');
    const apiPort = await portForAnotherProcess();
    const env = {
      TEMPORAL_ADDRESS: temporal.address,
      MEDIC_TASK_QUEUE: 'medic-bench',
      MEDIC_WEBHOOK_SECRET: secret,
      MEDIC_APPROVER_TOKENS: '',
      MEDIC_PORT: String(apiPort),
      MEDIC_LOG_LEVEL: 'error',
      MEDIC_RUNBOOK_PATH: path.join(work, 'runbook.json'),
      ...(engine ? { DOCKER_HOST: engine.dockerHost } : {}),
    };
    const worker = startChild('worker', 'src/worker.ts', env);
    cleanups.push(() => stopProcess(worker));
    const api = startChild('api', 'src/server.ts', env);
    cleanups.push(() => stopProcess(api));
    const base = `http://127.0.0.1:${apiPort}`;
    await until('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000);

    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    // The worker bundles the workflows at start: wait until it runs one, so the bench measures ingest.
    const warmup = await fetch(`${base}/webhooks/alert`, {
      method: 'POST',
      ...signed(
        secret,
        {
          container_name: 'bench-warmup',
          alert_type: 'warmup',
          severity: 'low',
          timestamp: new Date().toISOString(),
        },
        Math.floor(Date.now() / 1000),
      ),
    });
    if (warmup.status !== 202)
      throw new Error(`warm-up alert refused: ${warmup.status} ${await warmup.text()}`);
    await until(
      'the worker to run the warm-up incident',
      async () => {
        const s = await client.workflow
          .getHandle(incidentWorkflowId('bench-warmup', 'warmup'))
          .query(statusQuery);
        return s.status === 'ESCALATED' ? true : undefined;
      },
      120_000,
    );

    const requests = signedRequests(secret);
    let next = 0;
    log(
      `load before the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    log(`sending ${REQUESTS} signed webhooks for ${INCIDENTS} incidents on ${CONNECTIONS} connections`);
    const processes = {
      api: api.pid,
      worker: worker.pid,
      // On the cluster: the server's CPU, not PostgreSQL's.
      temporal: cluster ? cluster.serverPid : pidOf(`start-dev --ip 127.0.0.1 --port ${temporalPort} `),
      bench: process.pid,
    };
    const cpuBefore = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const result = await autocannon({
      url: base,
      connections: CONNECTIONS,
      amount: REQUESTS,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/webhooks/alert',
          setupRequest: (req) => {
            const r = requests[next++ % requests.length];
            return { ...req, headers: r?.headers, body: r?.body };
          },
        },
      ],
    });

    const cpuDuringLoad = Object.fromEntries(
      Object.entries(processes).map(([k, pid]) => [
        k,
        Number((cpuSeconds(pid) - (cpuBefore[k] ?? 0)).toFixed(1)),
      ]),
    );
    // Every 2xx alert must reach its incident: wait for the coalesced counts to arrive.
    const ids = Array.from({ length: INCIDENTS }, (_, i) =>
      incidentWorkflowId(`bench-target-${i}`, 'memory-leak'),
    );
    const accepted = result['2xx'];
    const states = await until(
      `all ${accepted} accepted alerts to reach their incidents`,
      async () => {
        const all = await Promise.all(
          ids.map((id) => client.workflow.getHandle(id).query(statusQuery) as Promise<IncidentState>),
        );
        return all.reduce((sum, s) => sum + s.alertCount, 0) >= accepted ? all : undefined;
      },
      60_000,
    );
    const alertsCounted = states.reduce((sum, s) => sum + s.alertCount, 0);
    const incidentsCreated = await client.workflow
      .count(`WorkflowType = 'incidentWorkflow' AND WorkflowId STARTS_WITH 'incident:local:bench-target-'`)
      .then((c) => c.count);
    let events = 0;
    for (const id of ids) events += (await client.workflow.getHandle(id).describe()).historyLength;

    // What the API says about the run: its outcome counters explain any non-2xx.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const outcomes = Object.fromEntries(
      [...metrics.matchAll(/^medic_webhooks_total\{outcome="([a-z_-]+)"\} (\d+)/gm)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );

    // How long the API took to admit alerts, by kind: opening an incident waits for Temporal.
    const admissionBuckets = (outcome: string) =>
      [
        ...metrics.matchAll(
          new RegExp(
            `^medic_alert_admission_seconds_bucket\\{le="([^"]+)",outcome="${outcome}"\\} (\\d+)`,
            'gm',
          ),
        ),
      ].map((m) => ({ le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), count: Number(m[2]) }));
    const quantileMs = (outcome: string, q: number) => {
      const buckets = admissionBuckets(outcome);
      const total = buckets.at(-1)?.count ?? 0;
      const hit = buckets.find((b) => b.count >= q * total);
      return hit ? (hit.le === Number.POSITIVE_INFINITY ? 'over 5000' : `<= ${hit.le * 1000}`) : 'n/a';
    };
    const admissionMs = {
      opened: { p50: quantileMs('opened', 0.5), p99: quantileMs('opened', 0.99) },
      coalesced: { p50: quantileMs('coalesced', 0.5), p99: quantileMs('coalesced', 0.99) },
    };

    const durationS = result.duration;
    const figures = {
      reqPerSec: Math.round(result.requests.total / durationS),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      requests: result.requests.total,
      incidentsCreated,
      expectedIncidents: INCIDENTS,
      alertsCounted,
      expectedAlerts: REQUESTS,
      historyEventsPerIncident: Math.round(events / INCIDENTS),
      statuses: [...new Set(states.map((s) => s.status))],
      statusCodes: result.statusCodeStats,
      apiOutcomes: outcomes,
      cpuSecondsDuringLoad: cpuDuringLoad,
      apiAdmissionMs: admissionMs,
      connections: CONNECTIONS,
      durationSeconds: durationS,
      temporalDatabase: process.env.BENCH_TEMPORAL_DB === 'memory' ? 'in-memory SQLite' : 'SQLite file',
      cores: cpus().length,
      loadAverageAfter: Number(loadavg()[0]?.toFixed(2)),
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(figures, null, 2));
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
    log(`written to ${path.relative(PROJECT_ROOT, RESULTS)}`);
    const misses = [
      figures.reqPerSec < 1500 && `${figures.reqPerSec} req/s < 1500`,
      figures.p99Ms > 100 && `p99 ${figures.p99Ms} ms > 100`,
      figures.non2xx + figures.errors > 0 && `${figures.non2xx} non-2xx, ${figures.errors} errors`,
      figures.incidentsCreated !== INCIDENTS &&
        `${figures.incidentsCreated} incidents, expected ${INCIDENTS}`,
      figures.alertsCounted !== REQUESTS && `${figures.alertsCounted} alerts counted, expected ${REQUESTS}`,
    ].filter(Boolean);
    if (misses.length > 0) {
      log(`targets missed: ${misses.join('; ')}`);
      process.exitCode = 1;
    } else log('all targets met');
  });
}

runBench(main);
