// How the engine watch reports what it finds: as an alert with source `engine`, through the same
// start-or-join as webhooks, so an engine event and a webhook about one fault are one incident.
import { ENGINE_ALERT_SEVERITY } from '../../domain/engine-events.js';
import type { Alert, EngineEvidence } from '../../domain/types.js';
import type { Logger } from '../../logger.js';
import type { IncidentPort } from '../../temporal/incident-port.js';
import type { ContainerRuntime } from '../containers.js';

/** Raises a fault of a managed container as an incident; resolves with the incident's workflow id. */
export type RaiseEngineAlert = (
  target: string,
  alertType: string,
  firedAt: string,
  evidence: EngineEvidence,
) => Promise<string>;

const DEFAULT_LOG_LINES = 50;

export function engineAlerter(deps: {
  runtime: ContainerRuntime;
  incidents: Pick<IncidentPort, 'openOrJoin'>;
  log: Logger;
  /** Log lines attached to the alert. */
  logLines?: number;
}): RaiseEngineAlert {
  const { runtime, incidents, log } = deps;
  // Logs are evidence, not a precondition: a container whose logs cannot be read is still reported.
  const lastLogLines = (containerId: string) =>
    runtime.logs(containerId, deps.logLines ?? DEFAULT_LOG_LINES).catch(() => []);

  return async (target, alertType, firedAt, evidence) => {
    const alert: Alert = {
      source: 'engine',
      target,
      alertType,
      severity: ENGINE_ALERT_SEVERITY[alertType] ?? 'medium',
      status: 'firing',
      logs: await lastLogLines(evidence.containerId),
      firedAt,
      receivedAt: new Date().toISOString(),
      evidence,
    };
    const { workflowId } = await incidents.openOrJoin(alert);
    log.info({ workflowId, target, alertType, evidence }, 'engine fault raised as an incident');
    return workflowId;
  };
}
