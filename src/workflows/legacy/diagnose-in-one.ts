// Before patch `host-queues`: one `diagnose` activity on the central queue gathered the evidence and judged
// it. Histories begun then still call it (src/workflows/versions.ts says when it retires).
import type { DiagnoseInput } from '../../activities/diagnose/index.js';
import type { Diagnosis } from '../../domain/types.js';
import type { IncidentRun } from '../incident/run.js';

export function diagnoseInOneActivity(
  run: IncidentRun,
  input: DiagnoseInput,
  summary: string,
): Promise<Diagnosis> {
  return run.activities.diagnose.executeWithOptions({ summary }, [input]);
}
