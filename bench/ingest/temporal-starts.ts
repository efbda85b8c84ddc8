// What the Temporal dev server alone needs to open N incidents at once: N concurrent signalWithStart
// calls (what the API sends for the first alert of each incident), with and without a database file.
// No worker, no API, no load: the floor under the ingest benchmark's first-alert latency.
// Run: npx tsx bench/ingest/temporal-starts.ts [N=200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { portForAnotherProcess } from '../../test/support/ports.js';

const N = Number(process.argv[2] ?? 200);
const cliPath = await ensureTool(TEMPORAL_CLI, () => undefined);
const work = mkdtempSync(path.join(tmpdir(), 'medic-starts-'));
try {
  for (const db of ['SQLite file', 'in-memory SQLite']) {
    const server = await startTemporalDevServer({
      cliPath,
      port: await portForAnotherProcess(),
      ...(db === 'SQLite file' ? { dbFile: path.join(work, 'temporal.db') } : {}),
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const started = performance.now();
    const latencies = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const t = performance.now();
        await client.workflow.signalWithStart('incidentWorkflow', {
          workflowId: `incident-start-${i}-x`,
          taskQueue: 'nobody-polls-this',
          args: [{}],
          signal: 'alert',
          signalArgs: [{}],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        return performance.now() - t;
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(N - 1, Math.floor(q * N))] ?? 0);
    console.log(
      `${db}: ${N} concurrent signalWithStart took ${Math.round(performance.now() - started)} ms; per call p50 ${at(0.5)} ms, max ${at(1)} ms`,
    );
    await connection.close();
    await server.stop();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
