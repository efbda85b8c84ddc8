// An answer computed once for everyone who asks while it is being computed, and kept for a few seconds
// after: a reader looping on an endpoint costs Temporal one call per `ttlMs`, not one per request.
export interface SingleFlightOptions {
  ttlMs: number;
  /** Keep a failure for `ttlMs` too (a health answer); otherwise the next request tries again. */
  keepFailures?: boolean;
  /** Distinct keys kept at once; the oldest goes first. */
  maxKeys?: number;
  now?: () => number;
}

interface Entry<V> {
  answer: Promise<V>;
  /** When the answer settled; undefined while it is being computed. */
  settledAt: number | undefined;
}

export class SingleFlight<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly options: SingleFlightOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether an answer for any key is being computed now. */
  get busy(): boolean {
    for (const entry of this.entries.values()) if (entry.settledAt === undefined) return true;
    return false;
  }

  /** Whether `key`'s answer is being computed or still fresh: get(key) would not compute. */
  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && (entry.settledAt === undefined || this.fresh(entry));
  }

  get(key: string, compute: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && (entry.settledAt === undefined || this.fresh(entry))) return entry.answer;
    this.entries.delete(key);
    const maxKeys = this.options.maxKeys ?? 16;
    for (const [old] of this.entries) {
      if (this.entries.size < maxKeys) break;
      this.entries.delete(old);
    }
    const fresh: Entry<V> = { answer: compute(), settledAt: undefined };
    this.entries.set(key, fresh);
    fresh.answer.then(
      () => {
        fresh.settledAt = this.now();
      },
      () => {
        fresh.settledAt = this.now();
        if (!this.options.keepFailures && this.entries.get(key) === fresh) this.entries.delete(key);
      },
    );
    return fresh.answer;
  }

  private fresh(entry: Entry<V>): boolean {
    return entry.settledAt !== undefined && this.now() - entry.settledAt < this.options.ttlMs;
  }
}
