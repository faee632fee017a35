/**
 * What the instrumented Firehose endpoint remembers of its calls, through the service's hook: the records it
 * accepted, the most recent calls and totals over every call, with listeners and waiters for new records.
 */
import type {
  AcceptedRecord,
  AcceptedRecordsEvent,
  FirehoseCall,
  FirehoseServiceHook,
} from '../../runtime/local/firehose-service';

export interface RecorderOptions {
  /**
   * Keep every accepted record in memory for `records()` and `waitForRecords()`. Turn it off for long benchmarks;
   * the call log, the totals and `onRecords` listeners keep working.
   * @default true
   */
  readonly keepRecords?: boolean;
  /**
   * Calls kept in `calls`, the most recent ones; `callTotals` counts every call.
   * @default 10000
   */
  readonly callLogSize?: number;
}

/** Counts over every call since the start or `clear()`, however long the run. */
export interface CallTotals {
  calls: number;
  putRecord: number;
  putRecordBatch: number;
  /** Calls by outcome. */
  outcomes: Record<FirehoseCall['outcome'], number>;
  /** Records stored, by all calls and by PutRecordBatch calls. */
  storedRecords: number;
  storedBatchRecords: number;
}

interface RecordsWaiter {
  readonly streamName: string;
  readonly count: number;
  readonly resolve: () => void;
}

function noCalls(): CallTotals {
  return {
    calls: 0,
    putRecord: 0,
    putRecordBatch: 0,
    outcomes: { accepted: 0, partial: 0, rejected: 0, hung: 0 },
    storedRecords: 0,
    storedBatchRecords: 0,
  };
}

export class FirehoseRecorder implements Required<Pick<FirehoseServiceHook, 'afterCall' | 'onRecords'>> {
  private readonly keepRecords: boolean;
  private readonly callLogSize: number;
  private readonly accepted: AcceptedRecord[] = [];
  private readonly acceptedByStream = new Map<string, number>();
  /** The last `callLogSize` calls; once full, `nextSlot` is the oldest. */
  private callLog: FirehoseCall[] = [];
  private nextSlot = 0;
  private totals = noCalls();
  private readonly listeners = new Set<(event: AcceptedRecordsEvent) => void>();
  private readonly waiters = new Set<RecordsWaiter>();

  constructor(options: RecorderOptions = {}) {
    this.keepRecords = options.keepRecords ?? true;
    this.callLogSize = options.callLogSize ?? 10_000;
    if (!(Number.isInteger(this.callLogSize) && this.callLogSize >= 1)) {
      throw new Error(`callLogSize must be a positive integer, got ${this.callLogSize}`);
    }
  }

  /** The most recent calls (up to `callLogSize`), oldest first. */
  get calls(): readonly FirehoseCall[] {
    return [...this.callLog.slice(this.nextSlot), ...this.callLog.slice(0, this.nextSlot)];
  }

  get callTotals(): Readonly<CallTotals> {
    return structuredClone(this.totals);
  }

  records(streamName?: string): AcceptedRecord[] {
    return streamName === undefined
      ? [...this.accepted]
      : this.accepted.filter((record) => record.streamName === streamName);
  }

  clear(): void {
    this.accepted.length = 0;
    this.acceptedByStream.clear();
    this.callLog = [];
    this.nextSlot = 0;
    this.totals = noCalls();
  }

  addListener(listener: (event: AcceptedRecordsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForRecords(streamName: string, count: number, timeoutMs: number): Promise<AcceptedRecord[]> {
    if ((this.acceptedByStream.get(streamName) ?? 0) >= count) {
      return Promise.resolve(this.records(streamName));
    }
    return new Promise((resolve, reject) => {
      const waiter: RecordsWaiter = {
        streamName,
        count,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.records(streamName));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const received = this.acceptedByStream.get(streamName) ?? 0;
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${count} records on delivery stream ${streamName}; ${received} arrived.`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  afterCall(call: FirehoseCall): void {
    if (this.callLog.length < this.callLogSize) this.callLog.push(call);
    else this.callLog[this.nextSlot] = call;
    this.nextSlot = (this.nextSlot + 1) % this.callLogSize;
    const totals = this.totals;
    totals.calls++;
    if (call.operation === 'PutRecord') totals.putRecord++;
    if (call.operation === 'PutRecordBatch') totals.putRecordBatch++;
    totals.outcomes[call.outcome]++;
    const stored =
      call.outcome === 'accepted' || call.outcome === 'partial'
        ? call.recordCount - call.failedRecordCount
        : 0;
    totals.storedRecords += stored;
    if (call.operation === 'PutRecordBatch') totals.storedBatchRecords += stored;
  }

  onRecords(event: AcceptedRecordsEvent): void {
    const { streamName, records } = event;
    if (this.keepRecords) this.accepted.push(...records);
    const total = (this.acceptedByStream.get(streamName) ?? 0) + records.length;
    this.acceptedByStream.set(streamName, total);
    for (const waiter of this.waiters) {
      if (waiter.streamName === streamName && total >= waiter.count) waiter.resolve();
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not fail the call it was told about.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
