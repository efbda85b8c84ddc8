// The replay fixtures (under test/fixtures/histories, see its README) that the patch registry in versions.ts
// names for each side of each patch, grouped by the set and the path they recorded.

/** The fixture set recorded before any patch existed: every old path. */
export const INCIDENTS = ['incident-auto', 'incident-approved', 'incident-rejected'];
/** The incidents that acted (the rejected one never asks for a permit, restarts or verifies). */
export const ACTED = ['incident-auto', 'incident-approved'];
export const issue16 = (names: readonly string[]) => names.map((name) => `issue-16/${name}`);
/** The permit's paths no other set takes: queued, cancelled holding or waiting, refused with a silent budget. */
export const PERMIT_INCIDENTS = [
  'permit/incident-queued',
  'permit/incident-cancelled-queued',
  'permit/incident-cancelled-holding',
  'permit/incident-refused-budget-silent',
];
export const judgment = (names: readonly string[]) => names.map((name) => `judgment/${name}`);
/** The sweeper's incidents after the sweep's raise-again rule was narrowed: rejected, unanswered, escalated at once. */
export const sweepAgain = (names: readonly string[]) => names.map((name) => `sweep-again/${name}`);
export const SWEEP_NOOPS = sweepAgain([
  'incident-noop-rejected',
  'incident-noop-unanswered',
  'incident-noop-escalated',
]);
/** The sweep's NOOP before the sweep's raise-again rule was narrowed: rejected, and the sweeper told. */
export const NOOP_UNHEALTHY = judgment(['incident-noop-unhealthy']);
/** The incidents that asked a person before one-question-per-target: they ask without their guard. */
export const ASKED_ALONE = [
  'incident-approved',
  'incident-rejected',
  ...issue16(['incident-approved', 'incident-rejected']),
  'permit/incident-refused-budget-silent',
];
/** The judgment set's incidents that asked their guard who owns the target's question. */
export const ASKED_THE_GUARD = judgment([
  'incident-decided-again',
  'incident-joined-owner',
  'incident-joined-joiner',
  'incident-healed-by-other',
  'incident-resolved-refused',
  'incident-noop-unhealthy',
  'incident-continued-as-new',
]).concat(sweepAgain(['incident-noop-rejected', 'incident-noop-unanswered']));
/** The incidents that planned their remedies (record-remedies.ts). */
export const PLANNED = ['reset-pool', 'next-step', 'step-approved', 'plan-dry-run'].map(
  (n) => `remedies/incident-${n}`,
);
