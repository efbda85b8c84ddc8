// The remedy activities a host worker runs beside the restart: each compare-and-act on the container the
// diagnosis saw, issued once across retries and a worker killed mid-way, refused in dry-run (`would-have`),
// heartbeating while the engine works. Their inputs and answers are src/domain/remedy-actions.ts.
import type {
  FinishRollbackInput,
  FinishRollbackResult,
  MemoryLimitInput,
  MemoryLimitResult,
  RollbackInput,
  RollbackResult,
  ServiceActionInput,
  ServiceActionResult,
  UndoResult,
  UndoRollbackInput,
  UnhealthyDependent,
  UnhealthyDependentsInput,
} from '../../domain/remedy-actions.js';
import type { Logger } from '../../logger.js';
import type { ContainerRuntime } from '../containers.js';
import { onEngine, whileHeartbeating } from '../engine-call.js';
import { unhealthyDependentsOf } from './dependents.js';
import { memoryLimitOnce } from './memory.js';
import { finishRollbackOnce, rollbackOnce, undoRollbackOnce } from './rollback.js';
import { serviceActionOnce } from './service-action.js';

export interface RemedyActivityDeps {
  runtime: ContainerRuntime;
  logger: Logger;
  /** MEDIC_DRY_RUN of this worker: its remedies touch nothing, whoever asks. */
  dryRun?: boolean;
  healthProbeTimeoutMs?: number;
}

export function createRemedyActivities(deps: RemedyActivityDeps) {
  const { runtime, logger } = deps;
  const dryRun = deps.dryRun ?? false;
  const onTheEngine = <T>(work: () => Promise<T>) => whileHeartbeating(() => onEngine(runtime, work));
  return {
    /** ROLLBACK's swap: the bad container kept under another name, a new one on the old image. */
    async rollbackContainer(input: RollbackInput): Promise<RollbackResult> {
      return onTheEngine(() => rollbackOnce(runtime, logger, input, { dryRun }));
    },

    /** The old image was verified healthy: the kept bad container is removed. */
    async finishRollback(input: FinishRollbackInput): Promise<FinishRollbackResult> {
      return onTheEngine(() => finishRollbackOnce(runtime, logger, input, { dryRun }));
    },

    /** The old image did not become healthy: the bad container is put back as it was. */
    async undoRollback(input: UndoRollbackInput): Promise<UndoResult> {
      return onTheEngine(() => undoRollbackOnce(runtime, logger, input, { dryRun }));
    },

    async raiseMemoryLimit(input: MemoryLimitInput): Promise<MemoryLimitResult> {
      return onTheEngine(() => memoryLimitOnce(runtime, logger, input, { dryRun, direction: 'raise' }));
    },

    /** RAISE_MEMORY's inverse: `fromBytes` is the raised limit, `toBytes` the one before. */
    async restoreMemoryLimit(input: MemoryLimitInput): Promise<MemoryLimitResult> {
      return onTheEngine(() => memoryLimitOnce(runtime, logger, input, { dryRun, direction: 'restore' }));
    },

    /** A service action the container declares by label, by name only. */
    async runServiceAction(input: ServiceActionInput): Promise<ServiceActionResult> {
      return whileHeartbeating(
        (note) => onEngine(runtime, () => serviceActionOnce(runtime, logger, input, { dryRun, note })),
        { quietUntilNoted: true },
      );
    },

    /** The containers that declare `medic.depends-on=<target>` and are not healthy now, by name. */
    async unhealthyDependents(input: UnhealthyDependentsInput): Promise<UnhealthyDependent[]> {
      return onEngine(runtime, () =>
        unhealthyDependentsOf(runtime, input, deps.healthProbeTimeoutMs ?? 3000),
      );
    },
  };
}

/** Their names, for the host worker's list (HOST_ACTIVITY_NAMES). */
export const REMEDY_ACTIVITY_NAMES = [
  'rollbackContainer',
  'finishRollback',
  'undoRollback',
  'raiseMemoryLimit',
  'restoreMemoryLimit',
  'runServiceAction',
  'unhealthyDependents',
] as const;
