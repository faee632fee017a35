import type { DeliveryStreamTarget } from '../../runtime/firehose/delivery-stream';
import type { RecordOutcome, RecordSender } from '../../runtime/firehose/firehose-sender';
import type { QueuedRecord } from '../../runtime/store/record-store';

export interface SentCall {
  readonly stream: string;
  readonly data: string[];
  readonly bytes: number;
  readonly at: number;
}

/**
 * A RecordSender for unit tests of the queueing logic only; integration tests use the real SDK against the
 * local Firehose endpoint. `respond` decides each record's outcome; by default every record succeeds.
 */
export class FakeSender implements RecordSender {
  readonly calls: SentCall[] = [];
  respond: (record: QueuedRecord, callIndex: number) => RecordOutcome = () => ({ ok: true, recordId: 'id' });
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

  async send(stream: DeliveryStreamTarget, records: readonly QueuedRecord[]): Promise<RecordOutcome[]> {
    const callIndex = this.calls.length;
    this.calls.push({
      stream: stream.name,
      data: records.map((record) => record.data.toString()),
      bytes: records.reduce((total, record) => total + record.data.length, 0),
      at: Date.now(),
    });
    await this.pending;
    return records.map((record) => this.respond(record, callIndex));
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

/**
 * Answers like a stream at its quota: a bucket of `recordsPerSecond` that holds one second and refills
 * continuously (read from Date.now, so fake timers drive it); records beyond it are refused with
 * ServiceUnavailableException, "Slow down.", as Firehose refuses them inside a PutRecordBatch.
 */
export function quotaResponder(recordsPerSecond: number): {
  respond: FakeSender['respond'];
  readonly refused: number;
} {
  let tokens = recordsPerSecond;
  let refilledAt = Date.now();
  let refused = 0;
  let sequence = 0;
  return {
    respond: () => {
      const now = Date.now();
      tokens = Math.min(recordsPerSecond, tokens + ((now - refilledAt) / 1000) * recordsPerSecond);
      refilledAt = now;
      if (tokens >= 1) {
        tokens--;
        return { ok: true, recordId: `id-${++sequence}` };
      }
      refused++;
      return retryable();
    },
    get refused() {
      return refused;
    },
  };
}
