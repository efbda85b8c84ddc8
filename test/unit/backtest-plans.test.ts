// The backtest over incidents that carried out plans: the states are the recorded replay fixtures' own
// (test/fixtures/histories/remedies/, the workflows' results), so each decision is one the workflow took. Today's
// policy reproduces every step's decision; a stricter low-risk table moves the declared actions from acted to
// asked, and leaves the restarts as they were.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BacktestPolicy, backtest } from '../../src/domain/backtest.js';
import { DEFAULT_RISK_POLICY, parseSeverityPolicy } from '../../src/domain/policy.js';
import type { IncidentState } from '../../src/domain/types.js';
import { testSettings } from '../support/medic.js';

const FIXTURES = new URL('../fixtures/histories/remedies/', import.meta.url);

/** The incident state a recorded history ended with: its completion's result. */
function endState(name: string): IncidentState {
  const history = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as {
    events: Array<{
      workflowExecutionCompletedEventAttributes?: { result: { payloads: Array<{ data: string }> } };
    }>;
  };
  const completed = history.events.at(-1)?.workflowExecutionCompletedEventAttributes;
  if (!completed) throw new Error(`${name} did not complete`);
  return JSON.parse(
    Buffer.from(completed.result.payloads[0]!.data, 'base64').toString('utf8'),
  ) as IncidentState;
}

// The settings the recorder ran with (record-remedies.ts).
const settings = testSettings();
const today: BacktestPolicy = { policy: settings.policy, guard: settings.guard, budget: settings.budget };
const incidents = ['incident-reset-pool', 'incident-next-step', 'incident-step-approved'].map(endState);

describe('the backtest over plans', () => {
  it('reproduces every step’s decision under today’s policy', () => {
    const decided = incidents.flatMap((s) => s.decisions ?? []);
    expect(decided.map((d) => [d.action, d.risk, d.outcome])).toEqual([
      ['ACTION:reset-pool', 'low', 'acted'],
      ['ACTION:ping', 'low', 'acted'],
      ['RESTART', 'medium', 'acted'],
      ['ACTION:reset-pool', 'low', 'asked'],
    ]);
    const result = backtest(incidents, today);
    expect(result.disagreements).toEqual([]);
    expect(result.agreement).toBe(1);
  });

  it('moves the low-risk steps to a person under a stricter low-risk table, and only them', () => {
    const strict = parseSeverityPolicy('medium=approval,high=approval', DEFAULT_RISK_POLICY.low);
    const proposed = {
      ...today,
      policy: { ...today.policy, byRisk: { ...DEFAULT_RISK_POLICY, low: strict } },
    };
    const result = backtest(incidents, today, proposed);
    expect(result.current).toMatchObject({ acted: 3, asked: 1 });
    expect(result.proposed).toMatchObject({ acted: 1, asked: 3 });
  });
});
