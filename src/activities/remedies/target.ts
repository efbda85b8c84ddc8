// What every remedy checks before it touches anything: the name still resolves to a managed container of
// that exact name, and (compare-and-act) to the very container the diagnosis saw, by id. The port's own
// errors become the final failure types the workflow branches on.
import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE, type FailureType } from '../../domain/failures.js';
import type { EngineCapability } from '../../domain/remedies.js';
import type { RemedyTarget } from '../../domain/remedy-actions.js';
import {
  type CapabilityReport,
  type ContainerInfo,
  ContainerNotFoundError,
  type ContainerRuntime,
  capabilitiesOf,
  isRemedyRuntime,
  NotManagedError,
  NotSupportedError,
  RecreateRefusedError,
  type RemedyRuntime,
} from '../containers.js';

export const final = (message: string, type: FailureType) => ApplicationFailure.nonRetryable(message, type);

/** The container under `name` if it may be touched at all (exists under that exact name, managed). */
export async function managedByName(runtime: ContainerRuntime, name: string): Promise<ContainerInfo> {
  const info = await runtime.inspect(name);
  if (!info) throw final(`container ${name} no longer exists`, FAILURE.containerNotFound);
  if (info.name !== name) {
    throw final(
      `${name} resolves to container ${info.name} (${info.id.slice(0, 12)}), not to a container of that name; refusing to touch it`,
      FAILURE.targetNameMismatch,
    );
  }
  if (!info.managed)
    throw final(`container ${name} is not managed by Medic; refusing to touch it`, FAILURE.targetNotManaged);
  return info;
}

/** The target as the diagnosis saw it, by id: a container recreated since is someone else's doing. */
export async function sameTarget(runtime: ContainerRuntime, input: RemedyTarget): Promise<ContainerInfo> {
  const info = await managedByName(runtime, input.target);
  if (info.id !== input.expectedContainerId) {
    throw final(
      `${input.target} is now container ${info.id.slice(0, 12)}, not ${input.expectedContainerId.slice(0, 12)} as the diagnosis saw it: someone else recreated it; not acting`,
      FAILURE.targetReplaced,
    );
  }
  return info;
}

/** The engine, if it can do what the remedy needs; else the final failure saying why it cannot. */
export async function engineThatCan(
  runtime: ContainerRuntime,
  capability: EngineCapability,
): Promise<RemedyRuntime> {
  const report: CapabilityReport = await capabilitiesOf(runtime);
  const gap = report.cannot.find((c) => c.capability === capability);
  if (!isRemedyRuntime(runtime) || gap || !report.can.includes(capability)) {
    throw final(
      `the ${runtime.kind} cannot ${capability}: ${gap?.why ?? 'it does not offer it'}`,
      FAILURE.remedyNotSupported,
    );
  }
  return runtime;
}

/** The port's refusals as final failures: asking again cannot change them. */
export async function portRefusalsAreFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ContainerNotFoundError) throw final(err.message, FAILURE.containerNotFound);
    if (err instanceof NotManagedError) throw final(err.message, FAILURE.targetNotManaged);
    if (err instanceof NotSupportedError) throw final(err.message, FAILURE.remedyNotSupported);
    if (err instanceof RecreateRefusedError) throw final(err.message, FAILURE.recreateRefused);
    throw err;
  }
}

export const short = (id: string | undefined) => (id ?? '').replace(/^sha256:/, '').slice(0, 12);

/** One image id however spelled (`sha256:` or not). */
export function sameImage(a: string | undefined, b: string | undefined): boolean {
  const bare = (id: string | undefined) => (id ?? '').replace(/^sha256:/, '');
  return bare(a) !== '' && bare(a) === bare(b);
}
