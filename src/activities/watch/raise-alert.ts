// How the engine watch reports what it finds: as an alert with source `engine`, through the same
// start-or-join as webhooks, so an engine event and a webhook about one fault are one incident.
import { ENGINE_ALERT_SEVERITY } from '../../domain/engine-events.js';
import { classifyRaiseFailure, describeRaiseFailure } from '../../domain/temporal-failure.js';
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
  /** The host this engine runs on: its incidents are that host's (default `local`). */
  host?: string;
}): RaiseEngineAlert {
  const { runtime, incidents, log } = deps;
  // Logs are evidence, not a precondition: a container whose logs cannot be read is still reported.
  const lastLogLines = (containerId: string) =>
    runtime.logs(containerId, deps.logLines ?? DEFAULT_LOG_LINES).catch(() => []);

  const open = async (alert: Alert): Promise<string> => {
    const { workflowId } = await incidents.openOrJoin(alert);
    log.info(
      { workflowId, target: alert.target, alertType: alert.alertType, evidence: alert.evidence },
      'engine fault raised as an incident',
    );
    return workflowId;
  };

  /**
   * Temporal refused the alert with its logs (over its payload limit, most likely): the fault still
   * matters more than its evidence, so it is raised without them, saying why they are missing.
   */
  const openWithoutLogs = async (alert: Alert, evidence: EngineEvidence, err: unknown) => {
    const reason = describeRaiseFailure(err);
    const bytes = alert.logs.reduce((n, line) => n + Buffer.byteLength(line), 0);
    log.warn(
      {
        target: alert.target,
        alertType: alert.alertType,
        logLines: alert.logs.length,
        logBytes: bytes,
        reason,
      },
      'engine fault refused by Temporal with its logs; raising it without them',
    );
    return open({
      ...alert,
      logs: [],
      evidence: {
        ...evidence,
        detail: `${evidence.detail}; its last ${alert.logs.length} log lines (${bytes} bytes) were dropped because Temporal refused the alert with them: ${reason}`,
      },
    });
  };

  return async (target, alertType, firedAt, evidence) => {
    const alert: Alert = {
      source: 'engine',
      ...(deps.host ? { host: deps.host } : {}),
      target,
      alertType,
      severity: ENGINE_ALERT_SEVERITY[alertType] ?? 'medium',
      status: 'firing',
      logs: await lastLogLines(evidence.containerId),
      firedAt,
      receivedAt: new Date().toISOString(),
      evidence,
    };
    try {
      return await open(alert);
    } catch (err) {
      // An outage is retried by the caller with the logs; only a refusal costs the evidence.
      if (alert.logs.length === 0 || classifyRaiseFailure(err) === 'unavailable') throw err;
      return openWithoutLogs(alert, evidence, err);
    }
  };
}
