// The incident port: what alert senders outside Temporal (the API's ingest, the engine watch) need from
// it. IncidentGateway is the real one. Kept apart from the gateway so that activities can depend on the
// port without depending, even as types, on the workflows the gateway starts.
import type { DeskMessage } from '../domain/target-desk.js';
import type { Alert, ResolvedPayload } from '../domain/types.js';

export interface IncidentPort {
  /** Starts the incident or signals the open one; resolves once Temporal has durably accepted the alert. */
  openOrJoin(alert: Alert): Promise<{ workflowId: string; runId: string }>;
  resolve(
    target: string,
    alertType: string,
    payload: ResolvedPayload,
    /** The container host the alert names; default `local`. */
    host?: string,
  ): Promise<{ workflowId: string; delivered: boolean }>;
  /**
   * The id of a running incident about this target: the one of this alert type, else (when the search
   * attributes exist to find it) one of any type, with its status.
   */
  /** Tells a target's guard (when it runs: no guard, no incident waits on the target). */
  tellTarget(target: string, host: string, message: DeskMessage): Promise<void>;
  findOpenIncident(
    target: string,
    alertType: string,
    options: { searchAttributes: boolean; host?: string },
  ): Promise<string | undefined>;
}
