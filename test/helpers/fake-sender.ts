import type { DeliveryStreamTarget } from '../../runtime/firehose/delivery-stream';
import type { RecordOutcome, RecordSender } from '../../runtime/firehose/firehose-sender';
import type { PackedRecord } from '../../runtime/firehose/record-packing';
import type { FirehoseRecord } from '../../runtime/firehose/request-body';
import { StreamThrottle } from '../../runtime/local/stream-quotas';
import type { QueuedRecord } from '../../runtime/store/record-store';

export interface SentCall {
  readonly stream: string;
  /** Each Firehose record's data, as text. */
  readonly data: string[];
  /** The request ids of each record's messages: one each, unless they were packed. */
  readonly requestIds: string[][];
  readonly bytes: number;
  readonly at: number;
}

/** A record as `respond` sees it: its data and the messages in it. */
export interface SentRecord {
  readonly data: Buffer;
  /** The request id of its first message. */
  readonly requestId: string;
  readonly requestIds: readonly string[];
}

/**
 * A RecordSender for unit tests of the queueing logic only; integration tests use the real SDK against the
 * local Firehose endpoint. `respond` decides each record's outcome; by default every record succeeds.
 */
export class FakeSender implements RecordSender {
  readonly calls: SentCall[] = [];
  respond: (record: SentRecord, callIndex: number) => RecordOutcome = () => ({ ok: true, recordId: 'id' });
  private pending?: Promise<void>;

  /** Holds every send until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.pending = new Promise((resolve) => (release = resolve));
    return () => {
      this.pending = undefined;
      release();
    };
  }

  async send(stream: DeliveryStreamTarget, records: readonly FirehoseRecord[]): Promise<RecordOutcome[]> {
    const callIndex = this.calls.length;
    // The dispatcher sends the packed records it built, each with its messages.
    const sent = records.map((record): SentRecord => {
      const requestIds = (record as PackedRecord<QueuedRecord>).messages.map((message) => message.requestId);
      return { data: Buffer.concat(record.parts), requestId: requestIds[0], requestIds };
    });
    this.calls.push({
      stream: stream.name,
      data: sent.map((record) => record.data.toString()),
      requestIds: sent.map((record) => [...record.requestIds]),
      bytes: records.reduce((total, record) => total + record.bytes, 0),
      at: Date.now(),
    });
    await this.pending;
    return sent.map((record) => this.respond(record, callIndex));
  }

  get recordsSent(): number {
    return this.calls.reduce((total, call) => total + call.data.length, 0);
  }
}

export function retryable(code = 'ServiceUnavailableException', message = 'Slow down.'): RecordOutcome {
  return { ok: false, code, message, retryable: true };
}

export function permanent(code: string, message: string): RecordOutcome {
  return { ok: false, code, message, retryable: false };
}

/** A quota no test reaches: StreamThrottle takes finite quotas only. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * Answers like a stream at its quota: the local endpoint's buckets of `recordsPerSecond` records and
 * `bytesPerSecond` bytes (read from Date.now, so fake timers drive them); records beyond either are refused with
 * ServiceUnavailableException, "Slow down.", as Firehose refuses them inside a PutRecordBatch.
 */
export function quotaResponder(
  recordsPerSecond: number,
  bytesPerSecond = UNLIMITED,
): {
  respond: FakeSender['respond'];
  readonly refused: number;
} {
  const throttle = new StreamThrottle(
    { recordsPerSecond, bytesPerSecond, requestsPerSecond: UNLIMITED },
    () => Date.now(),
  );
  let refused = 0;
  let sequence = 0;
  return {
    respond: (record) => {
      if (throttle.admitRecord(record.data.length)) return { ok: true, recordId: `id-${++sequence}` };
      refused++;
      return retryable();
    },
    get refused() {
      return refused;
    },
  };
}
