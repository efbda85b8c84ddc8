// A plan's step other than a restart (patch `remedy-plans`): a service action the target declares, a memory
// raise, a rollback to the image it last ran healthy. Each is done by its activity on the target's host
// (compare-and-act on what the diagnosis saw, issued once), then verified; one that does not heal is undone
// by its inverse (the limit restored, the bad container put back), and a healed rollback removes the bad
// container it kept. The lease stays with the plan (act.ts gives it back).
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { FAILURE, REMEDY_FINAL_FAILURES } from '../../domain/failures.js';
import type { AvailableRemedy } from '../../domain/remedies.js';
import type { ActionRecord, Diagnosis } from '../../domain/types.js';
import { EngineOutage, whileEngineAway } from './engine-outage.js';
import { describeFailure } from './failures.js';
import { verifiedHealthy } from './health.js';
import { incidentMetrics } from './metrics.js';
import { stepWords } from './plan.js';
import type { IncidentRun } from './run.js';

const nowIso = () => new Date().toISOString();

/** How a step went; the lease is still held, except after `stop`, whose ending has given it back. */
export type StepResult =
  | { kind: 'healed'; counted: boolean }
  /** Done (or tried) and still unhealthy; `failed`: it could not be done at all. */
  | { kind: 'not-healed'; counted: boolean; reason: string; failed?: boolean; undone?: string }
  | { kind: 'dry-run'; detail: string }
  | { kind: 'engine-away'; reason: string };

/** What a remedy's activity did, and how to finish or undo it after the verification. */
interface Done {
  outcome: string;
  detail: string;
  dryRun: boolean;
  /** After a healthy verification (a rollback removes the bad container it kept). */
  finish?: () => Promise<string>;
  /** When it did not heal (the inverse). */
  undo?: () => Promise<string>;
}

export async function remedyStep(
  run: IncidentRun,
  diagnosis: Diagnosis,
  step: AvailableRemedy,
): Promise<StepResult> {
  const { state } = run;
  const words = stepWords(run, step);
  const position = { step: (state.plan?.at ?? 0) + 1, of: state.plan?.steps.length ?? 1 };
  run.setStatus('REMEDIATING', words);
  run.leaseActed = true;
  let done: Done;
  try {
    done = await whileEngineAway(run, words, () => run.timed('act', () => doRemedy(run, diagnosis, step)));
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = `${step.name} could not be done: ${describeFailure(err)}`;
    note(run, { action: step.name, outcome: 'failed', detail: reason, ...position });
    if (err instanceof EngineOutage) return { kind: 'engine-away', reason };
    // A failure the activity checks before it touches anything (the precondition, what the engine can do)
    // did nothing; any other may have reached the engine, and counts.
    return { kind: 'not-healed', counted: !checkedBeforeActing(err), reason, failed: true };
  }
  note(run, {
    action: step.name,
    outcome: done.dryRun ? 'would-have' : 'acted',
    detail: done.detail,
    ...position,
  });
  if (done.dryRun) return { kind: 'dry-run', detail: done.detail };
  incidentMetrics.acted(state.approval?.decidedBy ? 'approved' : 'automatic', step.name);
  run.setStatus('VERIFYING', `checking ${state.target} health after ${step.words}`);
  const health = await verifiedHealthy(run);
  if (health.healthy) {
    if (done.finish) await finishing(run, step, done.finish);
    return { kind: 'healed', counted: true };
  }
  const reason = `still unhealthy after ${step.words}: ${health.detail}`;
  run.record('not-healed', reason);
  if (!done.undo) return { kind: 'not-healed', counted: true, reason };
  const undone = await undoing(run, step, done.undo, position);
  return { kind: 'not-healed', counted: true, reason, ...(undone ? { undone } : {}) };
}

function note(run: IncidentRun, action: Omit<ActionRecord, 'at'>): void {
  run.state.actions.push({ ...action, at: nowIso() });
  run.record(action.outcome === 'acted' ? 'remedied' : action.outcome, action.detail);
}

function checkedBeforeActing(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return (
    cause instanceof ApplicationFailure &&
    (REMEDY_FINAL_FAILURES as readonly string[]).includes(cause.type ?? '')
  );
}

/** The inverse, when the step did not heal; a failed undo is said, and the plan goes on. */
async function undoing(
  run: IncidentRun,
  step: AvailableRemedy,
  undo: () => Promise<string>,
  position: { step: number; of: number },
): Promise<string | undefined> {
  run.setStatus('REMEDIATING', `undoing ${step.words}: it did not heal ${run.state.target}`);
  try {
    const detail = await run.timed('act', undo);
    note(run, { action: step.name, outcome: 'undone', detail, ...position });
    return detail;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = `the undo of ${step.name} failed: ${describeFailure(err)}; ${run.state.target} is left as it is`;
    note(run, { action: step.name, outcome: 'failed', detail, ...position });
    return undefined;
  }
}

async function finishing(run: IncidentRun, step: AvailableRemedy, finish: () => Promise<string>) {
  try {
    run.record('remedy-finished', await finish());
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('remedy-finish-failed', `${step.name}: ${describeFailure(err)}; a person may tidy up`);
  }
}

/** The remedy's activity, by its name; its inputs only from the diagnosis and the catalogue, never a model. */
async function doRemedy(run: IncidentRun, diagnosis: Diagnosis, step: AvailableRemedy): Promise<Done> {
  const { state } = run;
  const observed = diagnosis.observed;
  const summary = stepWords(run, step);
  const target = {
    incidentId: state.id,
    target: state.target,
    expectedContainerId: observed.containerId ?? '',
  };
  if (step.name.startsWith('ACTION:')) {
    const result = await run.activities.runServiceAction.executeWithOptions({ summary }, [
      { ...target, action: step.name },
    ]);
    return { outcome: result.outcome, detail: result.detail, dryRun: result.outcome === 'would-have' };
  }
  if (step.name === 'RAISE_MEMORY' && step.raiseTo && observed.memoryLimitBytes)
    return raiseMemory(run, diagnosis, target, {
      fromBytes: observed.memoryLimitBytes,
      toBytes: step.raiseTo,
    });
  if (step.name === 'ROLLBACK' && step.toImage && observed.imageId)
    return rollBack(run, target, { expectedImageId: observed.imageId, toImageId: step.toImage.id });
  throw ApplicationFailure.nonRetryable(
    `${step.name} is not a remedy this incident can carry out (${step.words}): the diagnosis saw too little of ${state.target}`,
    FAILURE.preconditionFailed,
  );
}

type Target = { incidentId: string; target: string; expectedContainerId: string };

/** RAISE_MEMORY: the limit raised; a container the kernel killed starts again under it. Undo: the old limit. */
async function raiseMemory(
  run: IncidentRun,
  diagnosis: Diagnosis,
  target: Target,
  limits: { fromBytes: number; toBytes: number },
): Promise<Done> {
  const { state, settings, activities } = run;
  const observed = diagnosis.observed;
  const raised = await activities.raiseMemoryLimit.executeWithOptions(
    { summary: `raise ${state.target}'s memory limit` },
    [{ ...target, ...limits }],
  );
  const dryRun = raised.outcome === 'would-have';
  let detail = raised.detail;
  if (!dryRun && observed.running === false) {
    // A start that fails leaves the raise to its undo (the verification will not find it healthy).
    try {
      const started = await activities.restartContainer.executeWithOptions(
        { summary: `start ${state.target} again under its raised limit` },
        [
          {
            incidentId: state.id,
            target: state.target,
            expectedStartedAt: observed.startedAt ?? '',
            stopTimeoutMs: settings.restartStopTimeoutMs,
          },
        ],
      );
      detail = `${detail}; ${started.detail}`;
    } catch (err) {
      if (isCancellation(err)) throw err;
      detail = `${detail}; it could not be started again: ${describeFailure(err)}`;
    }
  }
  const undo = async () =>
    (
      await activities.restoreMemoryLimit.executeWithOptions(
        { summary: `restore ${state.target}'s memory limit` },
        [{ ...target, fromBytes: limits.toBytes, toBytes: limits.fromBytes }],
      )
    ).detail;
  return { outcome: raised.outcome, detail, dryRun, undo };
}

/** ROLLBACK: the swap to the old image. Healed: the kept bad container goes. Not: it is put back. */
async function rollBack(
  run: IncidentRun,
  target: Target,
  images: { expectedImageId: string; toImageId: string },
): Promise<Done> {
  const { state, settings, activities } = run;
  const stopTimeoutMs = settings.restartStopTimeoutMs;
  const rolled = await activities.rollbackContainer.executeWithOptions(
    { summary: `roll ${state.target} back to ${images.toImageId.slice(0, 19)}` },
    [{ ...target, ...images, stopTimeoutMs }],
  );
  const dryRun = rolled.outcome === 'would-have';
  const { keptAs, newContainerId } = rolled;
  if (dryRun || !keptAs || !newContainerId) return { outcome: rolled.outcome, detail: rolled.detail, dryRun };
  const finish = async () =>
    (
      await activities.finishRollback.executeWithOptions(
        { summary: `remove ${keptAs}, the bad container the rollback kept` },
        [{ target: state.target, keptAs }],
      )
    ).detail;
  const undo = async () =>
    (
      await activities.undoRollback.executeWithOptions(
        { summary: `put ${keptAs} back as ${state.target}: the old image did not heal it` },
        [{ target: state.target, keptAs, newContainerId, stopTimeoutMs }],
      )
    ).detail;
  return { outcome: rolled.outcome, detail: rolled.detail, dryRun, finish, undo };
}
