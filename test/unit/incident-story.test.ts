// The pure parts of an incident's story: how it reads (current details, phases), what a guard's refusal is
// called in the metrics, and how /stats adds incidents up.
import { describe, expect, it } from 'vitest';
import { newIncidentState } from '../../src/domain/incident.js';
import {
  addPhase,
  describePhases,
  incidentCurrentDetails,
  incidentSummary,
} from '../../src/domain/incident-story.js';
import { computeStats, percentile } from '../../src/domain/stats.js';
import type { IncidentState } from '../../src/domain/types.js';

const state = (overrides: Partial<IncidentState> = {}): IncidentState => ({
  ...newIncidentState({
    id: 'r1',
    workflowId: 'incident:local:web:hang',
    target: 'web',
    alertType: 'hang',
    openedAt: '2026-01-01T00:00:00.000Z',
  }),
  ...overrides,
});

describe('the incident in words', () => {
  it('sums a phase that ends twice and lists the phases in their order', () => {
    const s = state();
    addPhase(s, 'verify', 1200);
    addPhase(s, 'ingest', 40);
    addPhase(s, 'verify', 800);
    expect(s.phases).toEqual({ verify: 2000, ingest: 40 });
    expect(describePhases(s.phases)).toBe('ingest 40 ms · verify 2000 ms');
    expect(incidentSummary('web', 'hang')).toBe('web · hang');
  });

  it('gives the CLI commands while the incident waits, and the decision once taken', () => {
    const waiting = incidentCurrentDetails(
      state({ status: 'AWAITING_APPROVAL', approval: { required: true, reason: 'critical needs approval' } }),
    );
    expect(waiting).toContain('**Decision needed**: critical needs approval');
    expect(waiting).toContain(
      `temporal workflow signal --workflow-id 'incident:local:web:hang' --name reject --input '{"by":"<your name>"}'`,
    );
    const decided = incidentCurrentDetails(
      state({
        status: 'REJECTED',
        approval: { required: true, reason: 'x', decision: 'rejected', decidedBy: 'bob' },
      }),
    );
    expect(decided).toContain('**Decision**: rejected by bob');
    expect(decided).not.toContain('temporal workflow signal');
  });
});

describe('/stats arithmetic', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 95)).toBe(40);
  });

  it('counts outcomes, restarts by who decided, time to healthy only for healed restarts', () => {
    const healed = state({
      status: 'RESOLVED',
      actions: [{ action: 'RESTART', at: '2026-01-01T00:00:05.000Z', outcome: 'restarted', detail: '' }],
      verification: { healthy: true, attempts: 2, detail: 'ok', checkedAt: '2026-01-01T00:00:30.000Z' },
      phases: { act: 3000, verify: 4000 },
    });
    const approved = state({
      status: 'RESOLVED',
      target: 'db',
      approval: { required: true, reason: 'x', decision: 'approved', decidedBy: 'alice' },
      actions: [{ action: 'RESTART', at: '2026-01-01T00:01:00.000Z', outcome: 'restarted', detail: '' }],
      verification: { healthy: true, attempts: 1, detail: 'ok', checkedAt: '2026-01-01T00:01:00.000Z' },
    });
    const recorded = state({ status: 'RESOLVED' });
    // A plan: its declared action did not heal, its rollback did (it counts for time to healthy too).
    const planned = state({
      status: 'RESOLVED',
      target: 'pay',
      actions: [
        {
          action: 'ACTION:reset-pool',
          at: '2026-01-01T00:00:10.000Z',
          outcome: 'acted',
          detail: '',
          step: 1,
          of: 2,
        },
        { action: 'ROLLBACK', at: '2026-01-01T00:00:20.000Z', outcome: 'acted', detail: '', step: 2, of: 2 },
      ],
      verification: { healthy: true, attempts: 1, detail: 'ok', checkedAt: '2026-01-01T00:00:40.000Z' },
    });
    const stats = computeStats([healed, approved, recorded, state({ status: 'ESCALATED' })]);
    expect(computeStats([healed, planned]).actions).toEqual({ ACTION: 1, RESTART: 1, ROLLBACK: 1 });
    expect(computeStats([planned]).timeToHealthy.overall.count).toBe(1);
    expect(stats.byOutcome).toEqual({ RESOLVED: 3, FAILED: 0, ESCALATED: 1, REJECTED: 0 });
    expect(stats.restarts).toEqual({ automatic: 1, approved: 1 });
    expect(stats.timeToHealthy.overall).toEqual({ count: 2, p50Ms: 30_000, p95Ms: 60_000 });
    expect(stats.timeToHealthy.byPhase.act).toEqual({ count: 1, p50Ms: 3000, p95Ms: 3000 });
    expect(stats.topTargets[0]).toEqual({ target: 'web', incidents: 3 });
  });
});
