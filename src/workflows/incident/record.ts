// What an incident tells beyond its own state: people (notifications, best effort) and the runbook
// (each pass's outcome against the fix's signature, through the runbook's single writer).
import { isCancellation } from '@temporalio/workflow';
import type { Notification, NotificationEvent } from '../../activities/notify.js';
import type { Diagnosis, FixOutcome, IncidentStatus } from '../../domain/types.js';
import { describeFailure } from './failures.js';
import type { IncidentRun } from './run.js';

/** The status an outcome's notification reports: it is sent just before the incident closes. */
const OUTCOME_STATUS: Partial<Record<NotificationEvent, IncidentStatus>> = {
  failed: 'FAILED',
  'needs-person': 'ESCALATED',
};

const nowIso = () => new Date().toISOString();

/** Best effort: a notifier that is down shows in the timeline and never fails the incident. */
export async function tell(
  run: IncidentRun,
  event: NotificationEvent,
  level: Notification['level'],
  title: string,
  message: string,
  recipient?: string,
): Promise<void> {
  const { state } = run;
  const diagnosis = state.diagnosis;
  const plan = state.plan;
  const step = plan?.steps[plan.at];
  const question = state.status === 'AWAITING_APPROVAL' ? state.approval : undefined;
  try {
    await run.activities.notify.executeWithOptions({ summary: `notify ${recipient ?? 'people'}: ${title}` }, [
      {
        level,
        workflowId: state.workflowId,
        incidentId: state.id,
        target: state.target,
        title,
        message,
        ...(recipient ? { recipient } : {}),
        // The facts a receiver needs to say what happened and what to do next.
        event,
        alertType: state.alertType,
        severity: state.severity,
        status: OUTCOME_STATUS[event] ?? state.status,
        ...(diagnosis
          ? {
              proposed: {
                action: step?.name ?? diagnosis.action,
                reason: state.approval?.reason ?? diagnosis.justification,
                // A plan's step in words: "step 2 of 3: restart payments".
                ...(step && plan ? { words: step.words, step: plan.at + 1, of: plan.steps.length } : {}),
              },
              diagnosis: {
                source: diagnosis.source,
                rootCause: diagnosis.rootCause,
                confidence: diagnosis.confidence,
              },
              evidence: [diagnosis.justification, ...(diagnosis.evidenceNotes ?? [])].filter(Boolean),
            }
          : {}),
        ...(question?.askedAt && question.proposed !== undefined
          ? {
              approval: {
                askedAt: question.askedAt,
                ...(question.expiresAt ? { expiresAt: question.expiresAt } : {}),
                reason: question.reason,
                proposed: question.proposed,
              },
            }
          : {}),
      },
    ]);
    run.record('notified', `${level}${recipient ? ` to ${recipient}` : ''}: ${title}`);
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('notify-failed', describeFailure(err));
  }
}

/** Counts the outcome against the fix's signature in the runbook, once per incident pass. */
export function learn(run: IncidentRun, diagnosis: Diagnosis, outcome: FixOutcome, note?: string) {
  return run.timed('record', () => learnOutcome(run, diagnosis, outcome, note));
}

async function learnOutcome(
  run: IncidentRun,
  diagnosis: Diagnosis,
  outcome: FixOutcome,
  note?: string,
): Promise<void> {
  const { state } = run;
  const summary = `record ${outcome} for ${state.target} in the runbook (${diagnosis.errorSignature.slice(0, 60)})`;
  try {
    const result = await run.activities.recordRunbookOutcome.executeWithOptions({ summary }, [
      {
        // The runbook keeps one entry per incident and outcome; a reopened incident's passes are distinct.
        incidentId: state.recurrences ? `${state.id}/reopened-${state.recurrences}` : state.id,
        workflowId: state.workflowId,
        target: state.target,
        alertType: state.alertType,
        errorSignature: diagnosis.errorSignature,
        action: diagnosis.action,
        rootCause: diagnosis.rootCause,
        outcome,
        note,
        at: nowIso(),
      },
    ]);
    state.runbookEntryId = result.fixId;
    run.record('runbook', `${outcome} recorded in ${result.fixId}${result.created ? ' (new fix)' : ''}`);
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('runbook-failed', describeFailure(err));
    await tell(run, 'runbook-not-updated', 'warning', 'runbook not updated', describeFailure(err));
  }
}
