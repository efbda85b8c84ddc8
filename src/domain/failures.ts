// The failure types the worker's activities throw and the workflows branch on: one name each, used on
// both sides, so a rename cannot leave a retry policy or a check looking for a type nobody throws.
// Pure (workflow code imports it too).

export const FAILURE = {
  /** The target container is gone: nothing to act on or verify. Final. */
  containerNotFound: 'ContainerNotFound',
  /** The name now resolves to a container without Medic's label. Final. */
  targetNotManaged: 'TargetNotManaged',
  /** The name resolves to a container of another name (an id prefix). Final. */
  targetNameMismatch: 'TargetNameMismatch',
  /** The host's container engine does not answer at all: the incident waits for it. */
  engineUnavailable: 'EngineUnavailable',
  /** An earlier attempt's restart reached the engine and the container has not started again yet. */
  restartInProgress: 'RestartInProgress',
  /** The target is not healthy yet: the verification's retry policy is its backoff. */
  unhealthy: 'Unhealthy',
  /** The target's health URL names a host Medic may not probe. Final. */
  healthUrlRefused: 'HealthUrlRefused',
  /** runbook.json cannot be read as a runbook: a person must repair it. Final. */
  runbookFormat: 'RunbookFormat',
  /** A runbook request reached its writer after its caller stopped waiting: nothing was done. Final. */
  runbookRequestExpired: 'RunbookRequestExpired',
  /** The name now belongs to another container than the one the diagnosis saw. Final. */
  targetReplaced: 'TargetReplaced',
  /** What a remedy compares before acting changed (the image, the limit): someone else acted. Final. */
  preconditionFailed: 'PreconditionFailed',
  /** The image a rollback would go back to is no longer on the engine. Final. */
  imageGone: 'ImageGone',
  /** This engine cannot do the remedy (the capability report says why). Final. */
  remedyNotSupported: 'RemedyNotSupported',
  /** A rollback's create cannot copy the container, or the engine made it unlike the original. Final. */
  recreateRefused: 'RecreateRefused',
  /** The container declares no service action of that name (by label, at the time of the call). Final. */
  actionNotDeclared: 'ActionNotDeclared',
  /** A declared action cannot be run here (no health URL to reach it at, not running for an exec). Final. */
  actionRefused: 'ActionRefused',
} as const;

export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];

/** The failures a remedy activity ends with for good: a retry policy for them lists these as non-retryable. */
export const REMEDY_FINAL_FAILURES: readonly FailureType[] = [
  FAILURE.containerNotFound,
  FAILURE.targetNotManaged,
  FAILURE.targetNameMismatch,
  FAILURE.targetReplaced,
  FAILURE.preconditionFailed,
  FAILURE.imageGone,
  FAILURE.remedyNotSupported,
  FAILURE.recreateRefused,
  FAILURE.actionNotDeclared,
  FAILURE.actionRefused,
  FAILURE.healthUrlRefused,
];
