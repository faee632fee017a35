import { FirehoseLimits } from '../firehose';
import type { Logger } from '../logger';
import { AdaptiveRate, type Amount } from './adaptive-rate';

/**
 * A throttled stream is sent a tenth of a second of its rate at a time: batches large enough that calls stay far
 * below the stream's request quota (1,000 or 2,000 per second), small enough that the service's one-second burst
 * allowance is never spent at once.
 */
const PACING_SECONDS = 0.1;
/** Least time between two log lines about one stream's throttling. */
const THROTTLE_LOG_INTERVAL_MS = 10_000;

export interface StreamPacerOptions {
  readonly streamName: string;
  /** Most calls in flight, reached by slow start. */
  readonly maxInFlight: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** Called when a throttled stream's rate allows the batch it waited for. */
  readonly onReady: () => void;
}

/** What a settled call tells the pacer about the stream. */
export interface CallFeedback {
  /** What Firehose accepted. */
  readonly accepted: Amount;
  /** Records refused one by one because the stream is at its quota. */
  readonly throttled: number;
  /** Every record of the call was delivered. */
  readonly wholeDelivered: boolean;
}

/**
 * How fast one stream is sent to: how many calls may be in flight (slow start, from one up to `maxInFlight` as
 * calls go through whole) and, once Firehose has throttled the stream, how much each call carries and when, from
 * the rate the stream was learnt to accept (`adaptive-rate.ts`).
 */
export class StreamPacer {
  private readonly rate = new AdaptiveRate();
  private window = 1;
  /** Set while the stream waits for its rate to allow the next batch. */
  private timer?: NodeJS.Timeout;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: StreamPacerOptions) {}

  /** Calls that may be in flight now. */
  get callWindow(): number {
    return this.window;
  }

  /** True while a batch waits for the rate to allow it. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /**
   * How much the next call may carry, of `ready` records and bytes within `maxBytes`: a full batch while the stream
   * was never throttled; otherwise what its rate allows, a tenth of a second's worth at a time. Undefined, with
   * `onReady` due when it does, while the rate allows no batch yet.
   */
  nextBatch(
    readyRecords: number,
    readyBytes: number,
    maxBytes: number,
  ): { records: number; bytes: number } | undefined {
    if (!this.rate.limited) return { records: FirehoseLimits.maxBatchRecords, bytes: maxBytes };
    if (this.timer) return undefined;
    const now = this.options.now();
    const recordBytes = readyBytes / readyRecords;
    const limit = this.rate.rate;
    const perStep = Math.floor(Math.min(limit.records, limit.bytes / recordBytes) * PACING_SECONDS);
    const records = Math.max(1, Math.min(readyRecords, FirehoseLimits.maxBatchRecords, perStep));
    const waitMs = this.rate.waitMs(now, { records, bytes: records * recordBytes });
    if (waitMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.options.onReady();
      }, waitMs);
      return undefined;
    }
    const allowance = this.rate.allowance(now);
    return { records: Math.min(records, allowance.records), bytes: Math.min(maxBytes, allowance.bytes) };
  }

  /** Counts a call as sent. */
  spend(records: number, bytes: number): void {
    this.rate.spend(this.options.now(), { records, bytes });
  }

  /**
   * Learns from a call sent at `sentAt`; `stalled` means the stream refused everything for a while and calls for
   * a backoff rather than a lower rate.
   */
  settle(sentAt: number, call: CallFeedback): 'ok' | 'slowed' | 'stalled' {
    const verdict = this.rate.settle(this.options.now(), sentAt, call.accepted, call.throttled);
    // Slow start: one call at a time until calls go through whole, so that a stream at its quota is not sent
    // four full batches before its first answer says so.
    if (call.wholeDelivered) {
      this.window = Math.min(this.options.maxInFlight, this.window + 1);
    }
    if (verdict === 'slowed') this.logThrottling(call.throttled);
    return verdict;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private logThrottling(records: number): void {
    const now = this.options.now();
    if (now - this.loggedAt < THROTTLE_LOG_INTERVAL_MS) return;
    this.loggedAt = now;
    const { records: recordsPerSecond, bytes: bytesPerSecond } = this.rate.rate;
    this.options.logger.warn('Firehose is throttling the stream (at its quota); sending more slowly', {
      stream: this.options.streamName,
      refusedRecords: records,
      recordsPerSecond: Math.round(recordsPerSecond),
      bytesPerSecond: Math.round(bytesPerSecond),
    });
  }
}
