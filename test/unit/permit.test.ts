// The permit's state machine, path by path: every command it returns, in order, for each way the guard
// and the budget can answer (or not), including the refunds and give-backs. The replay fixtures check
// the same commands against what the workflow really sent (test/fixtures/histories/permit).
import { describe, expect, it } from 'vitest';
import type { Decision, PermitCommand, PermitEvent, Route, WaitCommand } from '../../src/domain/permit.js';
import { newPermitState, onEvent, waitOver } from '../../src/domain/permit.js';

const GUARD = 'guard:local:web';
const BUDGET = 'budget-medic';
const R = 'r1';
const B = `${R}:granted`;
const LEASE_WAIT_MS = 1_540_800;
const BUDGET_WAIT_MS = 60_000;

const granted: Decision = { kind: 'granted', reason: 'within limits (1/3 restarts this hour)' };
const queued: Decision = { kind: 'queued', reason: 'web is being acted on by incident:local:web:cpu-spike' };
const cooldown: Decision = {
  kind: 'denied',
  reason: 'cooldown on web: last action ended 10 s ago, cooldown is 5 min',
  refusal: { kind: 'cooldown', until: '2026-12-04T10:05:00.000Z' },
};
const spent: Decision = {
  kind: 'denied',
  reason: 'global budget spent: 10 actions in the last hour across all targets (limit 10)',
  refusal: { kind: 'budget', until: '2026-12-04T10:30:00.000Z' },
};
const budgetOk: Decision = { kind: 'granted', reason: '1/10 actions this hour, 1/50 today' };

const signal = (to: 'lease' | 'budget', requestId = R, approvedBy?: string) =>
  ({ kind: 'signal', to, requestId, ...(approvedBy ? { approvedBy } : {}) }) as const;
const wait = (scope: 'lease' | 'budget', requestId = R): WaitCommand => ({
  kind: 'wait',
  for: scope,
  requestId,
  ms: scope === 'lease' ? LEASE_WAIT_MS : BUDGET_WAIT_MS,
});
const leaseWord: WaitCommand = { kind: 'wait', for: 'lease-word', requestId: R };
const release = (outcome: 'succeeded' | 'failed' | 'not-acted', requestId = R) =>
  ({ kind: 'release', requestId, outcome }) as const;
const refund = (because: 'queued' | 'refused' | 'given-back', requestId = R) =>
  ({ kind: 'refund', requestId, because }) as const;
const heard = (scope: 'lease' | 'budget', d: Decision): PermitCommand[] => [
  { kind: 'show', decision: d.kind, reason: d.reason },
  { kind: 'record', event: `${scope}-${d.kind}`, detail: d.reason },
];
const show = (d: Decision): PermitCommand => ({ kind: 'show', decision: d.kind, reason: d.reason });

/** The machine fed event by event, as the workflow feeds it. */
function permit(options: { dryRun?: boolean } = {}) {
  let state = newPermitState({ guardId: GUARD, budgetId: BUDGET });
  const feed = (event: PermitEvent) => {
    const step = onEvent(state, event);
    state = step.state;
    return step.commands;
  };
  return {
    get state() {
      return state;
    },
    feed,
    ask: (route: Route = 'one-trip', approvedBy?: string) =>
      feed({
        kind: 'asked',
        requestId: R,
        route,
        leaseWaitMs: LEASE_WAIT_MS,
        dryRun: options.dryRun ?? false,
        ...(approvedBy ? { approvedBy } : {}),
      }),
    answer: (scope: 'lease' | 'budget', decision: Decision, requestId = R) =>
      feed({ kind: 'answer', scope, requestId, decision }),
    sent: (command: PermitCommand) =>
      feed({ kind: 'sent', signal: command as Extract<PermitEvent, { kind: 'sent' }>['signal'] }),
    answered: (w: WaitCommand) => {
      expect(waitOver(state, w)).toBe(true);
      return feed({ kind: 'answered', wait: w });
    },
    timeout: (w: WaitCommand) => {
      expect(waitOver(state, w)).toBe(false);
      return feed({ kind: 'timeout', wait: w });
    },
    released: (outcome: 'succeeded' | 'failed' | 'not-acted', requestId = R) =>
      feed({ kind: 'released', requestId, outcome, dryRun: options.dryRun ?? false }),
  };
}

/** Asked in one trip, both requests delivered. */
function asked(options: { dryRun?: boolean } = {}) {
  const p = permit(options);
  expect(p.ask()).toEqual([signal('lease'), wait('lease'), signal('budget'), wait('budget')]);
  expect(p.sent(signal('lease'))).toEqual([]);
  expect(p.sent(signal('budget'))).toEqual([]);
  return p;
}

describe('the permit, asked in one trip', () => {
  it('asks the guard and the budget at once and answers once both granted, whichever answers first', () => {
    const p = asked();
    expect(p.answer('budget', budgetOk)).toEqual(heard('budget', budgetOk));
    expect(p.answered(wait('budget'))).toEqual([leaseWord]);
    expect(p.answer('lease', granted)).toEqual(heard('lease', granted));
    // An answer alone moves nothing: the waits it ends do, in the order the workflow sees them end.
    expect(p.answered(leaseWord)).toEqual([]);
    expect(p.answered(wait('lease'))).toEqual([
      show(budgetOk),
      { kind: 'settle', permit: { ok: true, requestId: R } },
    ]);
    expect(p.state.held).toBe(R);

    const q = asked();
    q.answer('lease', granted);
    expect(q.answered(wait('lease'))).toEqual([]);
    q.answer('budget', budgetOk);
    expect(q.answered(wait('budget'))).toEqual([leaseWord]);
    expect(q.answered(leaseWord)).toEqual([
      show(budgetOk),
      { kind: 'settle', permit: { ok: true, requestId: R } },
    ]);
  });

  it('starts the guard and the budget when the signal finds nobody, then signals again', () => {
    const p = permit();
    p.ask('one-trip', 'alice');
    expect(p.feed({ kind: 'not-found', signal: signal('lease', R, 'alice'), cause: 0 })).toEqual([
      { kind: 'start', which: 'lease' },
    ]);
    expect(p.feed({ kind: 'not-found', signal: signal('budget', R, 'alice'), cause: 1 })).toEqual([
      { kind: 'start', which: 'budget' },
    ]);
    expect(p.feed({ kind: 'started', start: { kind: 'start', which: 'lease' }, fresh: true })).toEqual([
      { kind: 'record', event: 'guard-started', detail: `started ${GUARD}` },
      signal('lease', R, 'alice'),
    ]);
    // Another incident started the budget first: asked again without a word.
    expect(p.feed({ kind: 'started', start: { kind: 'start', which: 'budget' }, fresh: false })).toEqual([
      signal('budget', R, 'alice'),
    ]);
    // A second miss is not waited out: the asking fails with it.
    expect(p.feed({ kind: 'not-found', signal: signal('budget', R, 'alice'), cause: 2 })).toEqual([
      { kind: 'fail', waiter: 'acquire', requestId: R, cause: 2 },
    ]);
  });

  it('gives a queued lease its budget unit back, and asks again under an id of its own once granted', () => {
    const p = asked();
    p.answer('budget', budgetOk);
    expect(p.answered(wait('budget'))).toEqual([leaseWord]);
    expect(p.answer('lease', queued)).toEqual(heard('lease', queued));
    // Queued is no answer to the lease's wait, but it is the guard's word: the unit goes back.
    expect(waitOver(p.state, wait('lease'))).toBe(false);
    expect(p.answered(leaseWord)).toEqual([refund('queued')]);
    expect(p.sent(refund('queued'))).toEqual([]);
    p.answer('lease', granted);
    expect(p.answered(wait('lease'))).toEqual([signal('budget', B), wait('budget', B)]);
    expect(p.sent(signal('budget', B))).toEqual([]);
    expect(p.answer('budget', budgetOk, B)).toEqual(heard('budget', budgetOk));
    expect(p.answered(wait('budget', B))).toEqual([
      show(budgetOk),
      { kind: 'settle', permit: { ok: true, requestId: R } },
    ]);
    // Given back unused, the unit refunded is the one asked for again.
    expect(p.released('not-acted')).toEqual([release('not-acted')]);
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back', B)]);
    expect(p.sent(refund('given-back', B))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
    ]);
  });

  it('keeps the unit of a lease granted before the budget answered, though it was queued first', () => {
    const p = asked();
    p.answer('lease', queued);
    p.answer('lease', granted);
    expect(p.answered(wait('lease'))).toEqual([]);
    p.answer('budget', budgetOk);
    expect(p.answered(wait('budget'))).toEqual([leaseWord]);
    expect(p.answered(leaseWord)).toEqual([
      show(budgetOk),
      { kind: 'settle', permit: { ok: true, requestId: R } },
    ]);
  });

  it('gives the lease back when the budget asked again refuses, and refunds nothing it was not granted', () => {
    const p = asked();
    p.answer('budget', budgetOk);
    p.answered(wait('budget'));
    p.answer('lease', queued);
    p.answered(leaseWord);
    p.sent(refund('queued'));
    p.answer('lease', granted);
    p.answered(wait('lease'));
    p.sent(signal('budget', B));
    p.answer('budget', spent, B);
    expect(p.answered(wait('budget', B))).toEqual([show(spent), release('not-acted')]);
    expect(p.state.held).toBeUndefined();
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back', B)]);
    expect(p.sent(refund('given-back', B))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
      { kind: 'settle', permit: { ok: false, reason: spent.reason, refusal: spent.refusal } },
    ]);
  });

  it('refunds the unit of a refused lease, and carries the refusal with its kind and end', () => {
    const p = asked();
    p.answer('lease', cooldown);
    expect(p.answered(wait('lease'))).toEqual([]);
    p.answer('budget', budgetOk);
    expect(p.answered(wait('budget'))).toEqual([leaseWord]);
    expect(p.answered(leaseWord)).toEqual([refund('refused')]);
    expect(p.state.held).toBeUndefined();
    expect(p.sent(refund('refused'))).toEqual([
      show(cooldown),
      {
        kind: 'settle',
        permit: {
          ok: false,
          reason: cooldown.reason,
          refusal: { kind: 'cooldown', until: '2026-12-04T10:05:00.000Z' },
        },
      },
    ]);
    // The request no longer counts: a late answer neither shows nor moves anything.
    expect(p.answer('lease', granted)).toEqual([]);
  });

  it('refunds when the lease is refused and the budget never answered', () => {
    const p = asked();
    p.answer('lease', cooldown);
    p.answered(wait('lease'));
    expect(p.timeout(wait('budget'))).toEqual([leaseWord]);
    expect(p.answered(leaseWord)).toEqual([refund('refused')]);
    expect(p.sent(refund('refused'))).toEqual([
      show(cooldown),
      { kind: 'settle', permit: expect.objectContaining({ ok: false, reason: cooldown.reason }) },
    ]);
  });

  it('refunds nothing when both refused', () => {
    const p = asked();
    p.answer('lease', cooldown);
    p.answered(wait('lease'));
    p.answer('budget', spent);
    p.answered(wait('budget'));
    expect(p.answered(leaseWord)).toEqual([
      show(cooldown),
      { kind: 'settle', permit: { ok: false, reason: cooldown.reason, refusal: cooldown.refusal } },
    ]);
  });

  it('gives the lease back not-acted when the budget refuses a granted lease, and refunds the unit asked', () => {
    const p = asked();
    p.answer('lease', granted);
    p.answered(wait('lease'));
    p.answer('budget', spent);
    p.answered(wait('budget'));
    expect(p.answered(leaseWord)).toEqual([show(spent), release('not-acted')]);
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back')]);
    expect(p.sent(refund('given-back'))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
      { kind: 'settle', permit: { ok: false, reason: spent.reason, refusal: spent.refusal } },
    ]);
  });

  it('refuses with no-answer when the budget is silent, and gives the granted lease back', () => {
    const p = asked();
    p.answer('lease', granted);
    p.answered(wait('lease'));
    p.timeout(wait('budget'));
    const reason = `${BUDGET} did not answer within 60 s`;
    expect(p.answered(leaseWord)).toEqual([
      { kind: 'show', decision: 'denied', reason },
      release('not-acted'),
    ]);
    p.sent(release('not-acted'));
    expect(p.sent(refund('given-back')).at(-1)).toEqual({
      kind: 'settle',
      permit: { ok: false, reason, refusal: { kind: 'no-answer' } },
    });
  });

  it('gives the lease back when the guard never answers, and refunds once', () => {
    const p = asked();
    p.answer('budget', budgetOk);
    p.answered(wait('budget'));
    p.answer('lease', queued);
    expect(p.answered(leaseWord)).toEqual([refund('queued')]);
    expect(p.sent(refund('queued'))).toEqual([]);
    // Queued past its wait: the request is withdrawn (the guard takes it off its queue) and its unit refunded.
    expect(p.timeout(wait('lease'))).toEqual([release('not-acted')]);
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back')]);
    const reason = `${GUARD} granted no lease within 1541 s`;
    expect(p.sent(refund('given-back'))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
      { kind: 'show', decision: 'denied', reason },
      { kind: 'settle', permit: { ok: false, reason, refusal: { kind: 'no-answer' } } },
    ]);
  });

  it('counts a refusal from a guard older than the kinds as other', () => {
    const p = asked();
    p.answer('lease', { kind: 'denied', reason: 'circuit breaker open on web' });
    p.answered(wait('lease'));
    p.answer('budget', spent);
    p.answered(wait('budget'));
    expect(p.answered(leaseWord).at(-1)).toEqual({
      kind: 'settle',
      permit: { ok: false, reason: 'circuit breaker open on web', refusal: { kind: 'other' } },
    });
  });

  it('ignores answers to requests it is not waiting for', () => {
    const p = asked();
    expect(p.answer('lease', granted, 'someone-else')).toEqual([]);
    expect(waitOver(p.state, wait('lease'))).toBe(false);
  });

  it('refunds nothing in a dry run, which spent nothing', () => {
    const p = asked({ dryRun: true });
    p.answer('budget', { kind: 'granted', reason: 'dry run: not counted (0/10 this hour)' });
    p.answered(wait('budget'));
    p.answer('lease', queued);
    expect(p.answered(leaseWord)).toEqual([]);
    p.answer('lease', granted);
    expect(p.answered(wait('lease'))).toEqual([signal('budget', B), wait('budget', B)]);
    p.released('not-acted');
    expect(p.sent(release('not-acted'))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
    ]);
  });
});

describe('the permit, when the incident is cancelled or a signal fails', () => {
  it('gives back a request cancelled while it waits in line, and refunds its unit', () => {
    const p = asked();
    p.answer('budget', budgetOk);
    p.answered(wait('budget'));
    p.answer('lease', queued);
    p.answered(leaseWord);
    p.sent(refund('queued'));
    // The asking ends with the wait it is in: here the lease's.
    expect(p.feed({ kind: 'cancelled', command: wait('lease'), cause: 0 })).toEqual([
      { kind: 'fail', waiter: 'acquire', requestId: R, cause: 0 },
    ]);
    expect(p.state.held).toBe(R);
    expect(p.released('not-acted')).toEqual([release('not-acted')]);
    expect(p.state.held).toBeUndefined();
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back')]);
    expect(p.sent(refund('given-back'))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'not-acted' },
      { kind: 'gave-back', requestId: R },
    ]);
  });

  it('fails the asking with the cancellation of the wait it is in', () => {
    const p = asked();
    expect(p.feed({ kind: 'cancelled', command: wait('lease'), cause: 0 })).toEqual([]);
    expect(p.feed({ kind: 'cancelled', command: wait('budget'), cause: 1 })).toEqual([
      { kind: 'fail', waiter: 'acquire', requestId: R, cause: 1 },
    ]);
    expect(p.state.held).toBe(R);
  });

  it('gives back a lease held when cancelled mid-action, as failed, without a refund', () => {
    const p = asked();
    p.answer('lease', granted);
    p.answered(wait('lease'));
    p.answer('budget', budgetOk);
    p.answered(wait('budget'));
    p.answered(leaseWord);
    expect(p.released('failed')).toEqual([release('failed')]);
    expect(p.sent(release('failed'))).toEqual([
      { kind: 'record', event: 'lease-released', detail: 'failed' },
      { kind: 'gave-back', requestId: R },
    ]);
    expect(p.state.held).toBeUndefined();
  });

  it('records a lease it could not give back (the guard takes it back when it expires)', () => {
    const p = asked();
    p.released('succeeded');
    expect(
      p.feed({ kind: 'failed', command: release('succeeded'), detail: 'no such workflow', cause: 0 }),
    ).toEqual([
      { kind: 'record', event: 'lease-release-failed', detail: 'no such workflow' },
      { kind: 'gave-back', requestId: R },
    ]);
  });

  it('fails a give-back cancelled with the workflow', () => {
    const p = asked();
    p.released('succeeded');
    expect(p.feed({ kind: 'cancelled', command: release('succeeded'), cause: 3 })).toEqual([
      { kind: 'fail', waiter: 'release', requestId: R, cause: 3 },
    ]);
  });

  it('fails the asking with a lease signal that failed, once the budget has answered', () => {
    const p = permit();
    p.ask();
    p.sent(signal('budget'));
    expect(p.feed({ kind: 'failed', command: signal('lease'), detail: 'boom', cause: 4 })).toEqual([]);
    p.answer('budget', budgetOk);
    expect(p.answered(wait('budget'))).toEqual([leaseWord]);
    expect(p.answered(leaseWord)).toEqual([{ kind: 'fail', waiter: 'acquire', requestId: R, cause: 4 }]);
  });
});

describe('the permit, asked in turn (before patch permit-one-trip)', () => {
  const start = (which: 'lease' | 'budget'): PermitCommand => ({ kind: 'start', which });
  const startedIt = (which: 'lease' | 'budget', fresh: boolean) =>
    ({ kind: 'started', start: { kind: 'start', which }, fresh }) as const;

  /** The guard started and asked, its answer awaited. */
  function askedInTurn() {
    const p = permit();
    expect(p.ask('in-turn')).toEqual([start('lease')]);
    expect(p.feed(startedIt('lease', true))).toEqual([
      { kind: 'record', event: 'guard-started', detail: `started ${GUARD}` },
      signal('lease'),
    ]);
    // The wait begins once the request is delivered; the lease is held only once granted.
    expect(p.sent(signal('lease'))).toEqual([wait('lease')]);
    expect(p.state.held).toBeUndefined();
    return p;
  }

  it('asks the guard, then the budget, each started first', () => {
    const p = askedInTurn();
    p.answer('lease', granted);
    expect(p.answered(wait('lease'))).toEqual([start('budget')]);
    expect(p.state.held).toBe(R);
    expect(p.feed(startedIt('budget', false))).toEqual([signal('budget')]);
    expect(p.sent(signal('budget'))).toEqual([wait('budget')]);
    p.answer('budget', budgetOk);
    expect(p.answered(wait('budget'))).toEqual([{ kind: 'settle', permit: { ok: true, requestId: R } }]);
  });

  it('stops at a refused lease without asking the budget', () => {
    const p = askedInTurn();
    p.answer('lease', cooldown);
    expect(p.answered(wait('lease'))).toEqual([
      { kind: 'settle', permit: { ok: false, reason: cooldown.reason, refusal: cooldown.refusal } },
    ]);
    expect(p.state.listening).toEqual([]);
  });

  it('gives the lease back when the guard never answers', () => {
    const p = askedInTurn();
    expect(p.timeout(wait('lease'))).toEqual([release('not-acted')]);
    p.sent(release('not-acted'));
    expect(p.sent(refund('given-back')).at(-1)).toEqual({
      kind: 'settle',
      permit: {
        ok: false,
        reason: `${GUARD} granted no lease within 1541 s`,
        refusal: { kind: 'no-answer' },
      },
    });
  });

  it('gives the lease back not-acted when the budget refuses', () => {
    const p = askedInTurn();
    p.answer('lease', granted);
    p.answered(wait('lease'));
    p.feed(startedIt('budget', true));
    p.sent(signal('budget'));
    p.answer('budget', spent);
    expect(p.answered(wait('budget'))).toEqual([release('not-acted')]);
    expect(p.sent(release('not-acted'))).toEqual([refund('given-back')]);
    expect(p.sent(refund('given-back')).at(-1)).toEqual({
      kind: 'settle',
      permit: { ok: false, reason: spent.reason, refusal: spent.refusal },
    });
  });

  it('fails when the guard it started cannot be signalled', () => {
    const p = permit();
    p.ask('in-turn');
    p.feed(startedIt('lease', false));
    expect(p.feed({ kind: 'not-found', signal: signal('lease'), cause: 0 })).toEqual([
      { kind: 'fail', waiter: 'acquire', requestId: R, cause: 0 },
    ]);
  });
});
