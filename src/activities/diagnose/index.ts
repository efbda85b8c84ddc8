// The diagnose activity's pipeline: evidence, the learned runbook, Gemini, Ollama, the rules,
// each answer validated. See graph.ts.

export { describeTrail } from '../../domain/trail.js';
export { type DiagnoseInput, type Evidence, gatherEvidence, observationOf } from './evidence.js';
export { createDiagnosisPipeline, type DiagnosisPipeline } from './graph.js';
export { type DiagnosisSettings, RULES_ONLY } from './settings.js';
