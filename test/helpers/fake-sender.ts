import type { DeliveryStreamTarget } from '../../runtime/delivery-stream-arn';
import type { RecordOutcome, RecordSender } from '../../runtime/firehose-sender';
import type { QueuedRecord } from '../../runtime/record-store';

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
