/**
 * What a stream counts (messages in, out and refused; Firehose calls, records and billed bytes) and what a snapshot
 * of it adds: read by the stats line, the metrics and the registry's totals of released streams.
 */

export interface StreamStats {
  readonly stream: string;
  /** Messages accepted into the queue, each a record unless packed. */
  received: number;
  /** Records refused because the queue or the memory budget was full. */
  rejected: number;
  /** Queued records dropped to make room for new ones (`dropOldest`). */
  dropped: number;
  delivered: number;
  /** Records reported as failed after intake (service errors, retries exhausted, shutdown). */
  failed: number;
  /** Record sends that failed with a retryable error and went back to the queue. */
  retried: number;
  /** Records Firehose refused one by one because the stream was at its quota (counted in `retried` too). */
  throttled: number;
  calls: number;
  /** Firehose records accepted: one per delivered message, or fewer with `RecordPacking`. */
  records: number;
  /** Bytes of the Firehose records accepted. */
  bytes: number;
  /** What Firehose bills for those records: each rounded up to the next 5 KB. */
  billedBytes: number;
}

/** A stream's counts without its name: what totals over streams add up. */
export type StreamCounts = Omit<StreamStats, 'stream'>;

/** A stream's counts, all zero: a new stream's, or the start of a total over streams. */
export function zeroCounts(): StreamCounts {
  return {
    received: 0,
    rejected: 0,
    dropped: 0,
    delivered: 0,
    failed: 0,
    retried: 0,
    throttled: 0,
    calls: 0,
    records: 0,
    bytes: 0,
    billedBytes: 0,
  };
}

/** A stream's counters with the records it holds now. */
export interface StreamSnapshot extends StreamStats {
  readonly queued: number;
  /** Age of the oldest record at the head of the queue or in a call; 0 when none. */
  readonly oldestAgeMs: number;
}
