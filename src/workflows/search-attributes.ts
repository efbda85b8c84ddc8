// Custom search attributes that make the Temporal Web UI the incident history.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const IncidentStatusKey = defineSearchAttributeKey('IncidentStatus', SearchAttributeType.KEYWORD);
export const IncidentTargetKey = defineSearchAttributeKey('IncidentTarget', SearchAttributeType.KEYWORD);
export const IncidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', SearchAttributeType.KEYWORD);
export const DiagnosisSourceKey = defineSearchAttributeKey('DiagnosisSource', SearchAttributeType.KEYWORD);

/** Every key Medic writes; servers must have them registered (the worker and dev scripts do it). */
export const MEDIC_SEARCH_ATTRIBUTES = [
  IncidentStatusKey,
  IncidentTargetKey,
  IncidentSeverityKey,
  DiagnosisSourceKey,
];
