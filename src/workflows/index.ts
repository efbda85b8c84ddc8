export { budgetWorkflow, guardWorkflow } from './guard.js';
export { incidentWorkflow } from './incident/story.js';
export { sweepWorkflow } from './sweep.js';
export { watcherWorkflow } from './watcher.js';
