// The remedy activities a host worker runs beside the restart: each compare-and-act on the container the
// diagnosis saw, issued once across retries and a worker killed mid-way, refused in dry-run (`would-have`),
// heartbeating while the engine works. Their inputs and answers are src/domain/remedy-actions.ts.
import type {
  FinishRollbackInput,
  FinishRollbackResult,
  MemoryLimitInput,
  MemoryLimitResult,
  RaiseDependentsInput,
  RaisedDependent,
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
import type { RaiseEngineAlert } from '../watch/raise-alert.js';
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
  /** Opens an incident for a container (the engine watch's start-or-join): a dependent's own. */
  raiseAlert?: RaiseEngineAlert;
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

    /**
     * After Medic restarted `target`: each container that declares `medic.depends-on=<target>` and is not
     * healthy now is raised as an incident of its own (`dependency-failed`), restarted, if at all, by that
     * incident within its own guard's limits. Read-only here: nothing is touched.
     */
    async raiseDependents(input: RaiseDependentsInput): Promise<RaisedDependent[]> {
      const dependents = await onEngine(runtime, () =>
        unhealthyDependentsOf(runtime, { target: input.target }, deps.healthProbeTimeoutMs ?? 3000),
      );
      const raised: RaisedDependent[] = [];
      for (const d of dependents) {
        const detail = `declares medic.depends-on=${input.target} and is not healthy after ${input.restartedBy} restarted ${input.target}: ${d.detail}`;
        if (!deps.raiseAlert) {
          raised.push({ name: d.name, detail, problem: 'this worker cannot open incidents' });
          continue;
        }
        const evidence = {
          via: 'dependency' as const,
          check: 'depends-on',
          containerId: d.containerId,
          detail,
        };
        const workflowId = await deps.raiseAlert(
          d.name,
          'dependency-failed',
          new Date().toISOString(),
          evidence,
        );
        logger.info(
          { target: input.target, dependent: d.name, workflowId },
          'dependent raised as an incident',
        );
        raised.push({ name: d.name, detail, workflowId });
      }
      return raised;
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
  'raiseDependents',
] as const;
