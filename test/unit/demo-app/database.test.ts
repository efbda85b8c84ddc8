import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PoolResetError, SimulatedDatabase, SLOW_QUERY_MS } from '../../../demo-app/src/database.js';
import { Log } from '../../../demo-app/src/log.js';

describe('SimulatedDatabase latency reading', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function database(slow: { value: boolean }) {
    const lines: string[] = [];
    const db = new SimulatedDatabase({
      log: new Log({ write: (line) => lines.push(line) }),
      isSlow: () => slow.value,
      slowQueryLogMs: 1000,
      random: () => 0.5,
    });
    return { db, lines };
  }

  it('reads a few milliseconds when healthy', async () => {
    const { db } = database({ value: false });
    const query = db.query('SELECT 1');
    await vi.advanceTimersByTimeAsync(10);
    await query;
    expect(db.takeLatencyReading()).toBeLessThan(10);
  });

  it('shows a stuck query before it finishes, and stays slow between slow queries', async () => {
    const { db, lines } = database({ value: true });
    const query = db.query('SELECT 1');
    await vi.advanceTimersByTimeAsync(1200);
    expect(db.takeLatencyReading()).toBe(1200);
    await vi.advanceTimersByTimeAsync(SLOW_QUERY_MS - 1200);
    await query;
    expect(db.takeLatencyReading()).toBe(SLOW_QUERY_MS);
    // No query finished in this interval: the last one still speaks for the database.
    expect(db.takeLatencyReading()).toBe(SLOW_QUERY_MS);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'slow query', durationMs: SLOW_QUERY_MS }),
    ]);
  });

  it('recovers its reading once queries are fast again', async () => {
    const slow = { value: true };
    const { db } = database(slow);
    const first = db.query('SELECT 1');
    await vi.advanceTimersByTimeAsync(SLOW_QUERY_MS);
    await first;
    slow.value = false;
    const second = db.query('SELECT 1');
    await vi.advanceTimersByTimeAsync(10);
    await second;
    db.takeLatencyReading();
    expect(db.takeLatencyReading()).toBeLessThan(10);
  });

  it('a pool reset cuts off the stuck queries and reads afresh', async () => {
    const slow = { value: true };
    const { db } = database(slow);
    const stuck = db.query('SELECT 1');
    const failed = stuck.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(1500);
    expect(db.takeLatencyReading()).toBe(1500);
    slow.value = false;
    expect(db.resetPool()).toBe(1);
    expect(await failed).toBeInstanceOf(PoolResetError);
    expect(db.takeLatencyReading()).toBe(0);
    const next = db.query('SELECT 1');
    await vi.advanceTimersByTimeAsync(10);
    await next;
    expect(db.takeLatencyReading()).toBeLessThan(10);
    expect(db.resetPool()).toBe(0);
  });
});
