import { FirehoseLimits } from './limits';
import type { FirehoseRecord } from './request-body';

/** A queued message as packing sees it: its bytes, its separator included. */
export interface PackableMessage {
  readonly data: Buffer;
}

/** One Firehose record and the messages it carries, in queue order: its parts are their bytes. */
export interface PackedRecord<M extends PackableMessage> extends FirehoseRecord {
  readonly messages: readonly M[];
}

/**
 * Packs consecutive messages into Firehose records of at most `maxRecordBytes` each, in order: a record takes the
 * next message while it fits, and the next record starts with the first one that does not. Firehose writes the
 * records of a stream one after the other into its S3 objects, so the objects hold the same bytes as with one
 * record per message, while each record is billed once (`billing.ts`) instead of once per message. A message is
 * never split, and one over the limit (which intake refuses) still goes, alone. The messages' bytes are not
 * copied: the request body is written from them (`request-body.ts`).
 */
export function packMessages<M extends PackableMessage>(
  messages: readonly M[],
  maxRecordBytes: number = FirehoseLimits.maxRecordBytes,
): PackedRecord<M>[] {
  const records: PackedRecord<M>[] = [];
  let start = 0;
  while (start < messages.length) {
    let bytes = messages[start].data.length;
    let end = start + 1;
    while (end < messages.length && bytes + messages[end].data.length <= maxRecordBytes) {
      bytes += messages[end].data.length;
      end++;
    }
    const packed = messages.slice(start, end);
    records.push({ messages: packed, parts: packed.map((message) => message.data), bytes });
    start = end;
  }
  return records;
}

/** One record per message: the v1 connector's way, and that of a stream without packing. */
export function oneRecordPerMessage<M extends PackableMessage>(messages: readonly M[]): PackedRecord<M>[] {
  return messages.map((message) => ({
    messages: [message],
    parts: [message.data],
    bytes: message.data.length,
  }));
}

/**
 * The most message bytes that `packMessages` always packs into at most `records` records, whatever their sizes: it
 * starts a record only when the next message does not fit in the last one, so any two neighbouring records
 * together hold more than the limit, and `2k - 1` records need more than `k - 1` limits of bytes.
 */
export function bytesPackedInto(
  records: number,
  maxRecordBytes: number = FirehoseLimits.maxRecordBytes,
): number {
  return Math.floor((Math.max(1, records) + 1) / 2) * maxRecordBytes;
}
