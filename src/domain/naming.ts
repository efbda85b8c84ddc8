// Names that other tools rely on: workflow ids, task queues, labels.

/** Docker's own rule for container names, also the only shape Medic accepts as a target. */
export const TARGET_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Alert types become part of workflow ids, so they are kept to a safe alphabet. */
export const ALERT_TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Host names, as they appear in ids and task queues. */
export const HOST_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** The host of a single-host Medic: the default `MEDIC_HOST_NAME`. */
export const LOCAL_HOST = 'local';

/**
 * `incident:<host>:<target>:<alert type>`: a duplicate alert joins the open incident of the same id.
 * Container names, host names and alert types cannot contain `:`, so the id is unambiguous: no two
 * (target, alert type) pairs share one, as they could under the old `incident-<target>-<alert type>`.
 */
export function incidentWorkflowId(target: string, alertType: string, host: string = LOCAL_HOST): string {
  return `incident:${host}:${target}:${alertType}`;
}

/** The id incidents had before hosts were named; incidents still running under it finish under it. */
export function legacyIncidentWorkflowId(target: string, alertType: string): string {
  return `incident-${target}-${alertType}`;
}

/** Either id form, as the API accepts it; anything else is not an incident id. */
export const INCIDENT_ID_PATTERN =
  /^(incident:[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}:[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}:[a-z0-9][a-z0-9_.-]{0,63}|incident-[a-zA-Z0-9_.-]{1,200})$/;

/** Turns a sender's alert name ("HighMemoryUsage", "memory_leak") into Medic's alert-type alphabet. */
export function normaliseAlertType(raw: string): string {
  return raw
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
}

/** `guard:<host>:<target>`: the one workflow that serialises actions on a target. */
export const guardWorkflowId = (target: string, host: string = LOCAL_HOST) => `guard:${host}:${target}`;

/** The guard id before hosts were named; incidents started under it keep using it. */
export const legacyGuardWorkflowId = (target: string) => `guard-${target}`;

/**
 * The task queue of one host's worker: `<central queue>-host-<host>`, so `medic-host-<host>` by default. The
 * central queue's name is its prefix, so two deployments on one Temporal server never share a host's queue.
 */
export const hostTaskQueue = (centralQueue: string, host: string) => `${centralQueue}-host-${host}`;

/** The runbook's single writer polls `<central queue>-runbook` (one activity at a time, where the file is). */
export const runbookTaskQueue = (centralQueue: string) => `${centralQueue}-runbook`;

/** The host part of an incident id (`local` for a legacy `incident-...` id), or undefined for anything else. */
export function hostOfIncidentId(workflowId: string): string | undefined {
  if (workflowId.startsWith('incident-')) return LOCAL_HOST;
  const [kind, host] = workflowId.split(':');
  return kind === 'incident' && host && HOST_NAME_PATTERN.test(host) ? host : undefined;
}

/** `budget-<task queue>`: the global action budget of the workers on one task queue. */
export const budgetWorkflowId = (taskQueue: string) => `budget-${taskQueue}`;
