/** Records and bytes: the two things a delivery stream's throughput quota counts. */
export interface Amount {
  readonly records: number;
  readonly bytes: number;
}

export interface AdaptiveRateOptions {
  /** Share of the measured acceptance a throttled stream is held to. @default 0.9 */
  readonly decrease?: number;
  /** Growth per second of the limit while calls go through unthrottled. @default 0.1 */
  readonly increasePerSecond?: number;
  /** Time over which acceptance is measured, the service's burst allowance. @default 1000 */
  readonly windowMs?: number;
}

const PEAK_HALF_LIFE_MS = 60_000;

const UNLIMITED: Amount = { records: Number.POSITIVE_INFINITY, bytes: Number.POSITIVE_INFINITY };

/**
 * What one delivery stream accepts, learnt from what it accepted: a stream at its quota answers part of each
 * `PutRecordBatch` with per-record `ServiceUnavailableException` ("Slow down."), which says "slower", not "down".
 *
 * Unlimited until the first throttled record. Then a token bucket of records and bytes per second, holding one
 * second of burst, set to a share (`decrease`) of what the stream accepted in the last second, emptied (the
 * service's own bucket is empty when it refuses), and raised by `increasePerSecond` for every second calls go
 * through without throttling, so a stream whose quota was raised is found out again (additive increase,
 * multiplicative decrease, as TCP does with a congestion window).
 * @see https://docs.aws.amazon.com/firehose/latest/dev/limits.html
 */
export class AdaptiveRate {
  private readonly decrease: number;
  private readonly increasePerSecond: number;
  private readonly windowMs: number;
  /** Records and bytes per second; infinite while the stream was never throttled. */
  private limit: Amount = UNLIMITED;
  private tokens: { records: number; bytes: number } = { records: 0, bytes: 0 };
  private refilledAt = 0;
  /** Accepted records and bytes of recent calls, oldest first, for the acceptance of the last window. */
  private accepted: { at: number; records: number; bytes: number }[] = [];
  /**
   * When the first answer came: a measurement over less than a window is a rate over the time since then (the
   * first call can take long, with credentials and connections to set up, and says nothing of the quota).
   */
  private firstAnsweredAt?: number;
  private raisedAt = 0;
  /** The highest limit set, decaying by half every `PEAK_HALF_LIFE_MS`. */
  private peak: Amount = { records: 0, bytes: 0 };
  private peakAt = 0;
  private loweredAt = Number.NEGATIVE_INFINITY;

  constructor(options: AdaptiveRateOptions = {}) {
    this.decrease = options.decrease ?? 0.9;
    this.increasePerSecond = options.increasePerSecond ?? 0.1;
    this.windowMs = options.windowMs ?? 1000;
  }

  /** The limit in records and bytes per second; infinite while the stream was never throttled. */
  get rate(): Amount {
    return this.limit;
  }

  get limited(): boolean {
    return Number.isFinite(this.limit.records);
  }

  /** What may be sent now. */
  allowance(now: number): Amount {
    if (!this.limited) return UNLIMITED;
    this.refill(now);
    return { records: Math.floor(this.tokens.records), bytes: Math.floor(this.tokens.bytes) };
  }

  /** Milliseconds until `amount` may be sent; 0 when it may now. */
  waitMs(now: number, amount: Amount): number {
    if (!this.limited) return 0;
    this.refill(now);
    // Never more than the bucket holds: a larger amount waits for a full bucket, and goes as a smaller batch.
    const records = Math.min(amount.records, this.limit.records) - this.tokens.records;
    const bytes = Math.min(amount.bytes, this.limit.bytes) - this.tokens.bytes;
    const seconds = Math.max(0, records / this.limit.records, bytes / this.limit.bytes);
    return Math.ceil(seconds * 1000);
  }

  /** Takes what a call carries from the bucket. */
  spend(now: number, amount: Amount): void {
    if (!this.limited) return;
    this.refill(now);
    this.tokens.records -= amount.records;
    this.tokens.bytes -= amount.bytes;
  }

  /**
   * Learns from a call's outcome: what the stream accepted, and how many records it refused for throttling.
   * `sentAt` is when the call was sent: calls already in flight when the rate was lowered met the same
   * congestion, and lower it no further (as TCP takes one decrease per round trip).
   * Returns `stalled` when the stream refused records and accepted none for a whole window: it is not at its
   * quota but unavailable (or shared with a producer that takes all of it), which calls for a backoff; the rate
   * is then left as it was, so that one bad second cannot slow the stream to a crawl.
   */
  settle(
    now: number,
    sentAt: number,
    accepted: Amount,
    throttledRecords: number,
  ): 'ok' | 'slowed' | 'stalled' {
    this.firstAnsweredAt ??= now;
    if (accepted.records > 0) {
      this.accepted.push({ at: now, records: accepted.records, bytes: accepted.bytes });
    }
    while (this.accepted.length > 0 && this.accepted[0].at <= now - this.windowMs) this.accepted.shift();
    if (throttledRecords === 0) {
      if (this.limited && accepted.records > 0) this.raise(now);
      return 'ok';
    }
    if (this.accepted.length === 0) return 'stalled';
    if (sentAt < this.loweredAt) return 'slowed';
    // The first refusal comes once the service's bucket, full at the start, is empty: what was accepted until
    // then includes that second of burst.
    const measured = this.acceptance(now, this.limited ? 0 : this.windowMs);
    this.limit = this.floored(now, {
      records: Math.max(1, Math.min(this.limit.records, measured.records) * this.decrease),
      bytes: Math.max(1, Math.min(this.limit.bytes, measured.bytes) * this.decrease),
    });
    this.tokens = { records: 0, bytes: 0 };
    this.refilledAt = now;
    this.raisedAt = now;
    this.loweredAt = now;
    return 'slowed';
  }

  /**
   * `limit`, but no less than half the highest limit of about the last minute. A quota refuses more the faster it
   * is sent to, so slowing down ends its refusals long before that; refusals that go on however slowly the stream
   * is sent (a fault, not a quota) would otherwise lower the rate at every call, to nothing.
   */
  private floored(now: number, limit: Amount): Amount {
    const decay = 0.5 ** ((now - this.peakAt) / PEAK_HALF_LIFE_MS);
    this.peak = {
      records: Math.max(limit.records, this.peak.records * decay),
      bytes: Math.max(limit.bytes, this.peak.bytes * decay),
    };
    this.peakAt = now;
    return {
      records: Math.max(limit.records, this.peak.records / 2),
      bytes: Math.max(limit.bytes, this.peak.bytes / 2),
    };
  }

  /**
   * Records and bytes per second accepted over the last window, or over the time since sending started. At the
   * first refusal, the time counts from the oldest call of the window: a stream that was idle, or failing whole
   * (an outage), took nothing from the service's bucket before it, so one large packed call that took the whole
   * burst at once would otherwise be measured over a second it did not use, and the stream held to half its quota.
   */
  private acceptance(now: number, burstMs: number): Amount {
    let records = 0;
    let bytes = 0;
    for (const sample of this.accepted) {
      records += sample.records;
      bytes += sample.bytes;
    }
    const since = this.limited ? this.firstAnsweredAt : this.accepted[0]?.at;
    const spanMs = Math.min(this.windowMs, Math.max(10, now - (since ?? now))) + burstMs;
    return { records: (records * 1000) / spanMs, bytes: (bytes * 1000) / spanMs };
  }

  private raise(now: number): void {
    this.refill(now);
    const seconds = Math.min(1, (now - this.raisedAt) / 1000);
    this.raisedAt = now;
    const factor = 1 + this.increasePerSecond * seconds;
    this.limit = { records: this.limit.records * factor, bytes: this.limit.bytes * factor };
  }

  private refill(now: number): void {
    const seconds = Math.max(0, now - this.refilledAt) / 1000;
    this.refilledAt = now;
    this.tokens = {
      records: Math.min(this.limit.records, this.tokens.records + seconds * this.limit.records),
      bytes: Math.min(this.limit.bytes, this.tokens.bytes + seconds * this.limit.bytes),
    };
  }
}
