// A stand-in for a database: queries take a few milliseconds, or seconds while the db-latency fault
// is active. A background job queries it every 500 ms the way a real service polls its tables. A reset of
// the connection pool drops the queries stuck on it (they fail), which the demo's reset-pool action does.
import type { Log } from './log.js';

export const NORMAL_QUERY_MS = { min: 3, max: 8 };
export const SLOW_QUERY_MS = 2500;
export const BACKGROUND_QUERY_INTERVAL_MS = 500;
/** The pool's name in logs, and what the reset-pool action answers. */
export const POOL_NAME = 'orders-db';

/** What a query in flight fails with when the pool is reset under it. */
export class PoolResetError extends Error {
  readonly status = 503;
  constructor() {
    super(`connection to ${POOL_NAME} closed by a pool reset; retry the request`);
    this.name = 'PoolResetError';
  }
}

export interface SimulatedDatabaseOptions {
  log: Log;
  /** Whether the db-latency fault is active. */
  isSlow: () => boolean;
  /** Queries at least this slow are logged as "slow query". */
  slowQueryLogMs: number;
  now?: () => number;
  random?: () => number;
}

export class SimulatedDatabase {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Unfinished queries, by query number: when each started, and how a pool reset ends it. */
  private readonly inFlight = new Map<number, { startedAt: number; cancel: (err: Error) => void }>();
  private queryCount = 0;
  private slowestThisInterval: number | undefined;
  private lastLatencyMs = 0;
  private stopped = false;

  constructor(private readonly options: SimulatedDatabaseOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  async query(sql: string): Promise<{ durationMs: number }> {
    const latencyMs = this.options.isSlow()
      ? SLOW_QUERY_MS
      : NORMAL_QUERY_MS.min + this.random() * (NORMAL_QUERY_MS.max - NORMAL_QUERY_MS.min);
    const startedAt = this.now();
    const queryNumber = ++this.queryCount;
    await new Promise<void>((resolve, reject) => {
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.inFlight.delete(queryNumber);
        resolve();
      }, latencyMs);
      this.timers.add(timer);
      this.inFlight.set(queryNumber, {
        startedAt,
        cancel: (err) => {
          clearTimeout(timer);
          this.timers.delete(timer);
          reject(err);
        },
      });
    });
    const durationMs = this.now() - startedAt;
    this.lastLatencyMs = durationMs;
    this.slowestThisInterval = Math.max(this.slowestThisInterval ?? 0, durationMs);
    if (durationMs >= this.options.slowQueryLogMs) {
      this.options.log.warn('slow query', { sql, durationMs, pool: POOL_NAME });
    }
    return { durationMs };
  }

  /**
   * The latency reading of the interval that ends now: the slowest query that finished in it (or
   * the last one to finish, when none did), or the age of the oldest unfinished query if that is
   * longer. A query stuck for seconds thus shows before it finishes, and a slow database keeps
   * reading slow between two slow queries.
   */
  takeLatencyReading(): number {
    const finished = this.slowestThisInterval ?? this.lastLatencyMs;
    this.slowestThisInterval = undefined;
    let oldest = this.now();
    for (const { startedAt } of this.inFlight.values()) oldest = Math.min(oldest, startedAt);
    return Math.max(finished, this.now() - oldest);
  }

  /**
   * Drops every connection and opens new ones: queries in flight fail with PoolResetError, and the
   * latency reading starts afresh. Returns how many queries it cut off.
   */
  resetPool(): number {
    const cut = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const query of cut) query.cancel(new PoolResetError());
    this.slowestThisInterval = undefined;
    this.lastLatencyMs = 0;
    return cut.length;
  }

  /** Polls the database until stop(), one query at a time. */
  startBackgroundJob(): void {
    const loop = async () => {
      while (!this.stopped) {
        try {
          await this.query('SELECT id, status FROM orders WHERE status = $1');
        } catch (err) {
          if (!(err instanceof PoolResetError)) throw err;
          this.options.log.warn('query cut off by a pool reset; polling goes on', { pool: POOL_NAME });
        }
        await this.wait(BACKGROUND_QUERY_INTERVAL_MS);
      }
    };
    void loop();
  }

  /** Ends the background job; queries still waiting never finish (the process is going away). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
