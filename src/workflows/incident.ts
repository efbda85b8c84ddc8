// One incident's lifecycle: diagnose, decide, (ask), restart, verify, learn.
// Deterministic: every side effect is an activity; time comes from the workflow clock.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes as upsertOnServer,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { MedicActivities } from '../activities/index.js';
import type { BudgetDecision, LeaseDecision, ReleaseOutcome } from '../domain/guard.js';
import { budgetWorkflowId, guardWorkflowId } from '../domain/naming.js';
import { decideRemediation } from '../domain/policy.js';
import type { IncidentSettings } from '../domain/settings.js';
import { describeTrail } from '../domain/trail.js';
import type {
  Alert,
  DecisionPayload,
  Diagnosis,
  FixOutcome,
  IncidentState,
  IncidentStatus,
  ResolvedPayload,
} from '../domain/types.js';
import { SEVERITIES } from '../domain/types.js';
import { budgetWorkflow, guardWorkflow } from './guard.js';
import {
  alertSignal,
  approveSignal,
  budgetRefundSignal,
  budgetRequestSignal,
  leaseReleaseSignal,
  leaseRequestSignal,
  permitDecisionSignal,
  rejectSignal,
  resolvedSignal,
  statusQuery,
} from './messages.js';
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
  /**
   * An incident refused by the allowlist, carried over by continue-as-new while it absorbs a storm
   * of copies of its alert (ingest).
   */
  refused?: IncidentState;
  /** Delivery ids already counted, carried over by continue-as-new (ingest). */
  seenDeliveries?: string[];
}

/** Timeline entries kept per incident; an alert storm must not grow the state without bound. */
const TIMELINE_LIMIT = 200;
/** A refused incident stays open to absorb copies of its alert until this long without one. */
const REFUSED_QUIET_MS = 10 * 60 * 1000;
/** Past this many history events a refused incident continues as new, so a long storm stays bounded. */
const REFUSED_HISTORY_LIMIT = 2000;
/** Delivery ids remembered to count a retried delivery once; retries come within seconds. */
const DELIVERY_MEMORY = 100;
/** Repeated alerts beyond this many are counted, not written to the timeline one by one. */
const REPEATED_ALERTS_IN_TIMELINE = 10;

const nowIso = () => new Date().toISOString();
const secondsText = (ms: number) => `${Math.round(ms / 1000)} s`;
/** How long the budget workflow may take to answer before the incident asks a person instead. */
const BUDGET_ANSWER_TIMEOUT_MS = 60_000;

function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeFailure(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

type Permit = { ok: true; requestId: string } | { ok: false; reason: string };

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentState> {
  const { settings } = input;
  const info = workflowInfo();
  const state: IncidentState = input.refused ?? {
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
  let latestAlert: Alert | undefined;
  let decision: { verdict: 'approved' | 'rejected'; payload: DecisionPayload } | undefined;
  const permitAnswers = new Map<string, LeaseDecision | BudgetDecision>();
  /** Lease requests this run has sent and not given up. */
  const outstanding = new Set<string>();

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
  /** When the newest occurrence fired, by the sender's clock: copies of one occurrence share it. */
  let newestFiredAtMs = 0;
  const seenDeliveries = [...(input.seenDeliveries ?? [])];
  setHandler(alertSignal, (alert) => {
    // Ingest: a delivery retried after a lost answer is counted once, and a coalesced signal stands
    // for `count` sender alerts, so the count stays exact under a storm.
    if (alert.deliveryId !== undefined) {
      if (seenDeliveries.includes(alert.deliveryId)) return;
      seenDeliveries.push(alert.deliveryId);
      if (seenDeliveries.length > DELIVERY_MEMORY) seenDeliveries.shift();
    }
    const count = Number.isInteger(alert.count) && (alert.count ?? 0) > 0 ? (alert.count as number) : 1;
    const previousCount = state.alertCount;
    state.alertCount += count;
    state.lastAlertAt = alert.lastSeenAt ?? alert.receivedAt;
    latestAlert = alert;
    newestFiredAtMs = Math.max(newestFiredAtMs, Date.parse(alert.firedAt) || 0);
    if (alert.evidence && !state.evidence) state.evidence = alert.evidence;
    if (!firstAlert && !input.refused) {
      firstAlert = alert;
      state.severity = alert.severity;
      record(
        'alert',
        `${alert.alertType} (${alert.severity}) from ${alert.source} about ${alert.target}${count > 1 ? ` (${count} alerts)` : ''}`,
      );
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
    if (previousCount < REPEATED_ALERTS_IN_TIMELINE) {
      record(
        'alert-repeated',
        count > 1
          ? `alerts #${previousCount + 1}-${state.alertCount} joined the open incident`
          : `alert #${state.alertCount} joined the open incident`,
      );
    }
  });

  // ---- Ingest: the sender's `resolved`. Before Medic acted, the incident closes as recovered by itself.
  let resolvedBySender: ResolvedPayload | undefined;
  let acting = false;
  setHandler(resolvedSignal, (payload) => {
    if (resolvedBySender) return;
    // After a reopen, a late or retried `resolved` of the earlier occurrence says nothing about this one.
    const endedAtMs = Date.parse(payload.endedAt);
    if (state.recurrences && Number.isFinite(endedAtMs) && endedAtMs < newestFiredAtMs) {
      record(
        'sender-resolved-stale',
        `${payload.source} resolved an earlier occurrence (ended ${payload.endedAt})`,
      );
      return;
    }
    if (acting) {
      record('sender-resolved', `${payload.source} reports the alert resolved (Medic already acted)`);
      return;
    }
    resolvedBySender = payload;
    record('sender-resolved', `${payload.source} reports the alert resolved at ${payload.endedAt}`);
  });
  const recoveredByItself = () =>
    close(
      'RESOLVED',
      `recovered by itself: ${resolvedBySender?.source} reported the alert resolved before Medic acted; no action taken`,
    );
  const onDecision = (verdict: 'approved' | 'rejected') => (payload: DecisionPayload) => {
    if (state.status !== 'AWAITING_APPROVAL' || decision) {
      record('decision-ignored', `${verdict} by ${payload.by} ignored: incident is ${state.status}`);
      return;
    }
    decision = { verdict, payload };
  };
  setHandler(approveSignal, onDecision('approved'));
  setHandler(rejectSignal, onDecision('rejected'));
  setHandler(permitDecisionSignal, (answer) => {
    // Only answers to what this run is waiting for: a stale grant, or one meant for an earlier run of
    // the same workflow id, must neither show nor count.
    if (!outstanding.has(answer.requestId)) return;
    permitAnswers.set(`${answer.scope}:${answer.requestId}`, answer.decision);
    state.guard = { decision: answer.decision.kind, reason: answer.decision.reason, at: nowIso() };
    record(`${answer.scope}-${answer.decision.kind}`, answer.decision.reason);
  });

  // ---- Ingest: a refused incident stays open, escalated, while its alert keeps firing: one incident
  // per storm, not one per copy. It ends when the sender resolves the alert or the copies stop.
  const absorbWhileRefused = async (): Promise<IncidentState> => {
    // One timer per quiet period, not one per copy: a storm costs its signals and nothing more.
    for (;;) {
      const seen = state.alertCount;
      await condition(() => resolvedBySender !== undefined, REFUSED_QUIET_MS);
      if (resolvedBySender || state.alertCount === seen) return state;
      const { continueAsNewSuggested, historyLength } = workflowInfo();
      if (continueAsNewSuggested || historyLength > REFUSED_HISTORY_LIMIT) {
        await continueAsNew<typeof incidentWorkflow>({ ...input, refused: state, seenDeliveries });
      }
    }
  };
  if (input.refused) return absorbWhileRefused();

  upsertSearchAttributes([{ key: IncidentTargetKey, value: input.target }]);
  setStatus('OPEN', `incident opened for ${input.target} (${input.alertType})`);
  await condition(() => firstAlert !== undefined);
  upsertSearchAttributes([{ key: IncidentSeverityKey, value: state.severity }]);
  const dryRun = settings.dryRun || firstAlert?.dryRun === true;
  if (dryRun) {
    state.dryRun = true;
    record('dry-run', 'dry run: everything runs, nothing is touched');
  }

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
  const { recordRunbookOutcome } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 10, initialInterval: '1s', nonRetryableErrorTypes: ['RunbookFormat'] },
  });
  // Notifications are best effort and may happen while a lease is held: bounded, so they cannot
  // hold a target for long.
  const { notify } = proxyActivities<MedicActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });

  // The longest a lease can be held: budget answer, a notification, every restart attempt, every
  // health check with its backoff, and a margin. The guard's TTL is at least this, so a slow but
  // living incident never loses its lease to the next one in the middle of acting.
  const restartWorstMs = 5 * (settings.restartStopTimeoutMs + 60_000) + 30_000;
  let verifyWorstMs = 0;
  for (let i = 0; i < settings.healthRetry.maximumAttempts; i++) {
    verifyWorstMs += 30_000;
    if (i > 0) {
      const backoff =
        settings.healthRetry.initialIntervalMs * settings.healthRetry.backoffCoefficient ** (i - 1);
      verifyWorstMs += Math.min(backoff, 100 * settings.healthRetry.initialIntervalMs);
    }
  }
  const leaseTtlMs = Math.max(
    settings.guard.leaseTtlMs,
    BUDGET_ANSWER_TIMEOUT_MS + 40_000 + restartWorstMs + verifyWorstMs + 60_000,
  );

  const close = (status: IncidentStatus, detail: string): IncidentState => {
    setStatus(status, detail);
    state.closedAt = nowIso();
    return state;
  };
  const tell = async (
    level: 'info' | 'warning' | 'critical',
    title: string,
    message: string,
    recipient?: string,
  ) => {
    try {
      await notify({
        level,
        workflowId: state.workflowId,
        incidentId: state.id,
        target: state.target,
        title,
        message,
        ...(recipient ? { recipient } : {}),
      });
      record('notified', `${level}${recipient ? ` to ${recipient}` : ''}: ${title}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      record('notify-failed', describeFailure(err));
    }
  };
  const learn = async (diagnosis: Diagnosis, outcome: FixOutcome, note?: string) => {
    try {
      const result = await recordRunbookOutcome({
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
    const levels = settings.escalation.levels;
    await tell('critical', `incident ${state.workflowId} needs a person`, reason, levels.at(-1));
    return close('ESCALATED', reason);
  };

  // ---- Guards: a lease from guard-<target>, then the global budget ----------------------------
  const guardId = guardWorkflowId(state.target);
  const budgetId = budgetWorkflowId(info.taskQueue);
  /** Guards are long-lived and shared; whoever needs one first starts it, and it outlives us. */
  const ensureRunning = async (workflowId: string, start: () => Promise<unknown>) => {
    try {
      await start();
      record('guard-started', `started ${workflowId}`);
    } catch (err) {
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  };
  const childOptions = (workflowId: string) => ({
    workflowId,
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  const answered = (key: string) => {
    const answer = permitAnswers.get(key);
    return answer !== undefined && answer.kind !== 'queued' ? answer : undefined;
  };
  /** The lease this run holds right now, so a cancelled incident still gives it back. */
  let held: string | undefined;
  const release = async (requestId: string, outcome: ReleaseOutcome) => {
    outstanding.delete(requestId);
    if (held === requestId) held = undefined;
    try {
      await getExternalWorkflowHandle(guardId).signal(leaseReleaseSignal, { requestId, outcome });
      if (outcome === 'not-acted' && !dryRun) {
        await getExternalWorkflowHandle(budgetId).signal(budgetRefundSignal, { requestId });
      }
      record('lease-released', `${outcome}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      record('lease-release-failed', describeFailure(err));
    }
  };
  const acquirePermit = async (approvedBy?: string): Promise<Permit> => {
    const requestId = uuid4();
    outstanding.add(requestId);
    await ensureRunning(guardId, () =>
      startChild(guardWorkflow, { ...childOptions(guardId), args: [{ target: state.target }] }),
    );
    await getExternalWorkflowHandle(guardId).signal(leaseRequestSignal, {
      requestId,
      incidentWorkflowId: state.workflowId,
      action: 'RESTART',
      dryRun,
      limits: { ...settings.guard, leaseTtlMs },
      ...(approvedBy ? { approvedBy } : {}),
    });
    const leaseWaitMs = leaseTtlMs * 2;
    if (!(await condition(() => answered(`lease:${requestId}`) !== undefined, leaseWaitMs))) {
      await release(requestId, 'not-acted');
      return { ok: false, reason: `${guardId} granted no lease within ${secondsText(leaseWaitMs)}` };
    }
    const lease = answered(`lease:${requestId}`) as LeaseDecision;
    if (lease.kind !== 'granted') {
      outstanding.delete(requestId);
      return { ok: false, reason: lease.reason };
    }
    held = requestId;

    await ensureRunning(budgetId, () =>
      startChild(budgetWorkflow, { ...childOptions(budgetId), args: [{}] }),
    );
    await getExternalWorkflowHandle(budgetId).signal(budgetRequestSignal, {
      requestId,
      incidentWorkflowId: state.workflowId,
      target: state.target,
      dryRun,
      limits: settings.budget,
      ...(approvedBy ? { approvedBy } : {}),
    });
    const budgetAnswered = await condition(
      () => answered(`budget:${requestId}`) !== undefined,
      BUDGET_ANSWER_TIMEOUT_MS,
    );
    const budget = answered(`budget:${requestId}`);
    if (!budgetAnswered || !budget || budget.kind !== 'granted') {
      await release(requestId, 'not-acted');
      return {
        ok: false,
        reason:
          budget?.reason ?? `${budgetId} did not answer within ${secondsText(BUDGET_ANSWER_TIMEOUT_MS)}`,
      };
    }
    return { ok: true, requestId };
  };

  // ---- Approval, with an escalation ladder -------------------------------------------------
  // A getter, so the compiler does not narrow `decision` across awaits (signals set it meanwhile).
  const currentDecision = () => decision;
  const awaitDecision = async (
    reason: string,
    proposed: string,
  ): Promise<{ verdict: 'approved' | 'rejected'; payload: DecisionPayload } | undefined> => {
    const levels = settings.escalation.levels;
    decision = undefined;
    state.approval = { required: true, reason };
    setStatus('AWAITING_APPROVAL', reason);
    let level = 0;
    state.escalatedTo = [levels[0] ?? 'on-call'];
    await tell(
      'warning',
      `approval needed for ${state.workflowId}`,
      `${reason}; proposed: ${proposed}`,
      levels[0],
    );
    const waitStarted = Date.now();
    for (;;) {
      const remaining = settings.escalation.maxWaitMs - (Date.now() - waitStarted);
      if (remaining <= 0) return undefined;
      // Once everyone on the ladder has been told, wait out the rest in one go instead of repeating it.
      const step = level < levels.length - 1 ? Math.min(settings.approvalTimeoutMs, remaining) : remaining;
      if (await condition(() => decision !== undefined || resolvedBySender !== undefined, step)) {
        return currentDecision();
      }
      const waited = Date.now() - waitStarted;
      if (waited >= settings.escalation.maxWaitMs) return undefined;
      level += 1;
      const recipient = levels[level] ?? 'on-call';
      state.escalatedTo.push(recipient);
      record('escalated', `no decision after ${secondsText(waited)}: escalated to ${recipient}`);
      await tell(
        'critical',
        `still waiting for approval of ${state.workflowId}`,
        `no decision after ${secondsText(waited)}; ${reason}; proposed: ${proposed}`,
        recipient,
      );
    }
  };

  // ---- One pass: diagnose, decide, act, verify, learn ------------------------------------
  /** Returns true when Medic restarted the target and it became healthy (worth watching for recurrence). */
  const handle = async (recurrence?: string): Promise<boolean> => {
    setStatus('DIAGNOSING', `looking at ${state.target}`);
    let diagnosis: Diagnosis;
    try {
      diagnosis = await diagnose({
        target: state.target,
        alertType: state.alertType,
        severity: state.severity,
        logs: (latestAlert ?? firstAlert)?.logs ?? [],
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      await escalate(`diagnosis failed: ${describeFailure(err)}`);
      return false;
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
    if (resolvedBySender) {
      recoveredByItself();
      return false;
    }

    const policy = decideRemediation(
      diagnosis,
      state.severity,
      settings.policy,
      recurrence ? { recurrence } : {},
    );
    if (policy.kind === 'escalate') {
      await escalate(policy.reason);
      return false;
    }
    if (policy.kind === 'none' || policy.kind === 'record') {
      state.approval = { required: false, reason: policy.reason };
      close('RESOLVED', policy.reason);
      return false;
    }

    let permit: Permit | undefined;
    let approvalReason = policy.reason;
    if (policy.kind === 'auto') {
      state.approval = { required: false, reason: policy.reason };
      permit = await acquirePermit();
      if (!permit.ok) approvalReason = `outside the limits: ${permit.reason}`;
    }
    if (!permit?.ok) {
      const decided = await awaitDecision(approvalReason, diagnosis.action);
      if (!decided && resolvedBySender) {
        recoveredByItself();
        return false;
      }
      if (!decided) {
        await escalate(
          `no approval decision within ${secondsText(settings.escalation.maxWaitMs)} (notified ${state.escalatedTo?.join(', ')})`,
        );
        return false;
      }
      const { verdict, payload } = decided;
      state.approval = {
        required: true,
        reason: approvalReason,
        decision: verdict,
        decidedBy: payload.by,
        decidedAt: nowIso(),
        ...(payload.comment ? { comment: payload.comment } : {}),
      };
      record(verdict, `by ${payload.by}${payload.comment ? `: ${payload.comment}` : ''}`);
      if (verdict === 'rejected') {
        await learn(diagnosis, 'rejected', `rejected by ${payload.by}`);
        close('REJECTED', `rejected by ${payload.by}; the container was not touched`);
        return false;
      }
      // Decided: no second decision may be taken while the lease is fetched.
      setStatus('REMEDIATING', `approved by ${payload.by}; asking ${guardId} for the lease`);
      permit = await acquirePermit(payload.by);
      if (!permit.ok) {
        await escalate(`approved by ${payload.by}, but ${permit.reason}`);
        return false;
      }
    }
    const { requestId } = permit;
    if (policy.kind === 'auto' && policy.notify && !state.approval?.decidedBy) {
      await tell('info', `restarting ${state.target}`, `${state.workflowId}: ${policy.reason}`);
    }

    if (dryRun) {
      const detail = `dry run: would restart ${state.target} (${diagnosis.rootCause}); nothing was touched`;
      state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'would-restart', detail });
      record('would-restart', detail);
      await release(requestId, 'not-acted');
      await escalate(detail);
      return false;
    }

    // Act (compare-and-act on the start time seen at diagnosis).
    if (resolvedBySender) {
      await release(requestId, 'not-acted');
      recoveredByItself();
      return false;
    }
    acting = true;
    setStatus('REMEDIATING', `restarting ${state.target}`);
    let restarted = false;
    /** The remediation did not work: give the lease back with its outcome, learn it, tell people. */
    const fail = async (leaseOutcome: ReleaseOutcome, reason: string) => {
      await release(requestId, leaseOutcome);
      await learn(diagnosis, 'failed', reason);
      await tell('critical', `incident ${state.workflowId} failed`, reason);
      close('FAILED', reason);
      return false;
    };
    try {
      const action = await restartContainer({
        incidentId: state.id,
        target: state.target,
        expectedStartedAt: diagnosis.observed.startedAt ?? '',
        stopTimeoutMs: settings.restartStopTimeoutMs,
      });
      state.actions.push({ ...action, at: nowIso() });
      record(action.outcome, action.detail);
      restarted = action.outcome === 'restarted';
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = `restart failed: ${describeFailure(err)}`;
      state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'failed', detail: reason });
      return fail('failed', reason);
    }

    // Verify, with exponential backoff from the activity's retry policy. The lease is held until then.
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
      return fail(restarted ? 'failed' : 'not-acted', reason);
    }
    await release(requestId, restarted ? 'succeeded' : 'not-acted');
    await learn(diagnosis, 'resolved');
    close('RESOLVED', `${state.target} is healthy again`);
    return restarted;
  };

  // ---- Ingest: the target allowlist. Names that are unsafe, missing, unmanaged or protected never get
  // an action, only a person.
  const refuse = async (reason: string) => {
    await escalate(reason);
    return absorbWhileRefused();
  };
  if (firstAlert?.targetRejected) return refuse(firstAlert.targetRejected);
  // A local activity: one engine inspect, done in a moment; it costs the server one marker event
  // instead of a scheduled task, which matters when a storm opens hundreds of incidents at once.
  const { checkTarget } = proxyLocalActivities<MedicActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
  });
  try {
    const allowlist = await checkTarget({ target: state.target });
    if (!allowlist.allowed) return refuse(`not on the allowlist: ${allowlist.reason}`);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return escalate(`could not check the target against the allowlist: ${describeFailure(err)}`);
  }
  if (resolvedBySender) return recoveredByItself();

  // ---- The incident, and its recurrence watch --------------------------------------------
  let recurrence: string | undefined;
  for (;;) {
    let fixed: boolean;
    try {
      fixed = await handle(recurrence);
    } catch (err) {
      // Cancelled (by a person, from the Web UI or CLI) while holding a lease: give it back, or the
      // target stays blocked until the lease expires and the guard counts a failure.
      const lease = held;
      if (isCancellation(err) && lease) {
        await CancellationScope.nonCancellable(() =>
          release(lease, ['REMEDIATING', 'VERIFYING'].includes(state.status) ? 'failed' : 'not-acted'),
        );
      }
      throw err;
    }
    if (!fixed || settings.recurrenceWindowMs <= 0) return state;
    const diagnosis = state.diagnosis as Diagnosis;
    // A recurrence is a new occurrence (fired after the one fixed), not a late copy of the old one,
    // such as a coalesced batch of copies received before the fix and delivered after it.
    const firedAtFix = newestFiredAtMs;
    const fixedAt = Date.now();
    record('watching', `watching for the same alert for ${secondsText(settings.recurrenceWindowMs)}`);
    if (!(await condition(() => newestFiredAtMs > firedAtFix, settings.recurrenceWindowMs))) {
      record('watch-ended', `no recurrence within ${secondsText(settings.recurrenceWindowMs)}`);
      return state;
    }
    recurrence = `the ${state.alertType} alert came back ${secondsText(Date.now() - fixedAt)} after the fix`;
    state.recurrences = (state.recurrences ?? 0) + 1;
    state.closedAt = undefined;
    // The sender's `resolved` for the new occurrence counts again (ingest).
    acting = false;
    resolvedBySender = undefined;
    await learn(diagnosis, 'did-not-stick', recurrence);
    setStatus('OPEN', `reopened: ${recurrence}`);
  }
}
