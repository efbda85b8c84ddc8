// Application errors (failed requests, failed background jobs) counted per monitor interval.
export class ErrorCounter {
  private count = 0;

  record(): void {
    this.count += 1;
  }

  /** The count since the last take, and starts a new interval. */
  take(): number {
    const count = this.count;
    this.count = 0;
    return count;
  }
}
