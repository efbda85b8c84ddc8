// The self-monitor: every interval it reads the symptoms, logs them, and alerts Medic once per episode.
import type { DemoConfig } from './config.js';
import type { SimulatedDatabase } from './database.js';
import { withDeadline } from './deadline.js';
import type { ErrorCounter } from './error-counter.js';
import { EventLoopLag } from './event-loop-lag.js';
import type { Log } from './log.js';
import type { DemoMetrics } from './metrics.js';
import { OpenAlerts } from './open-alerts.js';
import { checkSettings } from './settings-file.js';
import { evaluateSymptoms, type ProbeOutcome, type Symptom, type SymptomReadings } from './symptoms.js';
import { alertPayload, type WebhookSender } from './webhook.js';

const MB = 1024 * 1024;
/** After a delivery gave up, the next attempt for that alert waits this long. */
const RETRY_AFTER_FAILURE_MS = 30_000;
const MIN_CLEAR_AFTER_MS = 3000;

export interface MonitorOptions {
  config: DemoConfig;
  log: Log;
  metrics: DemoMetrics;
  database: Pick<SimulatedDatabase, 'takeLatencyReading'>;
  errors: ErrorCounter;
  /** Where the app's own /health is, once it listens. */
  healthUrl: () => string | undefined;
  /** Undefined when no webhook secret is configured: symptoms are then only logged. */
  sender: WebhookSender | undefined;
  /** What a bad release breaks once it fails (release.ts). */
  releaseProblem?: () => string | undefined;
  /** Memory the app holds on purpose (the oom fault's job): not growth a leak made. */
  expectedMemoryMb?: () => number;
  now?: () => number;
}

export class Monitor {
  private readonly now: () => number;
  private readonly openAlerts: OpenAlerts;
  private readonly eventLoopLag = new EventLoopLag();
  private readonly stopping = new AbortController();
  private readonly deliveries = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private baselineRssBytes = 0;
  private probeInFlight = false;
  private lastProbe: ProbeOutcome | undefined;
  private current: Symptom[] = [];

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? Date.now;
    this.openAlerts = new OpenAlerts({
      clearAfterMs: Math.max(3 * options.config.monitorIntervalMs, MIN_CLEAR_AFTER_MS),
      retryAfterFailureMs: RETRY_AFTER_FAILURE_MS,
    });
  }

  start(): void {
    this.baselineRssBytes = process.memoryUsage.rss();
    this.eventLoopLag.start();
    this.timer = setInterval(() => this.check(), this.options.config.monitorIntervalMs);
  }

  /** Stops checking and cancels probes; resolves once deliveries in progress have ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.eventLoopLag.stop();
    this.stopping.abort();
    await Promise.allSettled([...this.deliveries]);
  }

  /** The symptoms found by the latest check, for /health. */
  symptoms(): readonly Symptom[] {
    return this.current;
  }

  /** One round: measure, log what is wrong, alert what is newly wrong. */
  check(): void {
    const readings = this.read();
    this.current = evaluateSymptoms(readings, this.options.config.thresholds);
    for (const symptom of this.current) this.options.log.error(symptom.message, symptom.fields);
    this.probeHealth();
    const sender = this.options.sender;
    if (!sender) return;
    const { toSend, cleared } = this.openAlerts.observe(
      this.current.map((s) => s.alertType),
      this.now(),
    );
    for (const alertType of cleared) {
      this.options.log.info('symptom cleared; alert may fire again', { alertType });
    }
    for (const symptom of this.current) {
      if (toSend.includes(symptom.alertType)) this.deliver(sender, symptom);
    }
  }

  private read(): SymptomReadings {
    const rssBytes = process.memoryUsage.rss();
    const eventLoopLagMs = this.eventLoopLag.take();
    this.options.metrics.eventLoopLag.set(eventLoopLagMs / 1000);
    return {
      rssMb: rssBytes / MB,
      rssGrowthMb: Math.max(
        0,
        (rssBytes - this.baselineRssBytes) / MB - (this.options.expectedMemoryMb?.() ?? 0),
      ),
      eventLoopLagMs,
      dbLatencyMs: this.options.database.takeLatencyReading(),
      errors: this.options.errors.take(),
      healthProbe: this.lastProbe,
      configProblem: checkSettings(this.options.config.settingsFile).problem,
      releaseProblem: this.options.releaseProblem?.(),
    };
  }

  /** Asks the app's own /health; a hang shows as no answer. One probe at a time. */
  private probeHealth(): void {
    const url = this.options.healthUrl();
    if (!url || this.probeInFlight) return;
    this.probeInFlight = true;
    const timeoutMs = this.options.config.hangProbeTimeoutMs;
    const probe = async (): Promise<ProbeOutcome | undefined> => {
      try {
        await withDeadline(timeoutMs, this.stopping.signal, async (signal) => {
          const response = await fetch(url, { signal });
          await response.arrayBuffer();
        });
        return 'answered';
      } catch (err) {
        if (this.stopping.signal.aborted) return undefined;
        if ((err as Error).name === 'TimeoutError') {
          this.options.log.error('request timed out', {
            method: 'GET',
            path: '/health',
            timeoutMs,
            by: 'self-probe',
          });
          return 'timed-out';
        }
        this.options.log.warn('health self-probe failed', { url, error: (err as Error).message });
        return 'failed';
      }
    };
    void probe().then((outcome) => {
      this.probeInFlight = false;
      if (outcome) this.lastProbe = outcome;
    });
  }

  private deliver(sender: WebhookSender, symptom: Symptom): void {
    const payload = alertPayload({
      alertType: symptom.alertType,
      severity: symptom.severity,
      containerName: this.options.config.containerName,
      ...(this.options.config.hostName ? { hostName: this.options.config.hostName } : {}),
      log: this.options.log,
      nowMs: this.now(),
    });
    const delivery = sender.send(payload).then((result) => {
      this.openAlerts.settle(symptom.alertType, result.outcome === 'accepted', this.now());
      this.deliveries.delete(delivery);
    });
    this.deliveries.add(delivery);
  }
}
