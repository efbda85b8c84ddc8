export { budgetWorkflow, guardWorkflow } from './guard.js';
export { incidentWorkflow } from './incident.js';
