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

/** Keeps records in an array with a moving head, so taking from the front stays O(1) per record. */
export class MemoryRecordStore implements RecordStore {
  readonly durable = false;
  private ready: QueuedRecord[] = [];
  private head = 0;
  private leasedCount = 0;
  private leasedBytes = 0;
  private _readyBytes = 0;

  get count(): number {
    return this.readyCount + this.leasedCount;
  }

  get bytes(): number {
    return this._readyBytes + this.leasedBytes;
  }

  get readyCount(): number {
    return this.ready.length - this.head;
  }

  get readyBytes(): number {
    return this._readyBytes;
  }

  append(record: QueuedRecord): Promise<void> {
    this.push(record);
    return Promise.resolve();
  }

  lease(maxRecords: number, maxBytes: number): QueuedRecord[] {
    const taken: QueuedRecord[] = [];
    let bytes = 0;
    while (this.head < this.ready.length && taken.length < maxRecords) {
      const record = this.ready[this.head];
      if (taken.length > 0 && bytes + record.data.length > maxBytes) break;
      taken.push(record);
      bytes += record.data.length;
      this.head++;
    }
    this.compact();
    this._readyBytes -= bytes;
    this.leasedCount += taken.length;
    this.leasedBytes += bytes;
    return taken;
  }

  release(records: readonly QueuedRecord[]): Promise<void> {
    this.unlease(records);
    return Promise.resolve();
  }

  requeue(records: readonly QueuedRecord[]): Promise<void> {
    this.unlease(records);
    for (const record of records) this.push(record);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private push(record: QueuedRecord): void {
    this.ready.push(record);
    this._readyBytes += record.data.length;
  }

  private unlease(records: readonly QueuedRecord[]): void {
    for (const record of records) {
      this.leasedCount--;
      this.leasedBytes -= record.data.length;
    }
  }

  /** Drops consumed slots once they are the larger part of the array, keeping memory proportional to the queue. */
  private compact(): void {
    if (this.head === this.ready.length) {
      this.ready = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
  }
}
