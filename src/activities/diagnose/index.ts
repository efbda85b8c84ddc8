// The diagnose activity's pipeline: evidence, the learned runbook, Gemini, Ollama, the rules,
// each answer validated. See graph.ts.

export { type DiagnoseInput, observationOf } from './evidence.js';
export { createDiagnosisPipeline, type DiagnosisPipeline, describeTrail } from './graph.js';
export { type DiagnosisSettings, RULES_ONLY } from './settings.js';
