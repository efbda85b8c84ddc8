// The incidents that ended in a window, read back from Temporal: visibility finds them, each run's
// completion event holds its recorded state. GET /stats and npm run backtest read the past through this,
// and say what it cannot see: what the namespace's retention has dropped, and runs that left no state.
import type { Client } from '@temporalio/client';
import type { IncidentState } from '../domain/types.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';

export interface IncidentHistory {
  /** The recorded states, oldest close first. */
  states: IncidentState[];
  /** Closed runs not read: more than the limit (counted by visibility, not listed). */
  truncated: number;
  /** Runs that ended without a state (terminated, cancelled, failed, timed out). */
  withoutState: number;
  /** Incidents still running (not in `states`). */
  running: number;
  /** How long the namespace keeps closed workflows; older ones are gone from Temporal. */
  retentionMs: number | null;
}

const READ_AT_ONCE = 8;

export async function readIncidentHistory(
  client: Client,
  options: { namespace: string; sinceMs: number; limit: number },
): Promise<IncidentHistory> {
  const since = new Date(options.sinceMs).toISOString();
  const incidents = `WorkflowType = '${WORKFLOW_TYPES.incident}'`;
  // Continued-as-new runs are not incidents that ended: their last run is.
  const ended = `${incidents} AND CloseTime > '${since}' AND ExecutionStatus != 'ContinuedAsNew'`;
  const runs: Array<{ workflowId: string; runId: string; completed: boolean; closedMs: number }> = [];
  // The listing stops at the limit; what lies beyond it is counted, not read.
  for await (const info of client.workflow.list({
    query: ended,
    pageSize: Math.min(options.limit, 1000),
  })) {
    runs.push({
      workflowId: info.workflowId,
      runId: info.runId,
      completed: info.status.name === 'COMPLETED',
      closedMs: info.closeTime?.getTime() ?? 0,
    });
    // Before the next item: asking for it could fetch another page.
    if (runs.length >= options.limit) break;
  }
  const states: Array<{ state: IncidentState; closedMs: number }> = [];
  let withoutState = 0;
  for (let i = 0; i < runs.length; i += READ_AT_ONCE) {
    await Promise.all(
      runs.slice(i, i + READ_AT_ONCE).map(async (run) => {
        if (!run.completed) {
          withoutState += 1;
          return;
        }
        const handle = client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false });
        states.push({ state: (await handle.result()) as IncidentState, closedMs: run.closedMs });
      }),
    );
  }
  const [{ count: running }, retentionMs, truncated] = await Promise.all([
    client.workflow.count(`${incidents} AND ExecutionStatus = 'Running'`),
    namespaceRetentionMs(client, options.namespace),
    runs.length < options.limit
      ? Promise.resolve(0)
      : client.workflow.count(ended).then(({ count }) => Math.max(0, count - runs.length)),
  ]);
  states.sort((a, b) => a.closedMs - b.closedMs);
  return { states: states.map((s) => s.state), truncated, withoutState, running, retentionMs };
}

async function namespaceRetentionMs(client: Client, namespace: string): Promise<number | null> {
  try {
    const answer = await client.workflowService.describeNamespace({ namespace });
    const ttl = answer.config?.workflowExecutionRetentionTtl;
    if (!ttl) return null;
    return Number(ttl.seconds ?? 0) * 1000 + Math.round((ttl.nanos ?? 0) / 1e6);
  } catch {
    return null;
  }
}
