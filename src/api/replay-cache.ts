// Replay protection for HMAC-signed webhooks: a signature is good once within its acceptance window.
// Per process: run one API replica per secret, or put a shared cache behind this interface.
//
// Why it is shaped like this:
// - A signature covers its timestamp, and the age check refuses any timestamp more than the window
//   away from now. So the cache only has to remember a signature until its own timestamp leaves the
//   window (timestamp + window): entries are grouped by timestamp second and whole seconds expire.
// - Memory is capped, and a full cache must not refuse every webhook (answering 503 to all of them
//   until entries expire would let one flood lock every sender out). At the cap the oldest second is
//   forgotten, and the cache remembers only how far it has forgotten (`forgottenThrough`). A signature
//   from a forgotten second can no longer be told apart from a replay, so it is refused (sign afresh);
//   every signature newer than that is judged exactly as before. A sender signing with the current time
//   is refused only if the cap holds nothing older than the current second, i.e. `maxEntries` signed
//   requests in about a second. No replay is ever accepted, and a full cache costs senders with old
//   timestamps, never everyone.
// - A claim is pending until the request is answered: a copy that arrives meanwhile (a sender's
//   retry after its own timeout) is told to retry, not that it was accepted, because the first
//   attempt may still fail and give the signature back.

/** What a claim found. `forgotten`: too old for what the cache still remembers under load. */
export type ReplayClaim = 'claimed' | 'pending' | 'replayed' | 'forgotten';

/** About 150 bytes each (the signature text and its map entry): about 150 MB at the cap. */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 1_000_000;

export class ReplayCache {
  /** Timestamp second -> signature -> whether its request was answered. */
  private readonly seconds = new Map<number, Map<string, 'pending' | 'settled'>>();
  /** The keys of `seconds`, ascending: expiry and eviction take the oldest first. */
  private readonly order: number[] = [];
  private entries = 0;
  private forgottenThrough = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = DEFAULT_REPLAY_CACHE_ENTRIES,
  ) {}

  /**
   * Claims a verified signature whose timestamp passed the age check. Only verified signatures are
   * claimed, so strangers cannot fill the cache.
   */
  claim(signature: string, timestampSeconds: number, nowMs: number): ReplayClaim {
    this.expire(nowMs);
    if (timestampSeconds <= this.forgottenThrough) return 'forgotten';
    const seen = this.seconds.get(timestampSeconds)?.get(signature);
    if (seen) return seen === 'pending' ? 'pending' : 'replayed';
    while (this.entries >= this.maxEntries && this.order.length > 0) this.forgetOldestSecond();
    if (timestampSeconds <= this.forgottenThrough) return 'forgotten';
    this.bucket(timestampSeconds).set(signature, 'pending');
    this.entries += 1;
    return 'claimed';
  }

  /** The request was answered for good (accepted, or refused as invalid): a copy is a replay. */
  settle(signature: string, timestampSeconds: number): void {
    const bucket = this.seconds.get(timestampSeconds);
    if (bucket?.has(signature)) bucket.set(signature, 'settled');
  }

  /** Gives a signature back when Medic did not accept the alert, so the sender's retry is not a replay. */
  release(signature: string, timestampSeconds: number): void {
    if (this.seconds.get(timestampSeconds)?.delete(signature)) this.entries -= 1;
  }

  get size(): number {
    return this.entries;
  }

  private bucket(second: number): Map<string, 'pending' | 'settled'> {
    let bucket = this.seconds.get(second);
    if (!bucket) {
      bucket = new Map();
      this.seconds.set(second, bucket);
      // Timestamps arrive nearly in order and at most 2 x window / 1 s seconds are live: a short scan.
      let at = this.order.length;
      while (at > 0 && (this.order[at - 1] ?? 0) > second) at -= 1;
      this.order.splice(at, 0, second);
    }
    return bucket;
  }

  /** Drops the seconds the age check refuses by now: a replay of them never reaches the cache. */
  private expire(nowMs: number): void {
    while (this.order.length > 0 && (this.order[0] ?? 0) * 1000 + this.windowMs < nowMs) this.dropOldest();
  }

  private forgetOldestSecond(): void {
    const second = this.dropOldest();
    if (second !== undefined) this.forgottenThrough = Math.max(this.forgottenThrough, second);
  }

  private dropOldest(): number | undefined {
    const second = this.order.shift();
    if (second === undefined) return undefined;
    this.entries -= this.seconds.get(second)?.size ?? 0;
    this.seconds.delete(second);
    return second;
  }
}
