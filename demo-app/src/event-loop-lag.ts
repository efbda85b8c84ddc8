// Event-loop lag from perf_hooks histograms, windowed per monitor reading.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/**
 * The longest event-loop delay seen over the last two readings.
 *
 * Why not one histogram and reset(): reset() also forgets when the histogram last ticked, so a
 * block that ends just before the reset is never recorded, and the monitor's own timer tends to
 * run exactly then (right after the block). Instead each histogram stays enabled across two
 * readings, so the one that saw the block start still records it after the reading.
 */
export class EventLoopLag {
  private older: IntervalHistogram | undefined;
  private newer: IntervalHistogram | undefined;

  start(): void {
    this.newer = begin();
  }

  /** Milliseconds; starts the next window. 0 when not started. */
  take(): number {
    if (!this.newer) return 0;
    // With no sample yet a histogram's max is 0.
    const maxNs = Math.max(this.older?.max ?? 0, this.newer.max);
    this.older?.disable();
    this.older = this.newer;
    this.newer = begin();
    return maxNs / 1e6;
  }

  stop(): void {
    this.older?.disable();
    this.newer?.disable();
    this.older = undefined;
    this.newer = undefined;
  }
}

function begin(): IntervalHistogram {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  return histogram;
}
