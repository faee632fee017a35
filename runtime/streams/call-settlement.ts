import { billedBytes, type PackedRecord, type RecordOutcome } from '../firehose';
import { failStatus, type StatusEntry, successStatus } from '../message';
import type { Amount } from '../pacing';
import type { QueuedRecord } from '../store';

/**
 * Per-record error codes that mean "the stream is at its quota": Firehose refuses the records over a stream's
 * records or bytes per second inside a `PutRecordBatch` with ServiceUnavailableException, "Slow down.".
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
]);

/** What one call's outcomes mean for its messages, as data: the dispatcher acts on it. */
export interface CallSettlement {
  /** One status per message that reached an end. */
  readonly statuses: StatusEntry[];
  /** Delivered, or failed for good: to be released from the store. */
  readonly ended: QueuedRecord[];
  /** To be sent again. */
  readonly retry: QueuedRecord[];
  /** Messages delivered. */
  readonly delivered: number;
  /** Messages failed for good. */
  readonly failed: number;
  /** What Firehose accepted: records as it counts them (a packed record is one) and their bytes. */
  readonly accepted: Amount;
  /** What Firehose bills for the records it accepted. */
  readonly billedBytes: number;
  /** Records refused one by one because the stream is at its quota. */
  readonly throttled: number;
  /**
   * The error of a call that failed as a whole (network, 5xx, credentials, a request quota), or of a call whose
   * every record failed for another retryable reason: a reason to back off rather than to slow down.
   */
  readonly callFailure?: { readonly code: string; readonly message: string };
}

/**
 * Settles a call: counts an attempt for every message, turns each record's outcome into a status, a retry or a
 * failure for each of its messages (the messages packed in one record share its record id, and a refused record
 * is retried with all of them), and says what the call tells about the stream, in records as Firehose counts them.
 * Pure but for `message.attempts`. `exhausted` says why a message has had its last attempt, if it has.
 */
export function settleCall(
  records: readonly PackedRecord<QueuedRecord>[],
  outcomes: readonly RecordOutcome[],
  exhausted: (message: QueuedRecord) => string | undefined,
): CallSettlement {
  const statuses: StatusEntry[] = [];
  const ended: QueuedRecord[] = [];
  const retry: QueuedRecord[] = [];
  let acceptedRecords = 0;
  let acceptedBytes = 0;
  let billed = 0;
  let throttled = 0;
  let failed = 0;
  let retryableFailure: RecordOutcome | undefined;
  // PutRecord, which carries a lone record (`firehose-sender.ts`), reports a stream at its quota as the call's error
  // (ServiceUnavailableException, "Slow down."), not per record: it is that record's refusal all the same, and must
  // slow the stream down as one refused inside a PutRecordBatch does, not back it off.
  // https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecord.html
  const throttling = (outcome: RecordOutcome & { ok: false }): boolean =>
    THROTTLING_CODES.has(outcome.code) && (!outcome.wholeCall || records.length === 1);
  records.forEach((record, index) => {
    const outcome = outcomes[index];
    if (outcome.ok) {
      acceptedRecords++;
      acceptedBytes += record.bytes;
      billed += billedBytes(record.bytes);
      for (const message of record.messages) {
        message.attempts++;
        statuses.push(successStatus(message.requestId, outcome.recordId));
        ended.push(message);
      }
      return;
    }
    if (outcome.retryable) {
      if (throttling(outcome)) throttled++;
      else retryableFailure ??= outcome;
    }
    for (const message of record.messages) {
      message.attempts++;
      const reason = exhausted(message);
      if (outcome.retryable && !reason) {
        retry.push(message);
        continue;
      }
      statuses.push(
        failStatus(
          message.requestId,
          outcome.code,
          reason ? `${outcome.message} (${reason})` : outcome.message,
        ),
      );
      ended.push(message);
      failed++;
    }
  });
  const delivered = ended.length - failed;
  const wholeCall = outcomes.find(
    (outcome) => !outcome.ok && outcome.wholeCall && outcome.retryable && !throttling(outcome),
  );
  const failure = wholeCall ?? (acceptedRecords === 0 && throttled === 0 ? retryableFailure : undefined);
  return {
    statuses,
    ended,
    retry,
    delivered,
    failed,
    accepted: { records: acceptedRecords, bytes: acceptedBytes },
    billedBytes: billed,
    throttled,
    callFailure: failure && !failure.ok ? { code: failure.code, message: failure.message } : undefined,
  };
}
