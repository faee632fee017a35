/**
 * The local Firehose endpoint (runtime/local/firehose-endpoint.ts) instrumented for tests and the benchmark: it keeps
 * what it accepts and a log of recent calls (firehose-recorder.ts), injects faults (firehose-faults.ts), and can be
 * taken offline and back. Test-only: neither bundle carries it.
 */
import {
  LocalFirehoseEndpoint,
  type LocalFirehoseEndpointOptions,
} from '../../runtime/local/firehose-endpoint';
import type {
  AcceptedRecord,
  AcceptedRecordsEvent,
  FirehoseCall,
} from '../../runtime/local/firehose-service';
import {
  type CallFaultOptions,
  FirehoseFaults,
  type HangOptions,
  type RecordFaultOptions,
} from './firehose-faults';
import { type CallTotals, FirehoseRecorder, type RecorderOptions } from './firehose-recorder';

export type { AcceptedRecord, AcceptedRecordsEvent, CallTotals, FirehoseCall };

export interface TestFirehoseEndpointOptions extends LocalFirehoseEndpointOptions, RecorderOptions {}

export class TestFirehoseEndpoint extends LocalFirehoseEndpoint {
  /** Starts an endpoint and resolves once it accepts connections. */
  static override async start(options: TestFirehoseEndpointOptions = {}): Promise<TestFirehoseEndpoint> {
    const endpoint = new TestFirehoseEndpoint(options, new FirehoseFaults(), new FirehoseRecorder(options));
    await endpoint.listener.listen(options.port ?? 0);
    return endpoint;
  }

  private stopped = false;

  private constructor(
    options: TestFirehoseEndpointOptions,
    private readonly faults: FirehoseFaults,
    private readonly recorder: FirehoseRecorder,
  ) {
    super(options, {
      beforeCall: (call) => faults.beforeCall(call),
      failRecord: () => faults.failRecord(),
      afterCall: (call) => recorder.afterCall(call),
      onRecords: (event) => recorder.onRecords(event),
    });
  }

  /** The most recent calls (up to `callLogSize`), oldest first. */
  get calls(): readonly FirehoseCall[] {
    return this.recorder.calls;
  }

  get callTotals(): Readonly<CallTotals> {
    return this.recorder.callTotals;
  }

  /** Accepted records, oldest first, of one stream or of all. Empty when `keepRecords` is off. */
  records(streamName?: string): AcceptedRecord[] {
    return this.recorder.records(streamName);
  }

  /** Makes a delivery stream exist from now on. */
  addStream(streamName: string): void {
    this.service.addStream(streamName);
  }

  /** Makes a delivery stream unknown from now on, as if it had been deleted. */
  removeStream(streamName: string): void {
    this.service.removeStream(streamName);
  }

  /** Forgets accepted records, the call log, the totals and the stats; streams, faults and latency stay. */
  clear(): void {
    this.recorder.clear();
    this.service.resetStats();
  }

  /**
   * Calls `listener` after every call that stored records, before the call is answered. Returns a function that
   * removes the listener. An exception thrown by a listener is rethrown asynchronously and does not fail the call.
   */
  onRecords(listener: (event: AcceptedRecordsEvent) => void): () => void {
    return this.recorder.addListener(listener);
  }

  /**
   * Resolves with the stream's records once at least `count` have been accepted for it (counting records accepted
   * before the call); rejects after `timeoutMs` saying how many arrived. With `keepRecords` off it resolves with [].
   */
  waitForRecords(streamName: string, count: number, timeoutMs = 10_000): Promise<AcceptedRecord[]> {
    return this.recorder.waitForRecords(streamName, count, timeoutMs);
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

  override async stop(): Promise<void> {
    this.stopped = true;
    await super.stop();
  }
}
