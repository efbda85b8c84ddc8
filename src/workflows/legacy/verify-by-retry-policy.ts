// Before patch `verify-cadence`: the verification was the activity's retry policy alone (its first check
// usually ran the instant the container started, and failed). Histories begun then still verify so.
import type { VerificationResult } from '../../domain/types.js';
import type { IncidentRun } from '../incident/run.js';

export function verifyByRetryPolicy(run: IncidentRun, summary: string): Promise<VerificationResult> {
  return run.activities.verifyHealth.executeWithOptions({ summary }, [{ target: run.state.target }]);
}
