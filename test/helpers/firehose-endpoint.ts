/**
 * The local Firehose service (runtime/local/firehose-service.ts) instrumented for tests and the benchmark: it keeps
 * the records it accepts and a log of recent calls, tells listeners and waiters about records, injects faults
 * (firehose-faults.ts) and can be taken offline and back.
 */
import {
  type AcceptedRecord,
  type AcceptedRecordsEvent,
  type FirehoseCall,
  FirehoseService,
  type FirehoseServiceOptions,
  type FirehoseServiceStats,
} from '../../runtime/local/firehose-service';
import { HttpListener } from '../../runtime/local/http-listener';
import {
  type CallFaultOptions,
  FirehoseFaults,
  type HangOptions,
  type RecordFaultOptions,
} from './firehose-faults';

export type { AcceptedRecord, AcceptedRecordsEvent, FirehoseCall };

export interface TestFirehoseEndpointOptions extends Omit<FirehoseServiceOptions, 'hook'> {
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on; 0 lets the system pick a free one, read back from `port`.
   * @default 0
   */
  readonly port?: number;
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

export class TestFirehoseEndpoint {
  /** Starts an endpoint and resolves once it accepts connections. */
  static async start(options: TestFirehoseEndpointOptions = {}): Promise<TestFirehoseEndpoint> {
    const endpoint = new TestFirehoseEndpoint(options);
    await endpoint.listener.listen(options.port ?? 0);
    return endpoint;
  }

  private readonly service: FirehoseService;
  private readonly listener: HttpListener;
  private readonly faults = new FirehoseFaults();
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
  private stopped = false;

  private constructor(options: TestFirehoseEndpointOptions) {
    this.keepRecords = options.keepRecords ?? true;
    this.callLogSize = options.callLogSize ?? 10_000;
    if (!(Number.isInteger(this.callLogSize) && this.callLogSize >= 1)) {
      throw new Error(`callLogSize must be a positive integer, got ${this.callLogSize}`);
    }
    this.service = new FirehoseService({
      ...options,
      hook: {
        beforeCall: (call) => this.faults.beforeCall(call),
        failRecord: () => this.faults.failRecord(),
        afterCall: (call) => this.logCall(call),
        onRecords: (event) => this.storeRecords(event),
      },
    });
    this.listener = new HttpListener(options.host ?? '127.0.0.1', (request, response) => {
      void this.service.handle(request, response);
    });
  }

  /** Base URL for the SDK's `endpoint` option or `AWS_ENDPOINT_URL_FIREHOSE`. */
  get url(): string {
    return this.listener.url;
  }

  /** The port listened on; it stays the same across `pause()` and `resume()`. */
  get port(): number {
    return this.listener.port;
  }

  /** The most recent calls (up to `callLogSize`), oldest first. */
  get calls(): readonly FirehoseCall[] {
    return [...this.callLog.slice(this.nextSlot), ...this.callLog.slice(0, this.nextSlot)];
  }

  get callTotals(): Readonly<CallTotals> {
    return structuredClone(this.totals);
  }

  get stats(): FirehoseServiceStats {
    return this.service.stats;
  }

  /** Accepted records, oldest first, of one stream or of all. Empty when `keepRecords` is off. */
  records(streamName?: string): AcceptedRecord[] {
    return streamName === undefined
      ? [...this.accepted]
      : this.accepted.filter((record) => record.streamName === streamName);
  }

  addStream(streamName: string): void {
    this.service.addStream(streamName);
  }

  removeStream(streamName: string): void {
    this.service.removeStream(streamName);
  }

  /** Forgets accepted records, the call log, the totals and the stats; streams, faults and latency stay. */
  clear(): void {
    this.accepted.length = 0;
    this.callLog = [];
    this.nextSlot = 0;
    this.acceptedByStream.clear();
    this.totals = noCalls();
    this.service.resetStats();
  }

  /**
   * Calls `listener` after every call that stored records, before the call is answered. Returns a function that
   * removes the listener. An exception thrown by a listener is rethrown asynchronously and does not fail the call.
   */
  onRecords(listener: (event: AcceptedRecordsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the stream's records once at least `count` have been accepted for it (counting records accepted
   * before the call); rejects after `timeoutMs` saying how many arrived. With `keepRecords` off it resolves with [].
   */
  waitForRecords(streamName: string, count: number, timeoutMs = 10_000): Promise<AcceptedRecord[]> {
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

  /**
   * Fails whole calls with an error response, by default the throttling answer of the service:
   * ServiceUnavailableException, HTTP 503, "Slow down.". The SDK retries 5xx and throttling errors by itself; give
   * the client `maxAttempts: 1` to see every failure. Replaces any earlier call fault.
   */
  failCalls(options: CallFaultOptions = {}): void {
    this.faults.failCalls(options);
  }

  /**
   * Fails individual records: PutRecordBatch answers them with `ErrorCode`/`ErrorMessage` and counts them in
   * `FailedPutCount`, storing the others; PutRecord fails the whole call with the code. Replaces any earlier record
   * fault.
   */
  failRecords(options: RecordFaultOptions = {}): void {
    this.faults.failRecords(options);
  }

  /** Leaves calls unanswered so clients hit their request timeout. Replaces any earlier hang fault. */
  hangCalls(options: HangOptions = {}): void {
    this.faults.hangCalls(options);
  }

  /** Delays every answer by `latencyMs` (0 removes the delay). */
  setLatency(latencyMs: number): void {
    this.faults.setLatency(latencyMs);
  }

  /** Removes every call, record and hang fault and the added latency. Calls already hanging stay unanswered. */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Stops listening and cuts every open connection: new connections are refused (ECONNREFUSED), and a client's
   * kept-alive connection fails its next call with ECONNRESET ("socket hang up"), as when the service is
   * unreachable. A call cut while waiting out `setLatency` is dropped; one cut later may still be stored although its
   * client saw an error, as can happen with the service.
   */
  async pause(): Promise<void> {
    await this.listener.close();
  }

  /** Listens again on the same port after `pause()`. */
  async resume(): Promise<void> {
    if (this.stopped) throw new Error('The local Firehose endpoint was stopped; start a new one.');
    await this.listener.listen(this.listener.port);
  }

  /** Stops listening, cuts every connection and waits for objects being written to `dataDir`. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener.close();
    await this.service.settled();
  }

  private logCall(call: FirehoseCall): void {
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

  private storeRecords(event: AcceptedRecordsEvent): void {
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
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
