import { FirehoseLimits } from './limits';

/** A queued message as packing sees it: its bytes, its separator included. */
export interface PackableMessage {
  readonly data: Buffer;
}

/** One Firehose record and the messages it carries, in queue order. */
export interface PackedRecord<M extends PackableMessage> {
  readonly messages: readonly M[];
  /** The messages' bytes, one after the other. */
  readonly data: Buffer;
}

/**
 * Packs consecutive messages into Firehose records of at most `maxRecordBytes` each, in order: a record takes the
 * next message while it fits, and the next record starts with the first one that does not. Firehose writes the
 * records of a stream one after the other into its S3 objects, so the objects hold the same bytes as with one
 * record per message, while each record is billed once (`billing.ts`) instead of once per message. A message is
 * never split, and one over the limit (which intake refuses) still goes, alone.
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
    const data = packed.length === 1 ? packed[0].data : concat(packed, bytes);
    records.push({ messages: packed, data });
    start = end;
  }
  return records;
}

/** One record per message: the v1 connector's way, and that of a stream without packing. */
export function oneRecordPerMessage<M extends PackableMessage>(messages: readonly M[]): PackedRecord<M>[] {
  return messages.map((message) => ({ messages: [message], data: message.data }));
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

function concat(messages: readonly PackableMessage[], bytes: number): Buffer {
  const data = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const message of messages) offset += message.data.copy(data, offset);
  return data;
}
