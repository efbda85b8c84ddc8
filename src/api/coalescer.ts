// Alert-storm coalescing. The first alert of an incident waits until Temporal holds it; duplicates of
// an incident this API already opened or joined cost O(1): they are counted in memory and sent as one
// `alert` signal carrying their number at most once per window per incident. Counts are exact: a
// failed send is retried as the same batch (same delivery id, which the workflow counts once, so a
// send whose answer was lost is not counted twice), and a shutdown sends everything still pending.
// A copy is counted in memory only while Temporal confirmed the incident open less than one window ago
// (or a send to it is under way): after a quiet spell the incident may have ended, and the next alert,
// which may then open a new incident, is answered only once Temporal holds it, like a first alert.
// Batches are kept per source and sender, so a batch never speaks for more than one sender.
import { randomUUID } from 'node:crypto';
import { incidentWorkflowId } from '../domain/naming.js';
import { type Alert, type ResolvedPayload, SEVERITIES } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { IncidentPort } from '../temporal/incident-port.js';
import { HttpError } from './errors.js';

/** The part of the incident port ingest uses. */
export type AlertSink = Pick<IncidentPort, 'openOrJoin' | 'resolve'>;

export interface CoalescerSettings {
  /** At most one signal per incident per window. */
  windowMs: number;
  /** While a storm lasts the window doubles after each signal, up to this (default: the window). */
  maxWindowMs?: number;
  /** Incidents tracked at once; past it, alerts go to Temporal one by one (correct, just slower). */
  maxTracked?: number;
  /** A tracked incident with nothing pending is forgotten after this long without alerts. */
  idleMs?: number;
}

export type Admission =
  | { outcome: 'opened'; workflowId: string; runId: string }
  | { outcome: 'coalesced'; workflowId: string; runId?: string; pending: number };

interface Tracked {
  /** The incident and the source and sender whose copies this batch holds. */
  key: string;
  workflowId: string;
  runId: string;
  /** When Temporal last took an alert of this incident from this API, and so held it open. */
  confirmedAt: number;
  /** Settles when the first alert is durably accepted or refused. */
  opening: Promise<void> | undefined;
  /** Alerts counted but not yet signalled, and the newest of them (the template of the next signal). */
  pending: number;
  latest: Alert | undefined;
  firstPendingAt: string | undefined;
  lastSeenAt: number;
  lastSentAt: number;
  /** This incident's current window: grows while its storm lasts, back to the base after a lull. */
  windowMs: number;
  timer: NodeJS.Timeout | undefined;
  sending: Promise<void> | undefined;
  /** A batch Temporal did not confirm; re-sent as is before anything newer. */
  unconfirmed: Alert | undefined;
  /** Since when sends fail; past the grace period new duplicates get 503 until Temporal recovers. */
  failingSince: number | undefined;
  failures: number;
}

const MAX_RETRY_MS = 30_000;
/** Log lines a coalesced batch of copies carries (the first alert carries all of its own). */
export const REPEAT_LOG_LINES = 10;

const higher = (a: Alert['severity'], b: Alert['severity']) =>
  SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;

/** One batch per incident, source and sender. */
const trackKey = (workflowId: string, alert: Alert) =>
  `${workflowId}\n${alert.source}\n${alert.sender ?? ''}`;

/** The least time a confirmation vouches for the incident being open. */
const VOUCH_FLOOR_MS = 1000;

export class AlertCoalescer {
  private readonly tracked = new Map<string, Tracked>();
  /** The batches of each incident (one per source and sender), for a `resolved` that must flush them all. */
  private readonly byIncident = new Map<string, Set<Tracked>>();
  private readonly maxTracked: number;
  private readonly idleMs: number;
  private closed = false;
  private nextSweepAt = 0;
  private readonly instance = randomUUID().slice(0, 8);
  private batches = 0;
  private readonly graceMs: number;
  private readonly maxWindowMs: number;

  constructor(
    private readonly port: AlertSink,
    private readonly settings: CoalescerSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.maxTracked = settings.maxTracked ?? 50_000;
    this.idleMs = settings.idleMs ?? Math.max(60_000, 10 * settings.windowMs);
    // A slow Temporal (a few failed sends) should not bounce a storm; a Temporal that stays down should.
    this.graceMs = Math.max(5000, 10 * settings.windowMs);
    this.maxWindowMs = Math.max(settings.windowMs, settings.maxWindowMs ?? settings.windowMs);
  }

  /** Alerts counted in memory and not yet signalled, over all incidents. */
  get pendingAlerts(): number {
    let total = 0;
    for (const t of this.tracked.values()) total += t.pending + (t.unconfirmed?.count ?? 0);
    return total;
  }

  /** Incidents with at least one batch tracked. */
  get trackedIncidents(): number {
    return this.byIncident.size;
  }

  async admit(alert: Alert): Promise<Admission> {
    if (this.closed)
      throw new HttpError(503, 'shutting_down', 'Medic is shutting down; retry', undefined, {
        'Retry-After': '5',
      });
    const workflowId = incidentWorkflowId(alert.target, alert.alertType, alert.host);
    const key = trackKey(workflowId, alert);
    if (this.now() >= this.nextSweepAt) {
      // Forget incidents that went quiet: the next alert for them waits for Temporal again.
      this.nextSweepAt = this.now() + this.idleMs / 4;
      this.evictIdle();
    }
    // While the first alert is still opening the incident, copies are counted already: if the opening
    // fails, their batch opens the incident itself (every send is a signalWithStart).
    const tracked = this.tracked.get(key);
    if (!tracked) return this.open(key, workflowId, alert);
    if (tracked.failingSince !== undefined && this.now() - tracked.failingSince > this.graceMs) {
      throw new HttpError(
        503,
        'temporal_unavailable',
        `Temporal has not taken the alerts already held for ${workflowId} for ${Math.round((this.now() - tracked.failingSince) / 1000)} s; retry later`,
        undefined,
        { 'Retry-After': '5' },
      );
    }
    const now = this.now();
    if (now - tracked.lastSeenAt > tracked.windowMs) tracked.windowMs = this.settings.windowMs;
    tracked.lastSeenAt = now;
    // Nothing under way and no recent word from Temporal: the incident may have ended, and this alert
    // open the next one. It goes to Temporal now, and is answered once Temporal holds it.
    if (this.unvouched(tracked, now)) return this.sendOpening(tracked, alert);
    tracked.pending += 1;
    tracked.firstPendingAt ??= alert.receivedAt;
    // The newest alert is the template of the next signal, at the highest severity seen.
    const severity = tracked.latest ? higher(alert.severity, tracked.latest.severity) : alert.severity;
    tracked.latest = severity === alert.severity ? alert : { ...alert, severity };
    this.schedule(tracked);
    return {
      outcome: 'coalesced',
      workflowId: tracked.workflowId,
      ...(tracked.runId ? { runId: tracked.runId } : {}),
      pending: tracked.pending,
    };
  }

  /** The sender says the alert ended: send what is pending first (every sender's), so the incident sees the order. */
  async resolve(target: string, alertType: string, payload: ResolvedPayload, host?: string) {
    const workflowId = incidentWorkflowId(target, alertType, host);
    const batches = [...(this.byIncident.get(workflowId) ?? [])];
    await Promise.all(
      batches.map(async (tracked) => {
        if (tracked.opening) await tracked.opening.catch(() => undefined);
        await this.flushAll(tracked);
      }),
    );
    if (batches.some((t) => t.pending > 0 || t.unconfirmed)) {
      throw new HttpError(
        503,
        'temporal_unavailable',
        `Temporal has not taken the alerts held for ${workflowId}; retry later`,
        undefined,
        { 'Retry-After': '5' },
      );
    }
    for (const tracked of batches) this.forget(tracked);
    return this.port.resolve(target, alertType, payload, host);
  }

  /** Sends everything pending; called on shutdown. Resolves when Temporal holds it all or refused. */
  async drain(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.tracked.values()].map((t) => this.flushAll(t)));
    const lost = this.pendingAlerts;
    if (lost > 0) {
      this.logger.error(
        { pendingAlerts: lost },
        'shutting down with alerts Temporal did not take; their senders were told 202',
      );
    }
    for (const t of this.tracked.values()) clearTimeout(t.timer);
  }

  /**
   * Whether a copy may not be vouched for: nothing under way, and Temporal's last word older than a window
   * (at least a second, so that a busy API does not send a burst's copies one by one).
   */
  private unvouched(tracked: Tracked, now: number): boolean {
    if (tracked.opening || tracked.sending || tracked.unconfirmed || tracked.pending > 0) return false;
    return now - tracked.confirmedAt > Math.max(this.settings.windowMs, VOUCH_FLOOR_MS);
  }

  private async open(key: string, workflowId: string, alert: Alert): Promise<Admission> {
    if (this.tracked.size >= this.maxTracked) this.evictIdle();
    if (this.tracked.size >= this.maxTracked) {
      // Too many storms at once to track: stay correct, one signal per alert.
      const { workflowId, runId } = await this.port.openOrJoin(alert);
      return { outcome: 'opened', workflowId, runId };
    }
    const tracked: Tracked = {
      key,
      workflowId,
      runId: '',
      confirmedAt: 0,
      opening: undefined,
      pending: 0,
      latest: undefined,
      firstPendingAt: undefined,
      lastSeenAt: this.now(),
      lastSentAt: this.now(),
      windowMs: this.settings.windowMs,
      timer: undefined,
      sending: undefined,
      unconfirmed: undefined,
      failingSince: undefined,
      failures: 0,
    };
    this.tracked.set(key, tracked);
    const batches = this.byIncident.get(workflowId) ?? new Set<Tracked>();
    batches.add(tracked);
    this.byIncident.set(workflowId, batches);
    return this.sendOpening(tracked, alert);
  }

  /**
   * Sends one alert on its own and answers once Temporal holds it: the first of an incident, or the first
   * after a quiet spell (which opens a new incident if the last one ended). Copies that arrive meanwhile
   * are counted, and go with the next batch.
   */
  private async sendOpening(tracked: Tracked, alert: Alert): Promise<Admission> {
    let settle: () => void = () => undefined;
    tracked.opening = new Promise<void>((resolve) => {
      settle = resolve;
    });
    try {
      const { workflowId, runId } = await this.port.openOrJoin(alert);
      if (tracked.runId && runId !== tracked.runId) {
        this.logger.info({ workflowId, runId }, 'an alert after a quiet spell opened a new incident');
      }
      tracked.runId = runId;
      tracked.lastSentAt = this.now();
      tracked.confirmedAt = this.now();
      tracked.failingSince = undefined;
      tracked.failures = 0;
      return { outcome: 'opened', workflowId, runId };
    } catch (err) {
      // The sender retries this alert. Copies counted meanwhile are held and sent with backoff;
      // with none, the next arrival opens afresh.
      if (tracked.pending > 0) {
        tracked.failingSince ??= this.now();
        tracked.failures = Math.max(1, tracked.failures);
        tracked.lastSentAt = this.now();
      } else this.forget(tracked);
      throw err;
    } finally {
      tracked.opening = undefined;
      settle();
      if (tracked.pending > 0) this.schedule(tracked);
    }
  }

  private schedule(tracked: Tracked): void {
    // The opening alert goes first; it schedules what piled up behind it once it is through.
    if (tracked.timer || tracked.sending || tracked.opening) return;
    const dueIn = Math.max(0, tracked.lastSentAt + tracked.windowMs - this.now());
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      void this.flush(tracked);
    }, dueIn);
    tracked.timer.unref();
  }

  /** Sends an unconfirmed batch, then what is pending; stops at the first failure. */
  private async flushAll(tracked: Tracked): Promise<void> {
    await this.flush(tracked);
    if (!tracked.unconfirmed && tracked.pending > 0) await this.flush(tracked);
  }

  private async flush(tracked: Tracked): Promise<void> {
    if (tracked.timer) {
      clearTimeout(tracked.timer);
      tracked.timer = undefined;
    }
    while (tracked.sending) await tracked.sending;
    if (!tracked.unconfirmed) {
      if (tracked.pending === 0 || !tracked.latest) return;
      tracked.unconfirmed = {
        ...tracked.latest,
        // The incident has its first alert's logs already: a batch of copies carries only the newest
        // lines, so a long storm adds little to the incident's history.
        logs: tracked.latest.logs.slice(-REPEAT_LOG_LINES),
        receivedAt: tracked.firstPendingAt ?? tracked.latest.receivedAt,
        lastSeenAt: tracked.latest.receivedAt,
        count: tracked.pending,
        deliveryId: `coalesced-${this.instance}-${++this.batches}`,
      };
      tracked.pending = 0;
      tracked.latest = undefined;
      tracked.firstPendingAt = undefined;
    }
    const batch = tracked.unconfirmed;
    tracked.sending = (async () => {
      try {
        // signalWithStart: if the incident closed in the meantime, these alerts open the next one,
        // exactly as they would have one by one.
        const { runId } = await this.port.openOrJoin(batch);
        tracked.unconfirmed = undefined;
        if (runId !== tracked.runId) {
          this.logger.info(
            { workflowId: tracked.workflowId, runId, alerts: batch.count },
            'coalesced alerts opened a new incident',
          );
          tracked.runId = runId;
        }
        tracked.lastSentAt = this.now();
        tracked.confirmedAt = this.now();
        tracked.windowMs = Math.min(this.maxWindowMs, tracked.windowMs * 2);
        tracked.failingSince = undefined;
        tracked.failures = 0;
      } catch (err) {
        tracked.failingSince ??= this.now();
        tracked.failures += 1;
        this.logger.warn(
          {
            workflowId: tracked.workflowId,
            pendingAlerts: tracked.pending + (batch.count ?? 0),
            err: (err as Error).message,
          },
          'coalesced alerts not confirmed by Temporal; retrying',
        );
      } finally {
        tracked.sending = undefined;
      }
    })();
    await tracked.sending;
    if ((tracked.unconfirmed || tracked.pending > 0) && !this.closed) {
      if (tracked.unconfirmed) {
        const backoff = Math.min(MAX_RETRY_MS, this.settings.windowMs * 2 ** tracked.failures);
        tracked.lastSentAt = this.now() + backoff - tracked.windowMs;
      }
      this.schedule(tracked);
    }
  }

  private forget(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    this.tracked.delete(tracked.key);
    const batches = this.byIncident.get(tracked.workflowId);
    batches?.delete(tracked);
    if (batches?.size === 0) this.byIncident.delete(tracked.workflowId);
  }

  private evictIdle(): void {
    const cutoff = this.now() - this.idleMs;
    for (const t of this.tracked.values()) {
      if (t.pending === 0 && !t.unconfirmed && !t.opening && !t.sending && t.lastSeenAt < cutoff)
        this.forget(t);
    }
  }
}
