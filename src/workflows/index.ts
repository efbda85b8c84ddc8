export { budgetWorkflow } from './budget.js';
export { guardWorkflow } from './guard.js';
export { incidentWorkflow } from './incident/story.js';
export { sweepWorkflow } from './legacy/sweep.js';
export { runbookWorkflow } from './runbook.js';
export { sweeperWorkflow } from './sweeper.js';
export { watcherWorkflow } from './watcher.js';
