// RESTART with dependents: which containers declare `medic.depends-on=<target>` and are not healthy now.
// Read-only: each is restarted, if at all, by its own incident and its own guard.
import type { UnhealthyDependent, UnhealthyDependentsInput } from '../../domain/remedy-actions.js';
import type { ContainerRuntime } from '../containers.js';
import { checkContainerHealth } from '../health.js';

export async function unhealthyDependentsOf(
  runtime: ContainerRuntime,
  input: UnhealthyDependentsInput,
  probeTimeoutMs: number,
): Promise<UnhealthyDependent[]> {
  const dependents = (await runtime.listDependents?.(input.target)) ?? [];
  const out: UnhealthyDependent[] = [];
  for (const info of dependents) {
    if (info.name === input.target) continue;
    const probe = await checkContainerHealth(info, probeTimeoutMs);
    if (!probe.ok) out.push({ name: info.name, containerId: info.id, detail: probe.detail });
  }
  return out;
}
