import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GUARD_LIMITS,
  type LeaseRequest,
  newBudgetState,
  newGuardState,
  nextQueued,
  RESERVED_FOR_NEXT_STEP_MS,
  refundBudget,
  releaseLease,
  requestLease,
  snapshotGuard,
  spendBudget,
  tickGuard,
} from '../../src/domain/guard.js';

const MINUTE = 60_000;
const limits = { ...DEFAULT_GUARD_LIMITS, cooldownMs: 5 * MINUTE, maxRestartsPerHour: 3 };
let n = 0;
const request = (overrides: Partial<LeaseRequest> = {}): LeaseRequest => ({
  requestId: `r${++n}`,
  incidentWorkflowId: `incident-svc-${n}`,
  action: 'RESTART',
  dryRun: false,
  limits,
  ...overrides,
});

describe('guard rules', () => {
  it('grants one lease at a time and queues the rest in order', () => {
    const state = newGuardState('svc', limits);
    const a = request();
    const b = request();
    const c = request();
    expect(requestLease(state, a, 0).kind).toBe('granted');
    expect(requestLease(state, b, 1).kind).toBe('queued');
    expect(requestLease(state, c, 2).kind).toBe('queued');
    expect(nextQueued(state, 3)).toBeUndefined(); // still held
    releaseLease(state, a.requestId, 'not-acted', 10);
    const next = nextQueued(state, 10);
    expect(next?.request.requestId).toBe(b.requestId);
    expect(next?.decision.kind).toBe('granted');
    expect(snapshotGuard(state, 10).queued).toEqual([c.incidentWorkflowId]);
  });

  it('never grants a queued request its incident withdrew, and serves newcomers after those waiting', () => {
    const state = newGuardState('svc', limits);
    const a = request();
    const gaveUp = request();
    const waiting = request();
    requestLease(state, a, 0);
    requestLease(state, gaveUp, 1);
    requestLease(state, waiting, 2);
    expect(releaseLease(state, gaveUp.requestId, 'not-acted', 3)).toEqual({
      released: false,
      dequeued: true,
    });
    // The holder's lease expires; a newcomer arrives before the queue was served: it waits its turn.
    tickGuard(state, limits.leaseTtlMs);
    const newcomer = request();
    expect(requestLease(state, newcomer, limits.leaseTtlMs + 1).kind).toBe('queued');
    expect(nextQueued(state, limits.leaseTtlMs + 2)?.request.requestId).toBe(waiting.requestId);
    // A repeated request from the one that gave up gets its withdrawal back, never a grant.
    expect(requestLease(state, gaveUp, limits.leaseTtlMs + 3)).toMatchObject({ kind: 'denied' });
  });

  it('answers a repeated request the same way instead of counting it twice', () => {
    const state = newGuardState('svc', limits);
    const a = request();
    expect(requestLease(state, a, 0).kind).toBe('granted');
    expect(requestLease(state, a, 1).kind).toBe('granted');
    expect(state.actions).toHaveLength(1);
  });

  it('enforces the cooldown from the last real action, and gives back actions that did not happen', () => {
    const state = newGuardState('svc', limits);
    const a = request();
    requestLease(state, a, 0);
    releaseLease(state, a.requestId, 'succeeded', 1000);
    const denied = requestLease(state, request(), 4 * MINUTE);
    expect(denied).toMatchObject({ kind: 'denied' });
    expect(denied.reason).toContain('last action ended 239 s ago, cooldown is 5 min');
    // The cooldown runs from the end of the last action, not its start.
    expect(requestLease(state, request(), 5 * MINUTE).kind).toBe('denied');
    expect(requestLease(state, request(), 5 * MINUTE + 1000).kind).toBe('granted');

    // An action released as not-acted (nothing was restarted) starts no cooldown.
    const fresh = newGuardState('svc2', limits);
    const b = request();
    requestLease(fresh, b, 0);
    releaseLease(fresh, b.requestId, 'not-acted', 10);
    expect(requestLease(fresh, request(), 20).kind).toBe('granted');
  });

  it('allows at most maxRestartsPerHour in any hour, and a person may waive it', () => {
    const state = newGuardState('svc', { ...limits, cooldownMs: 0 });
    const noCooldown = { ...limits, cooldownMs: 0 };
    for (let i = 0; i < 3; i++) {
      const r = request({ limits: noCooldown });
      expect(requestLease(state, r, i * MINUTE).kind).toBe('granted');
      releaseLease(state, r.requestId, 'succeeded', i * MINUTE + 1);
    }
    const fourth = requestLease(state, request({ limits: noCooldown }), 10 * MINUTE);
    expect(fourth.reason).toBe('3 restarts of svc in the last hour; the limit is 3 per hour');
    expect(
      requestLease(state, request({ limits: noCooldown, approvedBy: 'alice' }), 11 * MINUTE),
    ).toMatchObject({
      kind: 'granted',
      reason: expect.stringContaining('approved by alice'),
    });
  });

  it('counts only the last hour: old restarts roll out of it one by one', () => {
    const noCooldown = { ...limits, cooldownMs: 0 };
    const state = newGuardState('svc', noCooldown);
    const restartAt = (at: number) => {
      const r = request({ limits: noCooldown });
      const decision = requestLease(state, r, at);
      if (decision.kind === 'granted') releaseLease(state, r.requestId, 'succeeded', at + 1);
      return decision;
    };
    for (const at of [0, 10 * MINUTE, 20 * MINUTE]) expect(restartAt(at).kind).toBe('granted');
    // No tickGuard in between: the hour is the rule's own window, not a side effect of pruning.
    expect(restartAt(60 * MINUTE - 1)).toMatchObject({ kind: 'denied' });
    expect(snapshotGuard(state, 60 * MINUTE).restartsLastHour).toBe(2);
    expect(restartAt(60 * MINUTE)).toEqual({
      kind: 'granted',
      reason: 'within limits (3/3 restarts this hour)',
    });
    // 10, 20 and 60 min are within the hour before 65 min; at 70 min the one at 10 min has left it.
    expect(restartAt(65 * MINUTE)).toMatchObject({
      kind: 'denied',
      reason: '3 restarts of svc in the last hour; the limit is 3 per hour',
    });
    expect(restartAt(70 * MINUTE).kind).toBe('granted');
  });

  it('opens the breaker after consecutive failures, resets the count on success, and closes after its time', () => {
    const state = newGuardState('svc', { ...limits, cooldownMs: 0 });
    const l = {
      ...limits,
      cooldownMs: 0,
      maxRestartsPerHour: 100,
      breakerThreshold: 2,
      breakerResetMs: 30 * MINUTE,
    };
    const act = (at: number, outcome: 'succeeded' | 'failed') => {
      const r = request({ limits: l });
      expect(requestLease(state, r, at).kind).toBe('granted');
      return releaseLease(state, r.requestId, outcome, at + 1);
    };
    act(0, 'failed');
    act(1000, 'succeeded');
    expect(act(2000, 'failed').breakerOpened).toBeUndefined();
    expect(act(3000, 'failed').breakerOpened).toBe('2 consecutive failed remediations');
    expect(requestLease(state, request({ limits: l }), 4000).reason).toContain('circuit breaker open on svc');
    expect(tickGuard(state, 3001 + 30 * MINUTE)).toContain('circuit breaker closed after its reset time');
    expect(state.breaker.open).toBe(false);
  });

  it('gives each refusal its kind and, where the limit ends, when: asking then is no longer refused by it', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const cooling = newGuardState('svc', limits);
    const a = request();
    requestLease(cooling, a, 0);
    releaseLease(cooling, a.requestId, 'succeeded', 1000);
    expect(requestLease(cooling, request(), 4 * MINUTE)).toMatchObject({
      refusal: { kind: 'cooldown', until: at(1000 + 5 * MINUTE) },
    });
    expect(requestLease(cooling, request(), 1000 + 5 * MINUTE).kind).toBe('granted');

    const noCooldown = { ...limits, cooldownMs: 0 };
    const busy = newGuardState('svc', noCooldown);
    for (const t of [0, 10 * MINUTE, 20 * MINUTE]) {
      const r = request({ limits: noCooldown });
      requestLease(busy, r, t);
      releaseLease(busy, r.requestId, 'succeeded', t + 1);
    }
    expect(requestLease(busy, request({ limits: noCooldown }), 30 * MINUTE)).toMatchObject({
      refusal: { kind: 'hourly-limit', until: at(60 * MINUTE) },
    });
    expect(requestLease(busy, request({ limits: noCooldown }), 60 * MINUTE).kind).toBe('granted');
    // A limit of 0 never ends.
    const never = { ...noCooldown, maxRestartsPerHour: 0 };
    const denied = requestLease(newGuardState('svc', never), request({ limits: never }), 0);
    expect(denied).toEqual({ kind: 'denied', reason: expect.any(String), refusal: { kind: 'hourly-limit' } });

    const breaking = {
      ...noCooldown,
      maxRestartsPerHour: 100,
      breakerThreshold: 1,
      breakerResetMs: 30 * MINUTE,
    };
    const broken = newGuardState('svc', breaking);
    const failing = request({ limits: breaking });
    requestLease(broken, failing, 0);
    releaseLease(broken, failing.requestId, 'failed', 5);
    expect(requestLease(broken, request({ limits: breaking }), 10)).toMatchObject({
      refusal: { kind: 'breaker-open', until: at(5 + 30 * MINUTE) },
    });

    const queue = newGuardState('svc', limits);
    const holder = request();
    const gaveUp = request();
    requestLease(queue, holder, 0);
    requestLease(queue, gaveUp, 1);
    releaseLease(queue, gaveUp.requestId, 'not-acted', 2);
    expect(requestLease(queue, gaveUp, 3)).toMatchObject({ refusal: { kind: 'withdrawn' } });
  });

  it('takes back a lease its holder never released, and counts it as a failure', () => {
    const state = newGuardState('svc', limits);
    const a = request();
    requestLease(state, a, 0);
    expect(tickGuard(state, limits.leaseTtlMs)).toEqual([
      `lease of ${a.incidentWorkflowId} expired unreleased`,
    ]);
    expect(state.holder).toBeUndefined();
    expect(state.consecutiveFailures).toBe(1);
  });

  it('does not count dry runs against any limit', () => {
    const state = newGuardState('svc', limits);
    for (let i = 0; i < 5; i++) {
      const r = request({ dryRun: true });
      expect(requestLease(state, r, i).kind).toBe('granted');
      releaseLease(state, r.requestId, 'failed', i);
    }
    expect(snapshotGuard(state, 10)).toMatchObject({ restartsLastHour: 0, consecutiveFailures: 0 });
    expect(state.breaker.open).toBe(false);
  });
});

describe('global budget', () => {
  const budget = (overrides = {}) => ({
    requestId: `b${++n}`,
    incidentWorkflowId: 'incident-x',
    target: 'x',
    dryRun: false,
    limits: { perHour: 2, perDay: 3 },
    ...overrides,
  });

  it('denies past the hourly and the daily budget, refunds actions that did not happen, and rolls over', () => {
    const state = newBudgetState();
    expect(spendBudget(state, budget(), 0).kind).toBe('granted');
    const second = budget();
    expect(spendBudget(state, second, 1).kind).toBe('granted');
    expect(spendBudget(state, budget(), 2).reason).toContain(
      '2 actions in the last hour across all targets (limit 2)',
    );
    expect(refundBudget(state, second.requestId)).toBe(true);
    expect(spendBudget(state, budget(), 3).kind).toBe('granted');
    expect(spendBudget(state, budget(), 61 * MINUTE).kind).toBe('granted');
    expect(spendBudget(state, budget(), 62 * MINUTE).reason).toContain('3 actions in the last 24 h');
    expect(spendBudget(state, budget(), 25 * 60 * MINUTE).kind).toBe('granted');
  });

  it('says which budget refused and when it has room again', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const state = newBudgetState();
    spendBudget(state, budget(), 0);
    spendBudget(state, budget(), 10 * MINUTE);
    expect(spendBudget(state, budget(), 20 * MINUTE)).toMatchObject({
      kind: 'denied',
      refusal: { kind: 'budget', until: at(60 * MINUTE) },
    });
    spendBudget(state, budget(), 70 * MINUTE);
    // Three today: the day's first leaves the 24 h window first.
    expect(spendBudget(state, budget(), 140 * MINUTE)).toMatchObject({
      refusal: { kind: 'budget', until: at(24 * 60 * MINUTE) },
    });
    expect(spendBudget(state, budget(), 24 * 60 * MINUTE).kind).toBe('granted');
  });
});

describe("a plan's steps at the guard", () => {
  it("keeps the target for a plan's next step: no cooldown between its steps, nobody else first, counted in the hour", () => {
    const state = newGuardState('svc', limits);
    const plan = request({ incidentWorkflowId: 'incident-svc-plan' });
    const other = request({ incidentWorkflowId: 'incident-svc-other' });
    expect(requestLease(state, plan, 0).kind).toBe('granted');
    releaseLease(state, plan.requestId, 'step-done', MINUTE);
    // Another incident arriving between the steps waits, though no lease is held.
    expect(requestLease(state, other, MINUTE + 1).kind).toBe('queued');
    expect(nextQueued(state, MINUTE + 2)).toBeUndefined();
    expect(snapshotGuard(state, MINUTE + 2).reserved).toEqual({
      incidentWorkflowId: 'incident-svc-plan',
      until: new Date(MINUTE + RESERVED_FOR_NEXT_STEP_MS).toISOString(),
    });
    // The plan's next step is granted at once, within what would be the cooldown.
    const step2 = request({ incidentWorkflowId: 'incident-svc-plan' });
    expect(requestLease(state, step2, 2 * MINUTE).kind).toBe('granted');
    releaseLease(state, step2.requestId, 'succeeded', 3 * MINUTE);
    // The step counted: two of the hour's three actions are spent; the cooldown runs from the plan's end.
    expect(snapshotGuard(state, 3 * MINUTE).restartsLastHour).toBe(2);
    const served = nextQueued(state, 3 * MINUTE);
    expect(served?.request.requestId).toBe(other.requestId);
    expect(served?.decision).toMatchObject({ kind: 'denied', refusal: { kind: 'acted-meanwhile' } });
  });

  it('keeps the reservation for the step after one that did nothing', () => {
    const state = newGuardState('svc', limits);
    const plan = request({ incidentWorkflowId: 'incident-svc-plan' });
    requestLease(state, plan, 0);
    releaseLease(state, plan.requestId, 'step-done', MINUTE);
    const step2 = request({ incidentWorkflowId: 'incident-svc-plan' });
    expect(requestLease(state, step2, 2 * MINUTE).kind).toBe('granted');
    // Step 2 found its precondition gone and did nothing: step 3 still comes without step 1's cooldown.
    releaseLease(state, step2.requestId, 'not-acted', 2 * MINUTE + 1);
    expect(snapshotGuard(state, 2 * MINUTE + 2).reserved?.incidentWorkflowId).toBe('incident-svc-plan');
    const step3 = request({ incidentWorkflowId: 'incident-svc-plan' });
    expect(requestLease(state, step3, 3 * MINUTE).kind).toBe('granted');
  });

  it("neither counts a plan's step as a success nor a failure, and frees the target when the plan does not go on", () => {
    const state = newGuardState('svc', { ...limits, breakerThreshold: 1 });
    const plan = request({
      incidentWorkflowId: 'incident-svc-plan',
      limits: { ...limits, breakerThreshold: 1 },
    });
    requestLease(state, plan, 0);
    expect(releaseLease(state, plan.requestId, 'step-done', MINUTE).breakerOpened).toBeUndefined();
    expect(state.consecutiveFailures).toBe(0);
    const other = request({ incidentWorkflowId: 'incident-svc-other' });
    expect(requestLease(state, other, 2 * MINUTE).kind).toBe('queued');
    // Five minutes on, the plan has not asked again: the queue is served (here refused by the cooldown
    // the step started, as any action's).
    tickGuard(state, MINUTE + RESERVED_FOR_NEXT_STEP_MS);
    expect(nextQueued(state, MINUTE + RESERVED_FOR_NEXT_STEP_MS)?.request.requestId).toBe(other.requestId);
  });
});
