// The target's health, as the incident asks for it: after a restart, fast probes while it comes up and then
// the MEDIC_HEALTH_* backoff; and one look now, before a NOOP or a sender's `resolved` may close the incident.
import { isCancellation } from '@temporalio/workflow';
import { secondsText, verificationCadence } from '../../domain/incident.js';
import type { VerificationResult } from '../../domain/types.js';
import { verifyByRetryPolicy } from '../legacy/verify-by-retry-policy.js';
import { isPatched } from '../versions.js';
import { describeFailure } from './failures.js';
import type { IncidentRun } from './run.js';

/** Fast probes while the target comes up, then the MEDIC_HEALTH_* backoff (domain/incident.ts). */
export function verifyTargetHealth(run: IncidentRun): Promise<VerificationResult> {
  const { target } = run.state;
  const { maximumAttempts, backoffCoefficient } = run.settings.healthRetry;
  const summary = `verify ${target} is healthy (up to ${maximumAttempts} checks, backoff x${backoffCoefficient})`;
  if (!isPatched('verify-cadence')) return verifyByRetryPolicy(run, summary);
  const { firstWindowMs } = verificationCadence(run.settings.healthRetry);
  return run.activities.verifyHealthPaced.executeWithOptions(
    { summary: `${summary}, fast probes for ${secondsText(firstWindowMs)} first` },
    [{ target, firstWindowMs }],
  );
}

/** One look at the target's health now; never throws but for a cancellation. */
export async function checkHealthNow(run: IncidentRun): Promise<{ healthy: boolean; detail: string }> {
  const { target } = run.state;
  try {
    const result = await run.activities.checkHealthOnce.executeWithOptions(
      { summary: `check ${target}'s health once` },
      [{ target }],
    );
    run.record('health-checked', `healthy: ${result.detail}`);
    return { healthy: true, detail: result.detail };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = describeFailure(err);
    run.record('health-checked', `not healthy: ${detail}`);
    return { healthy: false, detail };
  }
}

/** After a restart Medic did not make now: verified with the same cadence; the verdict, never a throw. */
export async function verifiedHealthy(run: IncidentRun): Promise<{ healthy: boolean; detail: string }> {
  try {
    run.state.verification = await run.timed('verify', () => verifyTargetHealth(run));
    run.record('healthy', run.state.verification.detail);
    return { healthy: true, detail: run.state.verification.detail };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = describeFailure(err);
    const attempts = run.settings.healthRetry.maximumAttempts;
    run.state.verification = { healthy: false, attempts, detail, checkedAt: new Date().toISOString() };
    return { healthy: false, detail };
  }
}
