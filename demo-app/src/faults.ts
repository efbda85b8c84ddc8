// The faults the demo app can be told to have. All state is in memory, so a restart clears every
// fault, except bad-config, which lives in the settings file and survives restarts. db-latency also
// clears without a restart: the app's own reset-pool action (POST /admin/reset-pool) does it.
import type { ErrorCounter } from './error-counter.js';
import type { Log } from './log.js';
import type { DemoMetrics } from './metrics.js';
import type { OomAmount } from './oom-amount.js';
import { type MemoryJob, startMemoryJob } from './oom-job.js';
import { writeBadSettings } from './settings-file.js';
import type { AlertType } from './symptoms.js';

/**
 * Each fault is named after the alert it provokes; `oom` provokes none from the app itself (the kernel
 * kills it first): only a watcher of the engine can see it. A bad release is no trigger: it is an image
 * (`npm run demo:deploy -- bad`).
 */
export const FAULT_NAMES = [
  'memory-leak',
  'cpu-spike',
  'db-latency',
  'error-storm',
  'hang',
  'crash',
  'bad-config',
  'oom',
] as const satisfies readonly (AlertType | 'oom')[];
export type FaultName = (typeof FAULT_NAMES)[number];

export const FAULT_EFFECTS: Record<FaultName, string> = {
  'memory-leak': 'retains 5 MB more memory every 200 ms, up to MEMORY_LEAK_MAX_MB',
  'cpu-spike': 'blocks the event loop about 800 ms of every second',
  'db-latency':
    'simulated database queries take 2.5 s instead of a few ms (a stuck connection pool: POST /admin/reset-pool clears it without a restart)',
  'error-storm': 'most /api/orders requests fail with 500 and a background job fails continuously',
  hang: 'every request except /metrics stops being answered',
  crash: 'the process logs a fatal error and exits at once with code 1; a dead process sends no alert',
  oom: 'runs an export job that needs a fixed amount of memory at once (OOM_ALLOCATE_MB; npm start: 1.2 x the limit the container started with): under that limit the kernel OOM-kills it, under a raised one the job ends and frees it',
  'bad-config':
    'writes an invalid db.poolSize into the settings file (DEMO_SETTINGS_FILE): /health fails, and keeps failing after a restart until the file is fixed or DELETE /trigger/bad-config',
};

export function isFaultName(name: string): name is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(name);
}

const LEAK_CHUNK_MB = 5;
const LEAK_INTERVAL_MS = 200;
const LEAK_LOG_EVERY_MB = 100;
const SPIKE_PERIOD_MS = 1000;
const SPIKE_BLOCK_MS = 800;
// 50 errors a second: over the default threshold (20 per interval) for any interval from 500 ms up.
const ERROR_JOB_INTERVAL_MS = 20;
/** Share of /api/orders requests that fail during an error storm. */
export const ERROR_STORM_FAILURE_RATE = 0.8;

export interface FaultControllerOptions {
  log: Log;
  metrics: DemoMetrics;
  errors: ErrorCounter;
  memoryLeakMaxMb: number;
  /** Where bad-config writes its invalid setting. */
  settingsFile: string;
  /** What the oom fault's job needs, fixed when the app started. */
  oom: OomAmount;
  /** Called once the crash fault is triggered; it ends the process. */
  onCrash: () => void;
  random?: () => number;
}

export class FaultController {
  private readonly active = new Set<FaultName>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** The leak: referenced here so the garbage collector can never free it. */
  private readonly leaked: Buffer[] = [];
  private readonly random: () => number;
  private job: MemoryJob | undefined;
  private jobs = { runs: 0, finished: 0 };

  constructor(private readonly options: FaultControllerOptions) {
    this.random = options.random ?? Math.random;
  }

  isActive(fault: FaultName): boolean {
    return this.active.has(fault);
  }

  activeFaults(): FaultName[] {
    return [...this.active];
  }

  /** Starts a fault; false when it was already active. */
  activate(fault: FaultName): boolean {
    if (fault === 'bad-config') {
      // Its state is the file, not this process: writing it again is harmless.
      writeBadSettings(this.options.settingsFile);
      this.options.log.warn('fault triggered', { fault, effect: FAULT_EFFECTS[fault] });
      this.options.log.warn('settings file rewritten', { file: this.options.settingsFile });
      return true;
    }
    if (this.active.has(fault)) {
      this.options.log.info('fault already active', { fault });
      return false;
    }
    this.active.add(fault);
    this.options.metrics.activeFaults.set({ fault }, 1);
    this.options.log.warn('fault triggered', { fault, effect: FAULT_EFFECTS[fault] });
    switch (fault) {
      case 'memory-leak':
        this.every(LEAK_INTERVAL_MS, () => this.leak());
        break;
      case 'cpu-spike':
        this.every(SPIKE_PERIOD_MS, () => this.blockEventLoop());
        break;
      case 'error-storm':
        this.every(ERROR_JOB_INTERVAL_MS, () => this.failBackgroundJob());
        break;
      case 'crash':
        this.options.onCrash();
        break;
      case 'oom':
        this.runMemoryJob();
        break;
      case 'db-latency':
      case 'hang':
        // Read by the database and the request pipeline through isActive().
        break;
    }
    return true;
  }

  /** Ends a fault without a restart; false when it was not active. Only db-latency has a way out. */
  clear(fault: 'db-latency'): boolean {
    if (!this.active.delete(fault)) return false;
    this.options.metrics.activeFaults.set({ fault }, 0);
    return true;
  }

  /** The oom fault's job: what it needs, how often it ran and finished (it fit under the limit). */
  memoryJob(): { needsMb: number; from: OomAmount['from']; runs: number; finished: number } {
    return { needsMb: this.options.oom.mb, from: this.options.oom.from, ...this.jobs };
  }

  /** Memory the app holds on purpose now (the job's), which the memory-leak check does not count. */
  expectedMemoryMb(): number {
    return this.job ? this.options.oom.mb : 0;
  }

  /** Whether this /api/orders request should fail. */
  shouldFailRequest(): boolean {
    return this.active.has('error-storm') && this.random() < ERROR_STORM_FAILURE_RATE;
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    void this.job?.stop();
  }

  private every(ms: number, task: () => void): void {
    this.timers.push(setInterval(task, ms));
  }

  private leak(): void {
    const retainedMb = this.leaked.length * LEAK_CHUNK_MB;
    if (retainedMb + LEAK_CHUNK_MB > this.options.memoryLeakMaxMb) return;
    // Filled, not just allocated: untouched pages would not count towards RSS.
    this.leaked.push(Buffer.allocUnsafe(LEAK_CHUNK_MB * 1024 * 1024).fill(this.leaked.length % 251));
    const nowMb = retainedMb + LEAK_CHUNK_MB;
    if (nowMb % LEAK_LOG_EVERY_MB === 0) {
      this.options.log.warn('session cache growing without eviction', {
        retainedMb: nowMb,
        rssMb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
      });
    }
    if (nowMb + LEAK_CHUNK_MB > this.options.memoryLeakMaxMb) {
      this.options.log.warn('memory leak reached its cap; memory stays retained', { retainedMb: nowMb });
    }
  }

  private runMemoryJob(): void {
    const { mb, from } = this.options.oom;
    this.jobs.runs += 1;
    this.options.log.warn('export job started: it loads every order into memory at once', {
      needsMb: mb,
      rssMb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
    });
    const job = startMemoryJob(mb);
    this.job = job;
    job.done
      .then(
        (bytes) => {
          this.jobs.finished += 1;
          this.options.log.info('export job finished; its memory is freed', {
            heldMb: Math.round(bytes / 1024 / 1024),
            rssMb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
          });
          if (from === 'OOM_MAX_MB') {
            this.options.log.error(
              'out of memory fault reached OOM_MAX_MB without being killed; is there a memory limit?',
              { heldMb: mb },
            );
          }
        },
        (err: Error) => this.options.log.warn('export job ended early', { error: err.message }),
      )
      .finally(() => {
        this.job = undefined;
        this.active.delete('oom');
        this.options.metrics.activeFaults.set({ fault: 'oom' }, 0);
      });
  }

  private blockEventLoop(): void {
    const started = performance.now();
    let checksum = 0;
    while (performance.now() - started < SPIKE_BLOCK_MS) checksum = (checksum * 31 + 7) % 1_000_003;
    this.options.log.warn('report generation blocked the event loop', {
      blockedMs: Math.round(performance.now() - started),
      checksum,
    });
  }

  private failBackgroundJob(): void {
    this.options.errors.record();
    this.options.log.error('payment sync failed', {
      job: 'payment-sync',
      error: 'ECONNRESET: upstream connection reset by peer',
    });
  }
}
