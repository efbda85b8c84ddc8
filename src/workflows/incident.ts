// One incident's lifecycle: diagnose, decide, (ask), restart, verify, learn.
// Deterministic: every side effect is an activity; time comes from the workflow clock.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes as upsertOnServer,
  workflowInfo,
} from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import type { IncidentSettings } from '../config.js';
import { decideRemediation } from '../domain/policy.js';
import { describeTrail } from '../domain/trail.js';
import type {
  Alert,
  DecisionPayload,
  Diagnosis,
  FixOutcome,
  IncidentState,
  IncidentStatus,
} from '../domain/types.js';
import { SEVERITIES } from '../domain/types.js';
import { alertSignal, approveSignal, rejectSignal, statusQuery } from './messages.js';
import {
  DiagnosisSourceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  IncidentTargetKey,
} from './search-attributes.js';

export interface IncidentWorkflowInput {
  target: string;
  alertType: string;
  settings: IncidentSettings;
}

/** Timeline entries kept per incident; an alert storm must not grow the state without bound. */
const TIMELINE_LIMIT = 200;
/** Repeated alerts beyond this many are counted, not written to the timeline one by one. */
const REPEATED_ALERTS_IN_TIMELINE = 10;

const nowIso = () => new Date().toISOString();

function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeFailure(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentState> {
  const { settings } = input;
  const info = workflowInfo();
  const state: IncidentState = {
    id: info.firstExecutionRunId,
    workflowId: info.workflowId,
    status: 'OPEN',
    target: input.target,
    alertType: input.alertType,
    severity: 'medium',
    openedAt: nowIso(),
    alertCount: 0,
    actions: [],
    timeline: [],
  };
  let firstAlert: Alert | undefined;
  let decision: { verdict: 'approved' | 'rejected'; payload: DecisionPayload } | undefined;

  // Search attributes need registering on the server; a server that cannot (the time-skipping test
  // server) runs incidents with indexing off.
  const upsertSearchAttributes: typeof upsertOnServer = (attributes) => {
    if (settings.searchAttributes) upsertOnServer(attributes);
  };
  const record = (event: string, detail: string) => {
    state.timeline.push({ at: nowIso(), event, detail });
    if (state.timeline.length > TIMELINE_LIMIT)
      state.timeline.splice(1, state.timeline.length - TIMELINE_LIMIT);
  };
  const setStatus = (status: IncidentStatus, detail: string) => {
    state.status = status;
    record(status, detail);
    upsertSearchAttributes([{ key: IncidentStatusKey, value: status }]);
  };

  setHandler(statusQuery, () => state);
  setHandler(alertSignal, (alert) => {
    state.alertCount += 1;
    state.lastAlertAt = alert.receivedAt;
    if (!firstAlert) {
      firstAlert = alert;
      state.severity = alert.severity;
      record('alert', `${alert.alertType} (${alert.severity}) from ${alert.source} about ${alert.target}`);
      return;
    }
    if (SEVERITIES.indexOf(alert.severity) > SEVERITIES.indexOf(state.severity)) {
      record(
        'severity-raised',
        `a repeated alert raised severity from ${state.severity} to ${alert.severity}`,
      );
      state.severity = alert.severity;
      upsertSearchAttributes([{ key: IncidentSeverityKey, value: state.severity }]);
    }
    if (state.alertCount <= REPEATED_ALERTS_IN_TIMELINE) {
      record('alert-repeated', `alert #${state.alertCount} joined the open incident`);
    }
  });
  const onDecision = (verdict: 'approved' | 'rejected') => (payload: DecisionPayload) => {
    if (state.status !== 'AWAITING_APPROVAL' || decision) {
      record('decision-ignored', `${verdict} by ${payload.by} ignored: incident is ${state.status}`);
      return;
    }
    decision = { verdict, payload };
  };
  setHandler(approveSignal, onDecision('approved'));
  setHandler(rejectSignal, onDecision('rejected'));

  upsertSearchAttributes([{ key: IncidentTargetKey, value: input.target }]);
  setStatus('OPEN', `incident opened for ${input.target} (${input.alertType})`);
  await condition(() => firstAlert !== undefined);
  upsertSearchAttributes([{ key: IncidentSeverityKey, value: state.severity }]);

  const { diagnose } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  const { restartContainer } = proxyActivities<MedicActivities>({
    startToCloseTimeout: settings.restartStopTimeoutMs + 60_000,
    retry: {
      maximumAttempts: 5,
      initialInterval: '2s',
      nonRetryableErrorTypes: ['ContainerNotFound', 'TargetNotManaged'],
    },
  });
  const { verifyHealth } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: settings.healthRetry.initialIntervalMs,
      backoffCoefficient: settings.healthRetry.backoffCoefficient,
      maximumAttempts: settings.healthRetry.maximumAttempts,
      nonRetryableErrorTypes: ['ContainerNotFound'],
    },
  });
  const { recordRunbookOutcome, notify } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 10, initialInterval: '1s', nonRetryableErrorTypes: ['RunbookFormat'] },
  });

  const close = (status: IncidentStatus, detail: string): IncidentState => {
    setStatus(status, detail);
    state.closedAt = nowIso();
    return state;
  };
  const tell = async (level: 'info' | 'warning' | 'critical', title: string, message: string) => {
    try {
      await notify({
        level,
        workflowId: state.workflowId,
        incidentId: state.id,
        target: state.target,
        title,
        message,
      });
      record('notified', `${level}: ${title}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      record('notify-failed', describeFailure(err));
    }
  };
  const learn = async (diagnosis: Diagnosis, outcome: FixOutcome, note?: string) => {
    try {
      const result = await recordRunbookOutcome({
        incidentId: state.id,
        workflowId: state.workflowId,
        target: state.target,
        alertType: state.alertType,
        errorSignature: diagnosis.errorSignature,
        action: diagnosis.action,
        rootCause: diagnosis.rootCause,
        outcome,
        note,
        at: nowIso(),
      });
      state.runbookEntryId = result.fixId;
      record('runbook', `${outcome} recorded in ${result.fixId}${result.created ? ' (new fix)' : ''}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      record('runbook-failed', describeFailure(err));
      await tell('warning', 'runbook not updated', describeFailure(err));
    }
  };
  const escalate = async (reason: string) => {
    await tell('critical', `incident ${state.workflowId} needs a person`, reason);
    return close('ESCALATED', reason);
  };

  // 1. Diagnose.
  setStatus('DIAGNOSING', `looking at ${state.target}`);
  let diagnosis: Diagnosis;
  try {
    diagnosis = await diagnose({
      target: state.target,
      alertType: state.alertType,
      severity: state.severity,
      logs: firstAlert?.logs ?? [],
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return escalate(`diagnosis failed: ${describeFailure(err)}`);
  }
  state.diagnosis = diagnosis;
  upsertSearchAttributes([{ key: DiagnosisSourceKey, value: diagnosis.source }]);
  record(
    'diagnosed',
    `${diagnosis.source}: ${diagnosis.rootCause} -> ${diagnosis.action} (confidence ${diagnosis.confidence})`,
  );
  record('diagnosis-trail', describeTrail(diagnosis.trail));
  if (diagnosis.knownFix)
    record('runbook-standing', `${diagnosis.knownFix.fixId}: ${diagnosis.knownFix.standing}`);
  // The memo shows in the Web UI's workflow view: how this incident was diagnosed, at a glance.
  upsertMemo({
    diagnosis: {
      source: diagnosis.source,
      action: diagnosis.action,
      confidence: diagnosis.confidence,
      trail: describeTrail(diagnosis.trail),
    },
  });

  // 2. Decide: alone, with a person, or not at all.
  const policy = decideRemediation(diagnosis, state.severity, settings.policy);
  if (policy.kind === 'escalate') return escalate(policy.reason);
  if (policy.kind === 'none') return close('RESOLVED', policy.reason);
  if (policy.kind === 'approval') {
    state.approval = { required: true, reason: policy.reason };
    setStatus('AWAITING_APPROVAL', policy.reason);
    await tell(
      'warning',
      `approval needed for ${state.workflowId}`,
      `${policy.reason}; proposed: ${diagnosis.action}`,
    );
    const decided = await condition(() => decision !== undefined, settings.approvalTimeoutMs);
    if (!decided || !decision) {
      return escalate(`no approval decision within ${Math.round(settings.approvalTimeoutMs / 1000)} s`);
    }
    const { verdict, payload } = decision;
    state.approval = {
      ...state.approval,
      decision: verdict,
      decidedBy: payload.by,
      decidedAt: nowIso(),
      ...(payload.comment ? { comment: payload.comment } : {}),
    };
    record(verdict, `by ${payload.by}${payload.comment ? `: ${payload.comment}` : ''}`);
    if (verdict === 'rejected') {
      await learn(diagnosis, 'rejected', `rejected by ${payload.by}`);
      return close('REJECTED', `rejected by ${payload.by}; the container was not touched`);
    }
  } else {
    state.approval = { required: false, reason: policy.reason };
  }

  // 3. Act (compare-and-act on the start time seen at diagnosis).
  setStatus('REMEDIATING', `restarting ${state.target}`);
  try {
    const action = await restartContainer({
      incidentId: state.id,
      target: state.target,
      expectedStartedAt: diagnosis.observed.startedAt ?? '',
      stopTimeoutMs: settings.restartStopTimeoutMs,
    });
    state.actions.push({ ...action, at: nowIso() });
    record(action.outcome, action.detail);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = `restart failed: ${describeFailure(err)}`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'failed', detail: reason });
    await learn(diagnosis, 'failed', reason);
    await tell('critical', `incident ${state.workflowId} failed`, reason);
    return close('FAILED', reason);
  }

  // 4. Verify, with exponential backoff from the activity's retry policy.
  setStatus('VERIFYING', `checking ${state.target} health`);
  try {
    state.verification = await verifyHealth({ target: state.target });
    record('healthy', state.verification.detail);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = `still unhealthy after ${settings.healthRetry.maximumAttempts} checks: ${describeFailure(err)}`;
    state.verification = {
      healthy: false,
      attempts: settings.healthRetry.maximumAttempts,
      detail: describeFailure(err),
      checkedAt: nowIso(),
    };
    await learn(diagnosis, 'failed', reason);
    await tell('critical', `incident ${state.workflowId} failed`, reason);
    return close('FAILED', reason);
  }

  // 5. Learn.
  await learn(diagnosis, 'resolved');
  return close('RESOLVED', `${state.target} is healthy again`);
}
