import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopLag } from '../../../demo-app/src/event-loop-lag.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function blockFor(ms: number): void {
  const started = performance.now();
  while (performance.now() - started < ms) {
    // busy: nothing else may run
  }
}

describe('EventLoopLag', () => {
  const lag = new EventLoopLag();
  afterEach(() => lag.stop());

  it('records a block even when the reading is taken the moment it ends', async () => {
    lag.start();
    await sleep(50);
    blockFor(300);
    // The worst case for a reset()-based reading: no histogram tick since the block ended.
    const atOnce = lag.take();
    await sleep(50);
    const next = lag.take();
    expect(Math.max(atOnce, next)).toBeGreaterThanOrEqual(290);
  });

  it('reads 0 when not started, or before any sample', () => {
    expect(lag.take()).toBe(0);
    lag.start();
    expect(lag.take()).toBe(0);
    lag.stop();
    expect(lag.take()).toBe(0);
  });
});
