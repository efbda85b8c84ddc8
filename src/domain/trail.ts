// The diagnosis trail in words, for timelines, reports and logs. Pure: workflows use it too.
import type { DiagnosisTrailStep } from './types.js';

export function describeTrailStep(t: DiagnosisTrailStep): string {
  return `${t.provider}: ${t.outcome}, ${t.detail} (${t.latencyMs} ms)`;
}

export function describeTrail(trail: readonly DiagnosisTrailStep[]): string {
  return trail.map(describeTrailStep).join('; ');
}
