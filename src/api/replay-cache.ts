// Replay protection for HMAC-signed webhooks: a signature is good once within its tolerance window.
// Per process: run one API replica per secret, or put a shared cache behind this interface.

export class ReplayCache {
  private readonly expiries = new Map<string, number>();
  private nextSweepAt = 0;

  constructor(
    private readonly windowMs: number,
    /** Past this many live signatures, new ones are refused (503) rather than memory growing. */
    private readonly maxEntries = 1_000_000,
  ) {}

  /**
   * Claims a verified signature: `replayed` if it was claimed within the window, `full` if the cache
   * holds too many. Only verified signatures are claimed, so strangers cannot fill it.
   */
  claim(signature: string, nowMs: number): 'claimed' | 'replayed' | 'full' {
    this.sweep(nowMs);
    const expiry = this.expiries.get(signature);
    if (expiry !== undefined && expiry > nowMs) return 'replayed';
    if (this.expiries.size >= this.maxEntries) return 'full';
    // Timestamps are checked to ±window, so a signature can be valid for up to twice the window.
    this.expiries.set(signature, nowMs + 2 * this.windowMs);
    return 'claimed';
  }

  /** Gives a signature back when Medic did not accept the alert, so the sender's retry is not a replay. */
  release(signature: string): void {
    this.expiries.delete(signature);
  }

  get size(): number {
    return this.expiries.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepAt) return;
    this.nextSweepAt = nowMs + 1000;
    // Map iteration is insertion order and every entry lives equally long: stop at the first live one.
    for (const [signature, expiry] of this.expiries) {
      if (expiry > nowMs) break;
      this.expiries.delete(signature);
    }
  }
}
