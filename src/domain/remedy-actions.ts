// What the remedy activities take and answer: the contract between the incident workflow (which decides and
// orders the steps) and the host activities (which touch the engine, compare-and-act). Plain types.

/** Every remedy activity is compare-and-act on the container the diagnosis saw, by id. */
export interface RemedyTarget {
  incidentId: string;
  target: string;
  /** The container id the diagnosis saw: a container recreated since is someone else's doing. */
  expectedContainerId: string;
}

/**
 * ROLLBACK, the swap: the current (bad) container is stopped and renamed `<name>-medic-rollback-<short id>`
 * (kept until the old image is verified healthy), and a new container is created under the name from the
 * bad one's own inspected configuration with only the image swapped, and started. Issued once across
 * retries and worker deaths: a container of the name on `toImageId` with the kept one beside it is the swap
 * done.
 */
export interface RollbackInput extends RemedyTarget {
  /** The image the diagnosis saw it run: compare-and-act. */
  expectedImageId: string;
  /** The image it last ran verified healthy. */
  toImageId: string;
  stopTimeoutMs: number;
}

export interface RollbackResult {
  outcome: 'rolled-back' | 'already-rolled-back' | 'would-have';
  detail: string;
  /** The kept bad container's new name. */
  keptAs?: string;
  newContainerId?: string;
  fromImageId: string;
  toImageId: string;
}

/** After the old image was verified healthy: the kept bad container is removed. */
export interface FinishRollbackInput {
  target: string;
  keptAs: string;
}

export interface FinishRollbackResult {
  outcome: 'removed' | 'already-removed' | 'would-have';
  detail: string;
}

/** The old image did not become healthy: the new container goes, the kept one gets its name back and runs. */
export interface UndoRollbackInput {
  target: string;
  keptAs: string;
  newContainerId: string;
  stopTimeoutMs: number;
}

export interface UndoResult {
  outcome: 'undone' | 'already-undone' | 'would-have';
  detail: string;
}

/** RAISE_MEMORY: the limit (and the memory+swap limit with it) goes from `fromBytes` to `toBytes`. */
export interface MemoryLimitInput extends RemedyTarget {
  /** Compare-and-act: the limit must still be this. */
  fromBytes: number;
  toBytes: number;
}

export interface MemoryLimitResult {
  outcome: 'raised' | 'already-raised' | 'restored' | 'already-restored' | 'would-have';
  detail: string;
  fromBytes: number;
  toBytes: number;
}

/**
 * A declared service action, by name only: the activity reads the declaration from the container's own
 * labels (never from the workflow, a model or a request) and runs exactly that.
 */
export interface ServiceActionInput extends RemedyTarget {
  /** `reset-pool` or `ACTION:reset-pool`. */
  action: string;
  /** How long the request or the command may take (defaults: 10 s for HTTP, 30 s for a command). */
  timeoutMs?: number;
}

export interface ServiceActionResult {
  outcome: 'ran' | 'would-have';
  detail: string;
  /** The HTTP answer's status, or the command's exit code. */
  status?: number;
  exitCode?: number;
}

export interface UnhealthyDependentsInput {
  target: string;
}

/** After Medic restarted `target` (incident `restartedBy`): its unhealthy dependents are raised as incidents. */
export interface RaiseDependentsInput {
  target: string;
  restartedBy: string;
}

/** A dependent raised as an incident of its own (`dependency-failed`), or why it could not be. */
export interface RaisedDependent {
  name: string;
  detail: string;
  workflowId?: string;
  problem?: string;
}

/** A container that declares `medic.depends-on=<target>` and is not healthy now. */
export interface UnhealthyDependent {
  name: string;
  containerId: string;
  detail: string;
}
