// Replays event histories recorded from earlier workflow code (test/fixtures/histories and its
// subfolders, see its README) against the workflow code as it is now. A change that a
// running incident, guard, budget, watcher or sweep could not survive (a command added, removed or
// reordered) fails here with the SDK's determinism error, instead of in production after a deploy.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { type ReplayWorkerOptions, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { PATCHES } from '../../src/workflows/versions.js';
import { historyFromJSON, patchesOf } from '../support/history-json.js';

const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
/** One per workflow type, and one per incident path; a fixture deleted by accident fails the test. */
const EXPECTED = [
  'budget',
  'guard',
  'incident-approved',
  'incident-auto',
  'incident-rejected',
  'sweep',
  'watcher',
];

/**
 * Later sets, each with the fixtures it holds. `issue-16`: the same seven, recorded from code that takes
 * every patch's new path (host queues, engine-outage wait, verification cadence, the permit in one trip,
 * batched guard answers), so those patched paths replay too. `permit`: the permit's paths no other set
 * takes (a queued lease, a refused lease while the budget never answers, incidents cancelled holding or
 * waiting for a lease) and the guards and the budget they spoke to. `judgment`: the judgment patches' paths
 * (decided again, one question per target, healed by another's restart, a NOOP or a `resolved` checked
 * against the target's health, a `resolved` from another sender, the dry-run kept across continue-as-new, a
 * retried restart finding its own), the guard's desk, the sweeper and the runbook's desk. `sweep-again`: the
 * sweeper's incidents once the sweep raises an anomaly again only after a failure or an unanswered question
 * (a NOOP's question rejected, one unanswered, a NOOP the rules cannot replace escalated at once) and the
 * sweeper. `oncall`: an approved incident that tells of the approval (PagerDuty acknowledges). `remedies` and
 * `dependents`: incidents that plan their remedies, before and after `restart-dependents`.
 */
const LATER_SETS: Record<string, readonly string[]> = {
  'issue-16': EXPECTED,
  // A person's approval told (patch `notify-decisions`), recorded with `record.ts oncall`.
  oncall: ['incident-approved'],
  permit: [
    'budget',
    'guard-cancelled',
    'guard-queued',
    'incident-cancelled-holding',
    'incident-cancelled-queued',
    'incident-queued',
    'incident-refused-budget-silent',
  ],
  judgment: [
    'guard-desk',
    'incident-already-restarted',
    'incident-continued-as-new',
    'incident-decided-again',
    'incident-dry-run-holds',
    'incident-healed-by-other',
    'incident-joined-joiner',
    'incident-joined-owner',
    'incident-noop-unhealthy',
    'incident-resolved-refused',
    'runbook-desk',
    'sweeper',
  ],
  'sweep-again': ['incident-noop-escalated', 'incident-noop-rejected', 'incident-noop-unanswered', 'sweeper'],
  remedies: ['incident-next-step', 'incident-plan-dry-run', 'incident-reset-pool', 'incident-step-approved'],
  dependents: [
    'incident-next-step',
    'incident-plan-dry-run',
    'incident-reset-pool',
    'incident-step-approved',
  ],
};

const load = (name: string): History =>
  historyFromJSON(JSON.parse(readFileSync(`${FIXTURES_DIR}${name}.json`, 'utf8')));

/**
 * Replays one history on the task queue it was recorded on, under the workflow id it ran with. Workflows
 * read their queue (the budget's id is `budget-<task queue>`), and a replay worker's own queue is a made-up
 * one; ReplayWorkerOptions leaves `taskQueue` out of its type, but the SDK (pinned) applies it over the
 * made-up one. An incident compares its own id with what its guard tells it (who owns the target's
 * question), so it must replay under its own.
 */
async function replay(name: string): Promise<string | undefined> {
  const history = load(name);
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const taskQueue = started?.taskQueue?.name;
  if (!taskQueue) throw new Error(`${name}.json does not start with a WorkflowExecutionStarted event`);
  const options = {
    workflowBundle: { codePath: inject('workflowBundlePath') },
    taskQueue,
  } as ReplayWorkerOptions;
  const workflowId = started?.workflowId || name;
  for await (const result of Worker.runReplayHistories(options, [{ workflowId, history }])) {
    return result.error && `${result.error.name}: ${result.error.message}`;
  }
  throw new Error(`no replay result for ${name}.json`);
}

describe('recorded workflow histories', () => {
  it('are all there', () => {
    const names = readdirSync(FIXTURES_DIR)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .sort();
    expect(names).toEqual(EXPECTED);
  });

  it.each(EXPECTED)(
    '%s replays against the current workflow code without a determinism error',
    async (name) => {
      expect(await replay(name)).toBeUndefined();
    },
  );

  it.each(Object.entries(LATER_SETS))('the %s set is all there', (set, expected) => {
    const names = readdirSync(`${FIXTURES_DIR}${set}`)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .sort();
    expect(names).toEqual(expected);
  });

  it.each(Object.entries(LATER_SETS).flatMap(([set, names]) => names.map((name) => `${set}/${name}`)))(
    '%s replays against the current workflow code without a determinism error',
    async (name) => {
      expect(await replay(name)).toBeUndefined();
    },
  );

  // The registry's fixtures are what they say: a new path's history recorded the patch's marker, an old
  // path's did not (it replays the branch the patch left in place).
  it.each(
    Object.entries(PATCHES).flatMap(([id, patch]) => [
      ...patch.fixtures.newPath.map((name) => [id, 'new', name] as const),
      ...patch.fixtures.oldPath.map((name) => [id, 'old', name] as const),
    ]),
  )('%s: the %s path is that of %s', (id, side, name) => {
    expect(patchesOf(load(name)).includes(id)).toBe(side === 'new');
  });
});
