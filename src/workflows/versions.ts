// Every patch id the workflows branch on, in one registry: what it changed, which histories still take
// the old path, the replay fixtures that cover each side, and when the old path may go. Workflow code
// asks `isPatched(PATCHES.x)` (or `patched()` with a `PatchId`): an id missing here is a type error.
// How to add a patch and how to retire one: docs/development/workflow-versions.md.
import { deprecatePatch, patched } from '@temporalio/workflow';

export interface PatchRecord {
  /** What the new path does differently, in a sentence. */
  changed: string;
  /** The workflow types whose histories branch on it. */
  workflows: ReadonlyArray<'incidentWorkflow' | 'guardWorkflow' | 'budgetWorkflow'>;
  /** Which histories take the old path: those begun before this code was deployed. */
  oldPathFor: string;
  /** Replay fixtures (under test/fixtures/histories) of the old path and of the new one. */
  fixtures: { oldPath: readonly string[]; newPath: readonly string[] };
  /** When the old path (and its fixtures) may be deleted, through `deprecatePatch` first. */
  retireWhen: string;
  /** `deprecated`: new histories no longer record a marker; the old path is gone. */
  stage: 'active' | 'deprecated';
}

/** The fixture set recorded before any patch existed: every old path. */
const INCIDENTS = ['incident-auto', 'incident-approved', 'incident-rejected'];
/** The incidents that acted (the rejected one never asks for a permit, restarts or verifies). */
const ACTED = ['incident-auto', 'incident-approved'];
const issue16 = (names: readonly string[]) => names.map((name) => `issue-16/${name}`);
/** The permit's paths no other set takes: queued, cancelled holding or waiting, refused with a silent budget. */
const PERMIT_INCIDENTS = [
  'permit/incident-queued',
  'permit/incident-cancelled-queued',
  'permit/incident-cancelled-holding',
  'permit/incident-refused-budget-silent',
];
const judgment = (names: readonly string[]) => names.map((name) => `judgment/${name}`);
/** The incidents that asked a person before one-question-per-target: they ask without their guard. */
const ASKED_ALONE = [
  'incident-approved',
  'incident-rejected',
  ...issue16(['incident-approved', 'incident-rejected']),
  'permit/incident-refused-budget-silent',
];
/** The judgment set's incidents that asked their guard who owns the target's question. */
const ASKED_THE_GUARD = judgment([
  'incident-decided-again',
  'incident-joined-owner',
  'incident-joined-joiner',
  'incident-healed-by-other',
  'incident-resolved-refused',
  'incident-noop-unhealthy',
  'incident-continued-as-new',
]);
const noOpenIncidentOlderThan = (date: string) =>
  `no incident, guard or budget run started before ${date} is still open (Web UI: StartTime < "${date}" AND ExecutionStatus = "Running")`;

export const PATCHES = {
  'settings-from-worker': {
    changed: 'an incident adopts the safety settings of the worker that runs it (a local activity at start)',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents started before 2026-11-30, which keep the settings their starter sent',
    fixtures: { oldPath: INCIDENTS, newPath: issue16(INCIDENTS) },
    retireWhen: noOpenIncidentOlderThan('2026-12-01'),
    stage: 'active',
  },
  'guard-id-with-host': {
    changed: 'the guard of a target is `guard:<host>:<target>` instead of `guard-<target>`',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents started before 2026-11-30, which ask the guard under its old name',
    fixtures: { oldPath: ACTED, newPath: issue16(ACTED) },
    retireWhen: noOpenIncidentOlderThan('2026-12-01'),
    stage: 'active',
  },
  'host-queues': {
    changed:
      "engine work runs on the host's queue, evidence is gathered there and judged centrally, the allowlist check is a scheduled activity with a bounded wait, runbook writes go to the single writer",
    workflows: ['incidentWorkflow'],
    oldPathFor:
      'incidents started before 2026-11-30: one `diagnose` activity, the allowlist as a local activity',
    fixtures: { oldPath: INCIDENTS, newPath: issue16(INCIDENTS) },
    retireWhen: `${noOpenIncidentOlderThan('2026-12-01')}; then the \`diagnose\` activity goes too`,
    stage: 'active',
  },
  'notify-outcomes': {
    changed:
      'resolved and rejected outcomes are notified, and the "restarting" notice is sent without waiting (it never holds the lease)',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents started before 2026-11-30',
    fixtures: { oldPath: INCIDENTS, newPath: issue16(INCIDENTS) },
    retireWhen: noOpenIncidentOlderThan('2026-12-01'),
    stage: 'active',
  },
  'engine-outage-wait': {
    changed: 'a step that needs the engine waits out its outage (MEDIC_ENGINE_OUTAGE_WAIT) with backoff',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents started before 2026-12-01, whose activity retry policy retried the engine',
    fixtures: { oldPath: INCIDENTS, newPath: issue16(INCIDENTS) },
    retireWhen: noOpenIncidentOlderThan('2026-12-02'),
    stage: 'active',
  },
  'verify-cadence': {
    changed: 'the verification probes fast for its first interval, then backs off',
    workflows: ['incidentWorkflow'],
    oldPathFor: "incidents started before 2026-12-01, verified by the retry policy's backoff alone",
    fixtures: { oldPath: ACTED, newPath: issue16(ACTED) },
    retireWhen: `${noOpenIncidentOlderThan('2026-12-02')}; then the \`verifyHealth\` proxy without a window goes too`,
    stage: 'active',
  },
  'already-restarted-acted': {
    changed:
      'a restart found already made by an earlier attempt of the same activity counts as the action it was',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents started before 2026-12-01 (it changes no command: only what the lease reports)',
    // Asked only when a restart reports `already-restarted`: a later attempt found the restart an earlier one
    // made (judgment/incident-already-restarted: its first attempt restarted the target, then failed before
    // reporting). The permit set's queued incident took it too, recorded when `already-restarted` also meant
    // a restart by someone else (today `healed-by-other`, which never asks). No history of the old path has one.
    fixtures: {
      oldPath: [],
      newPath: ['permit/incident-queued', ...judgment(['incident-already-restarted'])],
    },
    retireWhen: noOpenIncidentOlderThan('2026-12-02'),
    stage: 'active',
  },
  'permit-one-trip': {
    changed:
      'the lease and the budget are asked in the same workflow task, each signalled before it is started',
    workflows: ['incidentWorkflow'],
    oldPathFor:
      'incidents started before 2026-12-01, which ask the guard, then the budget, each after starting it',
    fixtures: { oldPath: ACTED, newPath: [...issue16(ACTED), ...PERMIT_INCIDENTS] },
    retireWhen: `${noOpenIncidentOlderThan('2026-12-02')}; then the permit machine's \`in-turn\` route goes (advanceInTurn in domain/permit.ts, the \`start-first\` order in domain/permit-ask.ts)`,
    stage: 'active',
  },
  'answers-in-parallel': {
    changed: 'the guard and the budget send the answers to a batch of messages together',
    workflows: ['guardWorkflow', 'budgetWorkflow'],
    oldPathFor:
      'guard and budget runs started before 2026-12-01 (they continue as new every 500 messages, and then take the new path)',
    fixtures: {
      oldPath: ['guard', 'budget'],
      newPath: [
        ...issue16(['guard', 'budget']),
        'permit/guard-queued',
        'permit/guard-cancelled',
        'permit/budget',
        ...judgment(['guard-desk']),
      ],
    },
    retireWhen: noOpenIncidentOlderThan('2026-12-02'),
    stage: 'active',
  },
  'dry-run-holds': {
    changed:
      "a run carried over by continue-as-new keeps the dry-run of either side (its own or the worker's), not only its own",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents that continued as new before 2026-12-04 (they keep the dry-run they carried)',
    fixtures: { oldPath: [], newPath: judgment(['incident-dry-run-holds']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'resolved-from-opener': {
    changed:
      "a sender's `resolved` closes an incident only when it comes from the source (and webhook sender) that opened it; an engine-opened incident ignores every `resolved`",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents that received a `resolved` before 2026-12-04 (asked only when one arrives)',
    fixtures: { oldPath: [], newPath: judgment(['incident-resolved-refused']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'decide-again': {
    changed:
      'an incident asked a person only because of a limit that ends (cooldown, hourly limit, budget window) decides again when it ends, and acts alone if the policy allows it',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents refused a permit before 2026-12-04 (asked only when a refusal carries its end)',
    fixtures: { oldPath: [], newPath: judgment(['incident-decided-again']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'one-question-per-target': {
    changed:
      "before asking a person an incident asks its target's guard, follows the target (its restarts end the wait: the incident verifies instead), and joins the target's open question instead of asking again",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents that asked a person before 2026-12-04',
    fixtures: { oldPath: ASKED_ALONE, newPath: ASKED_THE_GUARD },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'verify-before-resolved': {
    changed:
      "a model's NOOP and a sender's `resolved` close an incident only for a target healthy now; otherwise a person decides (NOOP) or the incident goes on (`resolved`)",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents diagnosed NOOP or resolved by their sender before 2026-12-04',
    fixtures: { oldPath: [], newPath: judgment(['incident-noop-unhealthy', 'incident-resolved-refused']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'sweep-raises-again': {
    changed:
      'an incident the health sweep opened that ends without the target seen healthy tells the sweeper, which may raise the anomaly again',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'sweep-opened incidents that ended before 2026-12-04',
    fixtures: { oldPath: [], newPath: judgment(['incident-noop-unhealthy']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'sweep-raises-again-after-failure': {
    changed:
      'the sweep may raise an anomaly again only after an incident that failed or was escalated for real: not after a rejection (a person said leave it), a dry run or a refusal, which would ask again at every sweep',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'sweep-opened incidents that ended before 2026-12-05',
    fixtures: { oldPath: judgment(['incident-noop-unhealthy']), newPath: [] },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'noop-without-proposal-escalates': {
    changed:
      "a model's NOOP on an unhealthy target, when the rules propose nothing either (NOOP, ESCALATE), escalates to a person instead of asking them to approve doing nothing",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents diagnosed NOOP before 2026-12-05',
    fixtures: { oldPath: judgment(['incident-noop-unhealthy']), newPath: [] },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'notify-decisions': {
    changed:
      "a person's approval is told (`acting`, sent without waiting): PagerDuty acknowledges the incident it was paged with",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents approved before 2026-12-05',
    fixtures: {
      oldPath: ['incident-approved', 'issue-16/incident-approved'],
      newPath: ['oncall/incident-approved'],
    },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
} as const satisfies Record<string, PatchRecord>;

export type PatchId = keyof typeof PATCHES;
type ActivePatchId = { [K in PatchId]: (typeof PATCHES)[K]['stage'] extends 'active' ? K : never }[PatchId];
type DeprecatedPatchId = Exclude<PatchId, ActivePatchId>;

/** Whether this history takes the path a patch introduced. Only registered, active ids typecheck. */
export function isPatched(id: ActivePatchId): boolean {
  return patched(id);
}

/** A patch whose old path is gone: new histories record nothing, old ones still replay its marker. */
export function retired(id: DeprecatedPatchId): void {
  deprecatePatch(id);
}
