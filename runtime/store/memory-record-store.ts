import type { QueuedRecord, RecordStore } from './record-store';

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

  nextEnqueuedAt(): number | undefined {
    return this.head < this.ready.length ? this.ready[this.head].enqueuedAt : undefined;
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
