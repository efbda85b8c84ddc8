// Every patch id the workflows branch on, in one registry: what it changed, which histories still take
// the old path, the replay fixtures that cover each side, and when the old path may go. Workflow code
// asks `isPatched(PATCHES.x)` (or `patched()` with a `PatchId`): an id missing here is a type error.
// How to add a patch and how to retire one: docs/development/workflow-versions.md.
import { deprecatePatch, patched } from '@temporalio/workflow';
import {
  ACTED,
  ASKED_ALONE,
  ASKED_THE_GUARD,
  INCIDENTS,
  issue16,
  judgment,
  NOOP_UNHEALTHY,
  PERMIT_INCIDENTS,
  PLANNED,
  SWEEP_NOOPS,
  sweepAgain,
} from './version-fixtures.js';
import { noOpenIncidentOlderThan, type PatchRecord } from './version-record.js';

export type { PatchRecord } from './version-record.js';

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
    fixtures: {
      oldPath: [],
      newPath: [...judgment(['incident-noop-unhealthy', 'incident-resolved-refused']), ...SWEEP_NOOPS],
    },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'sweep-raises-again': {
    changed:
      'an incident the health sweep opened that ends without the target seen healthy tells the sweeper, which may raise the anomaly again',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'sweep-opened incidents that ended before 2026-12-04',
    fixtures: { oldPath: [], newPath: [...NOOP_UNHEALTHY, ...sweepAgain(['incident-noop-unanswered'])] },
    retireWhen: noOpenIncidentOlderThan('2026-12-05'),
    stage: 'active',
  },
  'sweep-raises-again-after-failure': {
    changed:
      'the sweep may raise an anomaly again only after an incident that failed or was escalated for real: not after a rejection (a person said leave it), a dry run or a refusal, which would ask again at every sweep',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'sweep-opened incidents that ended before 2026-12-05',
    fixtures: { oldPath: NOOP_UNHEALTHY, newPath: SWEEP_NOOPS },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'noop-without-proposal-escalates': {
    changed:
      "a model's NOOP on an unhealthy target, when the rules propose nothing either (NOOP, ESCALATE), escalates to a person instead of asking them to approve doing nothing",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents diagnosed NOOP before 2026-12-05',
    fixtures: { oldPath: NOOP_UNHEALTHY, newPath: sweepAgain(['incident-noop-escalated']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'sweep-raises-again-unanswered': {
    changed:
      'of the escalations, only a question nobody answered lets the sweep raise the anomaly again: one that ended at once (nothing to propose, diagnosis failed, target not managed) already told a person, and raising it again would escalate again at every sweep',
    workflows: ['incidentWorkflow'],
    oldPathFor: 'sweep-opened incidents that ended ESCALATED before 2026-12-05',
    fixtures: { oldPath: [], newPath: sweepAgain(['incident-noop-unanswered', 'incident-noop-escalated']) },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'remedy-plans': {
    changed:
      "an incident plans its remedies (a rollback after a recent image change, the runbook's fix, the target's declared plan and actions, the model's, the rules'), weighs each step by its risk, does, verifies and undoes them one by one holding the target's lease between steps (`step-done`), and decides the next step again with fresh evidence",
    workflows: ['incidentWorkflow', 'guardWorkflow'],
    oldPathFor: 'incidents that decided before 2026-12-05 (they restart, as they always did)',
    fixtures: { oldPath: INCIDENTS, newPath: PLANNED },
    retireWhen: noOpenIncidentOlderThan('2026-12-06'),
    stage: 'active',
  },
  'restart-dependents': {
    changed:
      "after a plan's restart heals its target, the containers that declare `medic.depends-on=<target>` and fail then are raised as incidents of their own (`raiseDependents`)",
    workflows: ['incidentWorkflow'],
    oldPathFor: 'incidents planned before 2026-12-05 that had not yet healed by a restart',
    fixtures: { oldPath: ['remedies/incident-next-step'], newPath: ['dependents/incident-next-step'] },
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
