// The remedy catalogue and the plan: which remedies a target has (its labels, its engine, its images), and
// the plan put together from a bad deploy, the runbook, the target's labels, the model and the rules,
// every step in the catalogue and anything else refused with the reason.
import { describe, expect, it } from 'vitest';
import { imageChangedAgoMs, planFor, remedyContext } from '../../src/domain/plan.js';
import { catalogueFor, declaredActions, parseBytes } from '../../src/domain/remedies.js';
import type { Diagnosis, TargetObservation } from '../../src/domain/types.js';

const MIB = 1024 * 1024;
const observed = (overrides: Partial<TargetObservation> = {}): TargetObservation => ({
  name: 'payments',
  exists: true,
  managed: true,
  containerId: 'c1',
  running: true,
  startedAt: '2026-12-04T10:00:00Z',
  imageId: 'sha256:new',
  createdAt: '2026-12-04T10:00:00Z',
  capabilities: ['restart', 'recreate', 'update-limits', 'exec'],
  memoryLimitBytes: 384 * MIB,
  labels: {
    'medic.action.reset-pool': 'POST /admin/reset-pool',
    'medic.action.reset-pool.risk': 'low',
    'medic.action.flush.exec': '["/app/bin/flush","--all"]',
    'medic.plan.db-latency': 'reset-pool,restart',
    'medic.memory.max': '768m',
  },
  ...overrides,
});
const diagnosis = (o: TargetObservation, overrides: Partial<Diagnosis> = {}) =>
  ({ action: 'RESTART', source: 'rules', observed: o, ...overrides }) as Diagnosis;
const catalogue = (o: TargetObservation) => catalogueFor('payments', remedyContext(o));

describe('the catalogue', () => {
  it('has what the labels declare and the engine can do, with their risks', () => {
    const c = catalogue(observed());
    expect([...c.keys()].sort()).toEqual([
      'ACTION:flush',
      'ACTION:reset-pool',
      'ESCALATE',
      'NOOP',
      'RAISE_MEMORY',
      'RESTART',
    ]);
    expect(c.get('ACTION:reset-pool')).toMatchObject({
      risk: 'low',
      action: { kind: 'http', method: 'POST' },
    });
    expect(c.get('ACTION:flush')).toMatchObject({
      risk: 'medium',
      action: { kind: 'exec', argv: ['/app/bin/flush', '--all'] },
    });
    expect(c.get('RESTART')?.risk).toBe('medium');
  });

  it('raises memory by the factor, capped by the label, and asks a person without a cap', () => {
    expect(catalogue(observed()).get('RAISE_MEMORY')).toMatchObject({ risk: 'high', raiseTo: 576 * MIB });
    const capped = catalogue(observed({ labels: { 'medic.memory.max': '400m' } })).get('RAISE_MEMORY');
    expect(capped?.raiseTo).toBe(400 * MIB);
    expect(capped?.needsPerson).toBeUndefined();
    const uncapped = catalogue(observed({ labels: {} })).get('RAISE_MEMORY');
    expect(uncapped?.needsPerson).toContain('no cap');
    expect(catalogue(observed({ labels: { 'medic.memory.max': '384m' } })).has('RAISE_MEMORY')).toBe(false);
  });

  it('offers a rollback only to an image verified healthy that the engine still has', () => {
    const previous = { id: 'sha256:old', name: 'svc:1.2', verifiedAt: '2026-12-04T09:00:00Z', present: true };
    expect(catalogue(observed({ previousHealthyImage: previous })).get('ROLLBACK')).toMatchObject({
      risk: 'high',
      inverse: 'put-back',
      toImage: { id: 'sha256:old' },
    });
    expect(
      catalogue(observed({ previousHealthyImage: { ...previous, present: false } })).has('ROLLBACK'),
    ).toBe(false);
    expect(
      catalogue(observed({ previousHealthyImage: { ...previous, id: 'sha256:new' } })).has('ROLLBACK'),
    ).toBe(false);
  });

  it('is a restart alone where the engine can do nothing else (the process supervisor)', () => {
    expect([...catalogue(observed({ capabilities: ['restart'] })).keys()].sort()).toEqual([
      'ACTION:reset-pool',
      'ESCALATE',
      'NOOP',
      'RESTART',
    ]);
  });

  it('refuses declarations that do not parse, and never takes a path or a command from elsewhere', () => {
    const { actions, refused } = declaredActions({
      'medic.action.ok': 'POST /x',
      'medic.action.Bad': 'POST /x',
      'medic.action.shell': 'POST /x; rm -rf /',
      'medic.action.noargv.exec': 'rm -rf /',
    });
    expect(actions.map((a) => a.name)).toEqual(['ok']);
    expect(refused).toHaveLength(3);
    expect(parseBytes('512m')).toBe(512 * MIB);
    expect(parseBytes('1g')).toBe(1024 * MIB);
    expect(parseBytes('nonsense')).toBeUndefined();
  });
});

describe('the plan', () => {
  it('takes the target’s declared plan for the alert type, cheapest first', () => {
    const o = observed();
    const plan = planFor({ alertType: 'db-latency', diagnosis: diagnosis(o), catalogue: catalogue(o) });
    expect(plan.steps.map((s) => s.name)).toEqual(['ACTION:reset-pool', 'RESTART']);
  });

  it('puts a rollback first when the image changed within the deploy window', () => {
    const o = observed({
      previousHealthyImage: { id: 'sha256:old', verifiedAt: '2026-12-04T09:00:00Z', present: true },
    });
    const changedAgoMs = imageChangedAgoMs(o, Date.parse('2026-12-04T10:04:00Z'));
    expect(changedAgoMs).toBe(4 * 60_000);
    const plan = planFor({
      alertType: 'crash',
      diagnosis: diagnosis(o),
      catalogue: catalogue(o),
      deploy: { changedAgoMs, windowMs: 15 * 60_000 },
    });
    expect(plan.steps.map((s) => s.name)).toEqual(['ROLLBACK', 'RESTART']);
    expect(plan.from[0]).toContain('the image changed 4 min before the fault');
    const late = planFor({
      alertType: 'crash',
      diagnosis: diagnosis(o),
      catalogue: catalogue(o),
      deploy: { changedAgoMs: 20 * 60_000, windowMs: 15 * 60_000 },
    });
    expect(late.steps.map((s) => s.name)).toEqual(['RESTART']);
  });

  it('raises memory first after an OOM kill, then restarts', () => {
    const o = observed();
    expect(
      planFor({ alertType: 'oom', diagnosis: diagnosis(o), catalogue: catalogue(o) }).steps.map(
        (s) => s.name,
      ),
    ).toEqual(['RAISE_MEMORY', 'RESTART']);
  });

  it('refuses a model’s undeclared action or command, and keeps the rest of its answer', () => {
    const o = observed();
    const plan = planFor({
      alertType: 'error-storm',
      diagnosis: diagnosis(o, {
        source: 'gemini',
        plan: ['ACTION:drop-tables', 'ACTION:reset-pool'] as never,
      }),
      catalogue: catalogue(o),
    });
    expect(plan.steps.map((s) => s.name)).toEqual(['ACTION:reset-pool', 'RESTART']);
    expect(plan.refused).toEqual([
      expect.stringContaining('ACTION:drop-tables (from the model (gemini)) is not in this target'),
    ]);
    const command = planFor({
      alertType: 'error-storm',
      diagnosis: diagnosis(o, { source: 'gemini', plan: ['rm -rf /'] as never }),
      catalogue: catalogue(o),
    });
    expect(command.refused).toEqual([expect.stringContaining('is not a remedy name')]);
  });

  it('starts after the step that healed last time when the fault came back', () => {
    const o = observed();
    const plan = planFor({
      alertType: 'db-latency',
      diagnosis: diagnosis(o),
      catalogue: catalogue(o),
      after: 'ACTION:reset-pool',
    });
    expect(plan.steps.map((s) => s.name)).toEqual(['RESTART']);
  });

  it('tries a rollback after a recent image change even when the diagnosis hands over to a person', () => {
    const o = observed({
      previousHealthyImage: { id: 'sha256:old', verifiedAt: '2026-12-04T09:00:00Z', present: true },
    });
    const plan = planFor({
      alertType: 'bad-release',
      diagnosis: diagnosis(o, { action: 'ESCALATE' }),
      catalogue: catalogue(o),
      deploy: { changedAgoMs: 4 * 60_000, windowMs: 15 * 60_000 },
    });
    expect(plan.steps.map((s) => s.name)).toEqual(['ROLLBACK']);
    expect(plan.from[0]).toContain('the image changed 4 min before the fault');
    // Without the image change, a person has it.
    expect(
      planFor({
        alertType: 'bad-release',
        diagnosis: diagnosis(o, { action: 'ESCALATE' }),
        catalogue: catalogue(o),
      }).steps.map((s) => s.name),
    ).toEqual(['ESCALATE']);
  });

  it('leaves NOOP and ESCALATE as they are', () => {
    const o = observed();
    expect(
      planFor({
        alertType: 'x',
        diagnosis: diagnosis(o, { action: 'ESCALATE' }),
        catalogue: catalogue(o),
      }).steps.map((s) => s.name),
    ).toEqual(['ESCALATE']);
  });
});
