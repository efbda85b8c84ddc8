// Names that other tools rely on: workflow ids, task queues, labels.

/** Docker's own rule for container names, also the only shape Medic accepts as a target. */
export const TARGET_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Alert types become part of workflow ids, so they are kept to a safe alphabet. */
export const ALERT_TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** `incident-<target>-<alert type>`: a duplicate alert joins the open incident of the same id. */
export function incidentWorkflowId(target: string, alertType: string): string {
  return `incident-${target}-${alertType}`;
}

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

/** `guard-<target>`: the one workflow that serialises actions on a target. */
export const guardWorkflowId = (target: string) => `guard-${target}`;

/** `budget-<task queue>`: the global action budget of the workers on one task queue. */
export const budgetWorkflowId = (taskQueue: string) => `budget-${taskQueue}`;
