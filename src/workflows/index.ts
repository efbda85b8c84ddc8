export { budgetWorkflow, guardWorkflow } from './guard.js';
export { incidentWorkflow } from './incident.js';
export { sweepWorkflow } from './sweep.js';
export { watcherWorkflow } from './watcher.js';
