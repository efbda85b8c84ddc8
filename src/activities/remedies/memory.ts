// RAISE_MEMORY and its inverse on the engine: the memory limit goes from one value to another, and the
// memory + swap limit moves with it (Docker refuses a memory limit above the swap limit already set), so
// the swap the container had beyond its memory stays what it was. Compare-and-act: only while the limit is
// still `fromBytes`; a limit already at `toBytes` is the change done (a retry, or a worker killed after the
// engine took it). An engine that cannot update limits, or does not keep the change, says so and fails.

import { FAILURE } from '../../domain/failures.js';
import type { MemoryLimitInput, MemoryLimitResult } from '../../domain/remedy-actions.js';
import type { Logger } from '../../logger.js';
import type { ContainerRuntime } from '../containers.js';
import { engineThatCan, final, portRefusalsAreFinal, sameTarget } from './target.js';

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

export async function memoryLimitOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: MemoryLimitInput,
  options: { dryRun: boolean; direction: 'raise' | 'restore' },
): Promise<MemoryLimitResult> {
  const { fromBytes, toBytes } = input;
  const verb = options.direction === 'raise' ? 'raise' : 'restore';
  if (!(fromBytes > 0 && toBytes > 0) || fromBytes === toBytes || (verb === 'raise' && toBytes < fromBytes)) {
    throw final(
      `cannot ${verb} a memory limit from ${fromBytes} to ${toBytes} bytes`,
      FAILURE.preconditionFailed,
    );
  }
  const info = await sameTarget(runtime, input);
  const engine = await engineThatCan(runtime, 'update-limits');
  const limits = { fromBytes, toBytes };
  const current = info.memoryLimitBytes;
  const words = `${input.target}'s memory limit from ${mib(fromBytes)} to ${mib(toBytes)}`;
  if (current === toBytes) {
    return {
      outcome: verb === 'raise' ? 'already-raised' : 'already-restored',
      detail: `${input.target}'s memory limit is ${mib(toBytes)} already: an earlier attempt changed it; not again`,
      ...limits,
    };
  }
  if (current !== fromBytes) {
    throw final(
      `${input.target}'s memory limit is ${current ? mib(current) : 'unset'}, not ${mib(fromBytes)} as the diagnosis saw: someone else changed it; not acting`,
      FAILURE.preconditionFailed,
    );
  }
  if (options.dryRun) {
    logger.info({ target: input.target, incidentId: input.incidentId }, `memory ${verb} not made: dry run`);
    return {
      outcome: 'would-have',
      detail: `dry run on this worker: would ${verb} ${words}; nothing was touched`,
      ...limits,
    };
  }
  // The engine's default for a limit without a swap limit is as much swap again as memory.
  const swap = info.memorySwapBytes;
  const memorySwapBytes = swap === -1 ? -1 : toBytes + Math.max(0, (swap ?? 2 * fromBytes) - fromBytes);
  await portRefusalsAreFinal(() =>
    engine.updateMemoryLimit(info.id, { memoryBytes: toBytes, memorySwapBytes }),
  );
  const after = await runtime.inspect(info.id);
  if (after?.memoryLimitBytes !== toBytes) {
    throw final(
      `the ${runtime.kind} took the update but shows a limit of ${after?.memoryLimitBytes ? mib(after.memoryLimitBytes) : 'none'}: it does not keep limit changes`,
      FAILURE.remedyNotSupported,
    );
  }
  logger.info(
    { target: input.target, incidentId: input.incidentId, fromBytes, toBytes },
    `memory limit ${verb}d`,
  );
  return {
    outcome: verb === 'raise' ? 'raised' : 'restored',
    detail: `${verb === 'raise' ? 'raised' : 'restored'} ${words} (memory + swap ${memorySwapBytes === -1 ? 'unlimited' : mib(memorySwapBytes)})`,
    ...limits,
  };
}
