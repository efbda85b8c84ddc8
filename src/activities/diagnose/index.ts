// The diagnose activity's pipeline: look at the target, read the logs, ask the providers.
// For now the only provider is the rules; the learned runbook and the LLMs join later.
import { errorSignature } from '../../domain/log-signature.js';
import type { Diagnosis, Severity, TargetObservation } from '../../domain/types.js';
import type { ContainerInfo, ContainerRuntime } from '../containers.js';
import { diagnoseByRules } from './rules.js';

export interface DiagnoseInput {
  target: string;
  alertType: string;
  severity: Severity;
  logs: string[];
}

export interface DiagnoseDeps {
  runtime: ContainerRuntime;
  /** How many log lines to read from the engine when the alert carried none. */
  engineLogLines?: number;
}

export function observationOf(name: string, info: ContainerInfo | undefined): TargetObservation {
  if (!info) return { name, exists: false, managed: false };
  return {
    name,
    exists: true,
    managed: info.managed,
    containerId: info.id,
    state: info.state,
    running: info.running,
    startedAt: info.startedAt,
    restartCount: info.restartCount,
    exitCode: info.exitCode,
    oomKilled: info.oomKilled,
    health: info.health,
    healthUrl: info.healthUrl,
  };
}

export async function diagnose(input: DiagnoseInput, deps: DiagnoseDeps): Promise<Diagnosis> {
  const observed = observationOf(input.target, await deps.runtime.inspect(input.target));
  let logs = input.logs;
  if (logs.length === 0 && observed.managed) {
    logs = await deps.runtime.logs(input.target, deps.engineLogLines ?? 50).catch(() => []);
  }
  const started = performance.now();
  const verdict = diagnoseByRules({ alertType: input.alertType, logs, observed });
  const latencyMs = Math.round(performance.now() - started);
  return {
    source: 'rules',
    rootCause: verdict.rootCause,
    action: verdict.action,
    confidence: verdict.confidence,
    justification: verdict.justification,
    trail: [{ provider: 'rules', outcome: 'answered', detail: `matched ${verdict.rule}`, latencyMs }],
    errorSignature: errorSignature(logs),
    observed,
  };
}
