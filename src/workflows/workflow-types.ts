// The workflow type names clients start and list by: a contract like the signal names. Clients must not
// import the workflow functions (that would pull workflow code into the API), so the names live here and
// the compiler checks each against the functions the worker registers.
import type * as workflows from './index.js';

export const WORKFLOW_TYPES = {
  incident: 'incidentWorkflow',
  watcher: 'watcherWorkflow',
  sweep: 'sweepWorkflow',
  sweeper: 'sweeperWorkflow',
  runbook: 'runbookWorkflow',
  guard: 'guardWorkflow',
} as const satisfies Record<string, keyof typeof workflows>;
