// ROLLBACK on the engine: the swap, its finish and its undo. Each step is read from the engine itself,
// never from memory, so a retry or a new worker after a kill picks up where the last one stopped: the
// bad container is kept under `<name>-medic-rollback-<12 chars of its id>` (a name only Medic gives, so
// finding it is finding this rollback's own work), and the name then belongs to a container on the old
// image. The swap's steps (stop, rename, create, start) are each done once: a step whose result the
// engine already shows is not made again.

import { FAILURE } from '../../domain/failures.js';
import type {
  FinishRollbackInput,
  FinishRollbackResult,
  RollbackInput,
  RollbackResult,
  UndoResult,
  UndoRollbackInput,
} from '../../domain/remedy-actions.js';
import type { Logger } from '../../logger.js';
import type { ContainerInfo, ContainerRuntime, RemedyRuntime } from '../containers.js';
import { engineThatCan, final, managedByName, portRefusalsAreFinal, sameImage, short } from './target.js';

const KEPT_INFIX = '-medic-rollback-';

/** The name the bad container is kept under while the rollback is verified. */
export function keptName(target: string, containerId: string): string {
  return `${target}${KEPT_INFIX}${containerId.slice(0, 12)}`;
}

/** The id prefix a kept name carries, if it is one of this target's. */
function keptIdPrefix(target: string, keptAs: string): string {
  const prefix = `${target}${KEPT_INFIX}`;
  const rest = keptAs.startsWith(prefix) ? keptAs.slice(prefix.length) : '';
  if (!/^[0-9a-f]{12}$/.test(rest)) {
    throw final(
      `${keptAs} is not a name a rollback of ${target} keeps a container under; refusing to touch it`,
      FAILURE.preconditionFailed,
    );
  }
  return rest;
}

export async function rollbackOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: RollbackInput,
  options: { dryRun: boolean },
): Promise<RollbackResult> {
  const keptAs = keptName(input.target, input.expectedContainerId);
  const images = { fromImageId: input.expectedImageId, toImageId: input.toImageId };
  const engine = await engineThatCan(runtime, 'recreate');
  const named = await runtime.inspect(input.target);
  const kept = await runtime.inspect(keptAs);
  if (kept && (kept.id !== input.expectedContainerId || !kept.managed)) {
    throw final(
      `${keptAs} is container ${short(kept.id)}, not the one this rollback keeps; refusing to touch it`,
      FAILURE.targetReplaced,
    );
  }
  const wouldHave = (detail: string): RollbackResult => {
    logger.info({ target: input.target, incidentId: input.incidentId }, 'rollback not made: dry run');
    return {
      outcome: 'would-have',
      detail: `dry run on this worker: would ${detail}; nothing was touched`,
      ...images,
    };
  };
  let acted = false;
  if (named?.id === input.expectedContainerId) {
    // The swap has not begun, or stopped before the rename: compare, then stop and keep the bad container.
    const bad = await managedByName(runtime, input.target);
    if (!sameImage(bad.imageId, input.expectedImageId)) {
      throw final(
        `${input.target} runs image ${short(bad.imageId)}, not ${short(input.expectedImageId)} as the diagnosis saw: someone else changed it; not rolling back`,
        FAILURE.preconditionFailed,
      );
    }
    if (sameImage(input.toImageId, input.expectedImageId)) {
      throw final(
        `${input.target} runs image ${short(input.toImageId)} already; nothing to roll back`,
        FAILURE.preconditionFailed,
      );
    }
    if (!(await engine.imageExists(input.toImageId))) {
      throw final(
        `image ${short(input.toImageId)} is no longer on the engine (pruned or retagged); nothing to roll back to`,
        FAILURE.imageGone,
      );
    }
    if (options.dryRun) return wouldHave(`roll ${input.target} back to image ${short(input.toImageId)}`);
    await portRefusalsAreFinal(async () => {
      await engine.stop(bad.id, { stopTimeoutMs: input.stopTimeoutMs });
      await engine.rename(bad.id, keptAs);
    });
    acted = true;
    return swapped(engine, logger, input, keptAs, await created(engine, input, bad), acted);
  }
  if (!kept) {
    if (!named) throw final(`container ${input.target} no longer exists`, FAILURE.containerNotFound);
    throw final(
      `${input.target} is now container ${short(named.id)}, not ${short(input.expectedContainerId)} as the diagnosis saw it, and no rollback kept it: someone else recreated it; not acting`,
      FAILURE.targetReplaced,
    );
  }
  // The bad container is kept: the new one is made (if not yet) and started (if not yet).
  if (!named) {
    if (options.dryRun) return wouldHave(`create ${input.target} on image ${short(input.toImageId)}`);
    acted = true;
    return swapped(engine, logger, input, keptAs, await created(engine, input, kept), acted);
  }
  return swapped(engine, logger, input, keptAs, named, acted, options.dryRun);
}

/** The new container under the name, created from the kept one's configuration on the old image. */
async function created(
  engine: RemedyRuntime,
  input: RollbackInput,
  bad: ContainerInfo,
): Promise<ContainerInfo> {
  const id = await portRefusalsAreFinal(() =>
    engine.createFrom(bad.id, { name: input.target, imageId: input.toImageId }),
  );
  const info = await engine.inspect(id);
  if (!info) throw new Error(`the container just created for ${input.target} (${short(id)}) is gone`);
  return info;
}

/** The name's container is the new one: started if it is not running yet. */
async function swapped(
  engine: RemedyRuntime,
  logger: Logger,
  input: RollbackInput,
  keptAs: string,
  current: ContainerInfo,
  actedBefore: boolean,
  dryRun = false,
): Promise<RollbackResult> {
  if (!current.managed || !sameImage(current.imageId, input.toImageId)) {
    throw final(
      `${input.target} is container ${short(current.id)} on image ${short(current.imageId)}, beside the kept ${keptAs}: not the rollback's container; not acting`,
      FAILURE.targetReplaced,
    );
  }
  const images = { fromImageId: input.expectedImageId, toImageId: input.toImageId };
  let acted = actedBefore;
  if (!current.running) {
    if (dryRun) {
      return {
        outcome: 'would-have',
        detail: `dry run on this worker: would start ${input.target} on image ${short(input.toImageId)}; nothing was touched`,
        ...images,
      };
    }
    await portRefusalsAreFinal(() => engine.start(current.id));
    acted = true;
  }
  const outcome = acted ? 'rolled-back' : 'already-rolled-back';
  logger.info({ target: input.target, incidentId: input.incidentId, outcome, keptAs }, 'rolled back');
  return {
    outcome,
    detail: acted
      ? `${input.target} runs image ${short(input.toImageId)} again (container ${short(current.id)}); the bad container is kept as ${keptAs}`
      : `${input.target} already runs image ${short(input.toImageId)} (container ${short(current.id)}) beside the kept ${keptAs}: an earlier attempt rolled it back; not again`,
    keptAs,
    newContainerId: current.id,
    ...images,
  };
}

/** The old image was verified healthy: the kept bad container goes. */
export async function finishRollbackOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: FinishRollbackInput,
  options: { dryRun: boolean },
): Promise<FinishRollbackResult> {
  const prefix = keptIdPrefix(input.target, input.keptAs);
  const kept = await runtime.inspect(input.keptAs);
  if (!kept || kept.name !== input.keptAs) {
    return { outcome: 'already-removed', detail: `${input.keptAs} is gone already; nothing to remove` };
  }
  if (!kept.managed || !kept.id.startsWith(prefix)) {
    throw final(
      `${input.keptAs} is not the container the rollback kept; refusing to remove it`,
      FAILURE.targetReplaced,
    );
  }
  if (kept.running) {
    throw final(
      `${input.keptAs} runs again (someone started it); not removing a running container`,
      FAILURE.preconditionFailed,
    );
  }
  const named = await runtime.inspect(input.target);
  if (!named || named.name !== input.target || named.id === kept.id) {
    throw final(
      `no other container carries the name ${input.target}: removing ${input.keptAs} would leave none; not removing it`,
      FAILURE.preconditionFailed,
    );
  }
  if (options.dryRun) {
    return {
      outcome: 'would-have',
      detail: `dry run on this worker: would remove ${input.keptAs}; nothing was touched`,
    };
  }
  const engine = await engineThatCan(runtime, 'recreate');
  await portRefusalsAreFinal(() => engine.remove(kept.id));
  logger.info({ target: input.target, keptAs: input.keptAs }, 'rollback finished: kept container removed');
  return {
    outcome: 'removed',
    detail: `removed ${input.keptAs} (${short(kept.id)}), the container the rollback replaced`,
  };
}

/**
 * The old image did not become healthy: the new container is stopped and removed, and the kept one gets
 * its name back and runs, as it was before the rollback.
 */
export async function undoRollbackOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: UndoRollbackInput,
  options: { dryRun: boolean },
): Promise<UndoResult> {
  const prefix = keptIdPrefix(input.target, input.keptAs);
  const kept = await runtime.inspect(input.keptAs);
  const named = await runtime.inspect(input.target);
  const wouldHave = (detail: string): UndoResult => ({
    outcome: 'would-have',
    detail: `dry run on this worker: would ${detail}; nothing was touched`,
  });
  if (!kept || kept.name !== input.keptAs) {
    // Renamed back already: started if it is not running yet.
    if (!named?.managed || !named.id.startsWith(prefix)) {
      throw final(
        `neither ${input.keptAs} nor a container of the name ${input.target} that was kept by the rollback exists; nothing to put back`,
        FAILURE.containerNotFound,
      );
    }
    if (named.running) {
      return {
        outcome: 'already-undone',
        detail: `${input.target} is the original container (${short(named.id)}) again, running`,
      };
    }
    if (options.dryRun) return wouldHave(`start ${input.target} (${short(named.id)})`);
    const engine = await engineThatCan(runtime, 'recreate');
    await portRefusalsAreFinal(() => engine.start(named.id));
    return undone(logger, input, named);
  }
  if (!kept.managed || !kept.id.startsWith(prefix)) {
    throw final(
      `${input.keptAs} is not the container the rollback kept; refusing to touch it`,
      FAILURE.targetReplaced,
    );
  }
  if (named && named.name === input.target && named.id !== input.newContainerId) {
    throw final(
      `${input.target} is container ${short(named.id)}, not the rollback's ${short(input.newContainerId)}: someone else's; not removing it`,
      FAILURE.targetReplaced,
    );
  }
  if (options.dryRun) return wouldHave(`remove ${input.target}'s new container and put ${input.keptAs} back`);
  const engine = await engineThatCan(runtime, 'recreate');
  await portRefusalsAreFinal(async () => {
    if (named) {
      await engine.stop(named.id, { stopTimeoutMs: input.stopTimeoutMs });
      await engine.remove(named.id);
    }
    await engine.rename(kept.id, input.target);
    await engine.start(kept.id);
  });
  return undone(logger, input, kept);
}

function undone(logger: Logger, input: UndoRollbackInput, original: ContainerInfo): UndoResult {
  logger.info({ target: input.target, keptAs: input.keptAs }, 'rollback undone');
  return {
    outcome: 'undone',
    detail: `${input.target} is the original container (${short(original.id)}) again, on image ${short(original.imageId)}, started; the rollback's container ${short(input.newContainerId)} was removed`,
  };
}
