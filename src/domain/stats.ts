// What GET /stats answers, computed from the recorded states of the incidents that ended in a window.
// Pure: the gateway reads the states from Temporal, this adds them up.
import { type IncidentState, PHASES, type Phase, TERMINAL_STATUSES } from './types.js';

export interface Percentiles {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface IncidentStats {
  incidents: number;
  byOutcome: Record<string, number>;
  /** From the incident's opening to its verified health check, for incidents Medic acted on and healed. */
  timeToHealthy: { overall: Percentiles; byPhase: Record<Phase, Percentiles> };
  restarts: { automatic: number; approved: number };
  /** Every action Medic made, by remedy (RESTART, ROLLBACK, RAISE_MEMORY, ACTION); a plan's steps each count. */
  actions: Record<string, number>;
  topTargets: Array<{ target: string; incidents: number }>;
  topErrorSignatures: Array<{ errorSignature: string; incidents: number }>;
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

function summarise(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
}

function top<K extends string>(counts: Map<string, number>, key: K, limit: number) {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([name, incidents]) => ({ [key]: name, incidents }) as Record<K, string> & { incidents: number });
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

export function computeStats(states: readonly IncidentState[], topN = 5): IncidentStats {
  const byOutcome: Record<string, number> = Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, 0]));
  const healthy: number[] = [];
  const phases = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  const restarts = { automatic: 0, approved: 0 };
  const targets = new Map<string, number>();
  const signatures = new Map<string, number>();
  const remedies = new Map<string, number>();
  for (const state of states) {
    byOutcome[state.status] = (byOutcome[state.status] ?? 0) + 1;
    bump(targets, state.target);
    if (state.diagnosis?.errorSignature) bump(signatures, state.diagnosis.errorSignature);
    const restarted = state.actions.filter((a) => a.outcome === 'restarted').length;
    if (state.approval?.decision === 'approved') restarts.approved += restarted;
    else restarts.automatic += restarted;
    // Every action Medic made, by remedy (a plan's steps each count); a declared action as ACTION.
    for (const a of state.actions)
      if (a.outcome === 'restarted' || a.outcome === 'acted')
        bump(remedies, a.action.startsWith('ACTION:') ? 'ACTION' : a.action);
    const acted = state.actions.filter((a) => a.outcome === 'restarted' || a.outcome === 'acted').length;
    const checkedAt = Date.parse(state.verification?.checkedAt ?? '');
    if (
      state.status === 'RESOLVED' &&
      acted > 0 &&
      state.verification?.healthy &&
      Number.isFinite(checkedAt)
    ) {
      healthy.push(Math.max(0, checkedAt - Date.parse(state.openedAt)));
      for (const phase of PHASES) {
        const ms = state.phases?.[phase];
        if (ms !== undefined) phases[phase].push(ms);
      }
    }
  }
  return {
    incidents: states.length,
    byOutcome,
    timeToHealthy: {
      overall: summarise(healthy),
      byPhase: Object.fromEntries(PHASES.map((p) => [p, summarise(phases[p])])) as Record<Phase, Percentiles>,
    },
    restarts,
    actions: Object.fromEntries([...remedies.entries()].sort((a, b) => a[0].localeCompare(b[0]))),
    topTargets: top(targets, 'target', topN),
    topErrorSignatures: top(signatures, 'errorSignature', topN),
  };
}
