// The notifier the worker runs: a log line always, then every destination the notification's recipient
// routes to, each HTTP call bounded; a failure names the destination (never its URL) and fails the attempt.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../logger.js';
import { LogNotifier, type Notification, type Notifier } from './notify.js';
import { factsFor } from './notify-message.js';
import { pagerDutyEvent } from './notify-pagerduty.js';
import {
  type NotifyDestination,
  type NotifySettings,
  notifyDestinations,
  redactUrl,
  scrubUrl,
} from './notify-settings.js';
import { slackMessage } from './notify-slack.js';
import { teamsMessage } from './notify-teams.js';
import { webhookBody } from './notify-webhook.js';

/** A destination that did not take the notification; `permanent` when trying again cannot help (a 4xx). */
class DeliveryFailure extends Error {
  constructor(
    readonly destination: NotifyDestination,
    readonly reason: string,
    readonly permanent: boolean,
  ) {
    super(`${destination.name} (${redactUrl(destination.url)}): ${reason}`);
  }
}

/**
 * Which destinations already took one activity's notification, so its retry sends only to the ones that
 * failed: Slack has no idempotency key, and a second "approval needed" in a channel is noise. Kept per
 * worker process; a retry on another worker may repeat a message (the generic body's `id` tells repeats).
 */
class DeliveryMemory {
  private readonly entries = new Map<string, { at: number; delivered: Set<string> }>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  delivered(key: string, now: number): Set<string> {
    this.prune(now);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { at: now, delivered: new Set() };
      this.entries.set(key, entry);
    }
    return entry.delivered;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      // Insertion order is age order: stop at the first entry still young enough.
      if (now - entry.at < this.ttlMs && this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}

/** The running activity's identity, the same on each of its attempts; undefined outside an activity. */
function activityDelivery(): { key: string; attempt: number } | undefined {
  try {
    const { info } = Context.current();
    const run = info.workflowExecution;
    const scope = run ? `${run.workflowId}/${run.runId}` : 'standalone';
    return { key: `${scope}/${info.activityId}`, attempt: info.attempt };
  } catch {
    return undefined;
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const error = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return `no answer within ${timeoutMs / 1000} s`;
  if (error.cause?.code === 'ECONNREFUSED') return 'connection refused (is the receiver running?)';
  return error.cause?.code ?? error.cause?.message ?? error.message ?? String(err);
}

/** 4xx answers other than 408 and 429 say the request itself is wrong (bad URL, revoked hook). */
const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export class DeliveringNotifier implements Notifier {
  private readonly log: LogNotifier;
  private readonly memory = new DeliveryMemory();
  private readonly defaults: NotifyDestination[];
  private readonly routes: Array<NotifyDestination & { level: string }>;

  constructor(
    private readonly settings: NotifySettings,
    private readonly logger: Logger,
  ) {
    this.log = new LogNotifier(logger);
    ({ defaults: this.defaults, routes: this.routes } = notifyDestinations(settings));
  }

  /** A recipient with routes goes to those routes only; everything else to the default destinations. */
  destinationsFor(n: Notification): NotifyDestination[] {
    const routed = n.recipient ? this.routes.filter((r) => r.level === n.recipient) : [];
    return routed.length > 0 ? routed : this.defaults;
  }

  async notify(n: Notification): Promise<void> {
    await this.log.notify(n);
    const destinations = this.destinationsFor(n);
    if (destinations.length === 0) return;
    const activity = activityDelivery();
    const delivered = activity ? this.memory.delivered(activity.key, Date.now()) : new Set<string>();
    const pending = destinations.filter((d) => !delivered.has(d.name));
    const context = { workflowId: n.workflowId, attempt: activity?.attempt };
    if (pending.length < destinations.length) {
      this.logger.info(
        { ...context, skipped: destinations.filter((d) => delivered.has(d.name)).map((d) => d.name) },
        'notification already delivered there on an earlier attempt',
      );
    }
    const id = activity?.key ?? randomUUID();
    const results = await Promise.allSettled(pending.map((d) => this.deliver(d, n, id)));
    const failures: DeliveryFailure[] = [];
    results.forEach((result, i) => {
      const destination = pending[i] as NotifyDestination;
      if (result.status === 'fulfilled') delivered.add(destination.name);
      else failures.push(result.reason as DeliveryFailure);
    });
    for (const f of failures) {
      this.logger.warn(
        { ...context, destination: f.destination.name, url: redactUrl(f.destination.url), reason: f.reason },
        'notification not delivered',
      );
    }
    if (failures.length > 0) throw this.failure(failures, [...delivered]);
  }

  private failure(failures: DeliveryFailure[], delivered: string[]): ApplicationFailure {
    const message = `notification not delivered to ${failures.map((f) => f.message).join('; ')}${
      delivered.length > 0 ? ` (delivered to ${delivered.join(', ')})` : ''
    }`;
    return ApplicationFailure.create({
      message,
      type: 'NotificationNotDelivered',
      // Retrying helps a receiver that is down or slow, not one that refuses the request.
      nonRetryable: failures.every((f) => f.permanent),
    });
  }

  private bodyFor(destination: NotifyDestination, n: Notification, id: string): object | undefined {
    const facts = factsFor(n, this.settings);
    const sentAt = new Date().toISOString();
    switch (destination.format) {
      case 'slack':
        return slackMessage(n, facts, { buttons: this.settings.slackButtons === true });
      case 'pagerduty':
        return pagerDutyEvent(n, facts, { routingKey: destination.routingKey ?? '', sentAt });
      case 'teams':
        return teamsMessage(n, facts);
      case 'webhook':
        return webhookBody(n, facts, { id, sentAt });
    }
  }

  private async deliver(destination: NotifyDestination, n: Notification, id: string): Promise<void> {
    const body = this.bodyFor(destination, n, id);
    // PagerDuty hears only what changes its incident.
    if (body === undefined) return;
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(destination.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'medic-notifier',
          ...(destination.format === 'webhook' ? { 'idempotency-key': id } : {}),
        },
        body: JSON.stringify(body),
        // A redirect would carry the notification (and maybe the secret path) somewhere unplanned.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (err) {
      throw new DeliveryFailure(destination, describeFetchError(err, this.settings.timeoutMs), false);
    }
    const answer = await response.text().catch(() => '');
    if (response.status < 200 || response.status >= 300) {
      const said = scrubUrl(answer.trim().slice(0, 200), destination.url);
      throw new DeliveryFailure(
        destination,
        `HTTP ${response.status}${said ? ` ${JSON.stringify(said)}` : ''}`,
        isPermanent(response.status),
      );
    }
    this.logger.debug(
      {
        workflowId: n.workflowId,
        destination: destination.name,
        url: redactUrl(destination.url),
        ms: Date.now() - started,
      },
      'notification delivered',
    );
  }
}

/** The worker's notifier from its settings: the log line alone when no destination is configured. */
export function createNotifier(settings: NotifySettings, logger: Logger): Notifier {
  const { defaults, routes } = notifyDestinations(settings);
  return defaults.length + routes.length > 0
    ? new DeliveringNotifier(settings, logger)
    : new LogNotifier(logger);
}
