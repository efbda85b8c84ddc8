import { describe, expect, it } from 'vitest';
import { newTargetDesk, onActionEnded, onDeskMessage } from '../../src/domain/target-desk.js';

const MINUTE = 60_000;
const context = (now: number) => ({ actions: [], now });
const ask = (incidentWorkflowId: string, untilMs?: number) => ({
  kind: 'ask' as const,
  incidentWorkflowId,
  alertType: incidentWorkflowId.split('-').at(-1) ?? 'x',
  ...(untilMs !== undefined ? { untilMs } : {}),
});

describe("a target's desk: one question per target", () => {
  it('makes the first asker the owner and tells the owner of each joiner', () => {
    const desk = newTargetDesk();
    expect(onDeskMessage(desk, ask('i-crash'), context(0))).toEqual([
      { to: 'i-crash', news: { kind: 'question', owner: 'i-crash' } },
    ]);
    expect(onDeskMessage(desk, ask('i-oom'), context(1))).toEqual([
      { to: 'i-oom', news: { kind: 'question', owner: 'i-crash' } },
      { to: 'i-crash', news: { kind: 'joined', incidentWorkflowId: 'i-oom', alertType: 'oom' } },
    ]);
    // Asking twice joins once.
    onDeskMessage(desk, ask('i-oom'), context(2));
    expect(desk.question?.joined).toEqual([{ workflowId: 'i-oom', alertType: 'oom' }]);
  });

  it('joins only a question about the same remedy: another proposal asks on its own', () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, { ...ask('i-bad-release'), proposed: 'ROLLBACK' }, context(0));
    // A restart (no `proposed`, as before plans) is not the rollback the person is shown.
    expect(onDeskMessage(desk, ask('i-crash'), context(1))).toEqual([
      { to: 'i-crash', news: { kind: 'question', owner: 'i-crash' } },
    ]);
    expect(desk.question?.owner).toBe('i-bad-release');
    expect(desk.question?.joined).toEqual([]);
    // Another incident proposing the same rollback joins it.
    expect(onDeskMessage(desk, { ...ask('i-errors'), proposed: 'ROLLBACK' }, context(2))[0]?.news).toEqual({
      kind: 'question',
      owner: 'i-bad-release',
    });
  });

  it('closes the question when its owner is done, telling the joiners whether nobody answered', () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('i-crash'), context(0));
    onDeskMessage(desk, ask('i-oom'), context(1));
    const tells = onDeskMessage(
      desk,
      { kind: 'done', incidentWorkflowId: 'i-crash', unanswered: true },
      context(2),
    );
    expect(tells).toEqual([
      { to: 'i-oom', news: { kind: 'question-closed', owner: 'i-crash', unanswered: true } },
    ]);
    expect(desk.question).toBeUndefined();
    expect(desk.followers).toEqual(['i-oom']);
    // The joiner asks again: it owns the question now.
    expect(onDeskMessage(desk, ask('i-oom'), context(3))[0]?.news).toEqual({
      kind: 'question',
      owner: 'i-oom',
    });
  });

  it('takes an owner past its longest wait for gone: the next asker owns the question, its joiners hear it closed', () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('i-crash', 10 * MINUTE), context(0));
    onDeskMessage(desk, ask('i-oom'), context(1));
    // Before the owner's time is up, a newcomer joins.
    expect(onDeskMessage(desk, ask('i-hang'), context(5 * MINUTE))[0]?.news).toEqual({
      kind: 'question',
      owner: 'i-crash',
    });
    // After it, the owner (which never said done) is replaced.
    const tells = onDeskMessage(desk, ask('i-cpu', 30 * MINUTE), context(11 * MINUTE));
    expect(tells).toEqual([
      { to: 'i-oom', news: { kind: 'question-closed', owner: 'i-crash', unanswered: true } },
      { to: 'i-hang', news: { kind: 'question-closed', owner: 'i-crash', unanswered: true } },
      { to: 'i-cpu', news: { kind: 'question', owner: 'i-cpu' } },
    ]);
    expect(desk.followers).not.toContain('i-crash');
    expect(desk.question).toMatchObject({ owner: 'i-cpu', untilMs: 30 * MINUTE, joined: [] });
  });

  it('extends the question when its owner asks again (it decided again after a limit)', () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('i-crash', 10 * MINUTE), context(0));
    onDeskMessage(desk, ask('i-crash', 40 * MINUTE), context(9 * MINUTE));
    expect(desk.question?.untilMs).toBe(40 * MINUTE);
    expect(onDeskMessage(desk, ask('i-oom'), context(20 * MINUTE))[0]?.news).toEqual({
      kind: 'question',
      owner: 'i-crash',
    });
  });

  it('keeps at most 100 joiners, dropping the oldest', () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('owner'), context(0));
    for (let i = 0; i < 130; i++) onDeskMessage(desk, ask(`joiner-${i}`), context(i + 1));
    expect(desk.question?.joined).toHaveLength(100);
    expect(desk.question?.joined[0]?.workflowId).toBe('joiner-30');
    expect(desk.followers.length).toBeLessThanOrEqual(100);
  });

  it("tells the followers of Medic's own action, but not of one that did nothing or was a plan's step", () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('i-crash'), context(0));
    onDeskMessage(desk, ask('i-oom'), context(1));
    const ended = (outcome: 'succeeded' | 'not-acted' | 'step-done') =>
      onActionEnded(desk, { incidentWorkflowId: 'i-crash', outcome, at: '2026-12-04T00:00:00.000Z' });
    expect(ended('succeeded')).toEqual([
      {
        to: 'i-oom',
        news: { kind: 'restarted', at: '2026-12-04T00:00:00.000Z', by: 'i-crash', outcome: 'succeeded' },
      },
    ]);
    expect(ended('not-acted')).toEqual([]);
    expect(ended('step-done')).toEqual([]);
  });

  it("tells followers of a start from outside Medic, not of one made under Medic's lease", () => {
    const desk = newTargetDesk();
    onDeskMessage(desk, ask('i-crash'), context(0));
    const at = '2026-12-04T00:10:00.000Z';
    const outside = onDeskMessage(desk, { kind: 'started', at, startedAt: at }, context(Date.parse(at)));
    expect(outside).toEqual([{ to: 'i-crash', news: { kind: 'restarted', at, startedAt: at } }]);
    const own = onDeskMessage(
      desk,
      { kind: 'started', at, startedAt: at },
      { holder: 'i-crash', actions: [], now: Date.parse(at) },
    );
    expect(own).toEqual([]);
  });
});
