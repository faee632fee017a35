/** A record waiting in a delivery stream's queue. */
export interface QueuedRecord {
  readonly requestId: string;
  /** ARN of the delivery stream; stores that persist records need it to rebuild queues after a restart. */
  readonly streamArn: string;
  readonly data: Buffer;
  /** Epoch milliseconds when the record entered the queue, for `RecordMaxAgeSeconds`. */
  readonly enqueuedAt: number;
  /** Sends tried so far. */
  attempts: number;
}

/**
 * Where one delivery stream's records wait, in order. Records are leased for a send and then either released
 * (delivered, or failed for good) or put back at the end of the queue for a retry, as the v2-4 connector did.
 *
 * The in-memory store below is the default; a disk-backed store implements the same contract so that records
 * survive a restart. Mutations are asynchronous so such a store can resolve only once the change is durable.
 */
export interface RecordStore {
  /**
   * True when records live on disk and survive a restart: they then cost no queue memory, and shutdown leaves
   * undelivered ones for the next start instead of reporting them as failed.
   */
  readonly durable: boolean;
  /** Records held, leased ones included. */
  readonly count: number;
  /** Data bytes held, leased ones included. */
  readonly bytes: number;
  /** Records waiting to be leased. */
  readonly readyCount: number;
  /** Data bytes waiting to be leased. */
  readonly readyBytes: number;
  /** When the record `lease` returns next entered the queue; undefined when none is ready. */
  nextEnqueuedAt(): number | undefined;
  append(record: QueuedRecord): Promise<void>;
  /** Takes records from the head, in order, up to both limits (always at least one if any is ready). */
  lease(maxRecords: number, maxBytes: number): QueuedRecord[];
  /** Forgets leased records for good: delivered, or reported as failed. */
  release(records: readonly QueuedRecord[]): Promise<void>;
  /**
   * Puts leased records back at the end of the queue. Never rejects and never loses a record: a store that cannot
   * write them at the end (a disk store on a full disk) keeps them ready where they are, leased again first.
   */
  requeue(records: readonly QueuedRecord[]): Promise<void>;
  close(): Promise<void>;
}
