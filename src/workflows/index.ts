export { budgetWorkflow, guardWorkflow } from './guard.js';
export { incidentWorkflow } from './incident/story.js';
export { runbookWorkflow } from './runbook.js';
export { sweepWorkflow } from './sweep.js';
export { watcherWorkflow } from './watcher.js';
