import { type DeliveryStreamTarget, parseDeliveryStreamArn } from '../../runtime/firehose/delivery-stream';
import type { IncomingRecord } from '../../runtime/message/parse-message';
import type { QueuedRecord } from '../../runtime/store/record-store';

/**
 * Test data for the unit tests, made in one place (as Powertools' test factories are): delivery streams, records
 * as a queue holds them, and records as intake hands them over.
 */

export const TEST_ACCOUNT = '123456789012';

/** When `queuedRecord(0)` entered its queue; record `index` entered `index` ms later. */
export const TEST_ENQUEUED_AT = 1_764_000_000_123;

/** The ARN of delivery stream `name` in the test account. */
export function streamArn(name = 's1', region = 'us-east-1'): string {
  return `arn:aws:firehose:${region}:${TEST_ACCOUNT}:deliverystream/${name}`;
}

/** Delivery stream `name` as the connector addresses it. */
export function testStream(name = 's1', region = 'us-east-1'): DeliveryStreamTarget {
  const stream = parseDeliveryStreamArn(streamArn(name, region));
  if (!stream) throw new Error(`Not a delivery stream name: ${name}`);
  return stream;
}

/** Record `index` of stream `s1` as a queue holds it: request id `r<index>`, data `record <index>`. */
export function queuedRecord(index: number, overrides: Partial<QueuedRecord> = {}): QueuedRecord {
  return {
    requestId: `r${index}`,
    streamArn: streamArn(),
    data: Buffer.from(`record ${index}`),
    enqueuedAt: TEST_ENQUEUED_AT + index,
    attempts: 0,
    ...overrides,
  };
}

/** Record `index` with `dataBytes` bytes of data, for tests that count bytes. */
export function sizedRecord(
  index: number,
  dataBytes: number,
  overrides: Partial<QueuedRecord> = {},
): QueuedRecord {
  return queuedRecord(index, { data: Buffer.alloc(dataBytes, 0x61 + (index % 26)), ...overrides });
}

/**
 * Records that a store must keep byte for byte: every byte value, empty data under a non-ASCII request id, 300 KB
 * with attempts counted, and an empty request id.
 */
export function variedRecords(): QueuedRecord[] {
  return [
    queuedRecord(0, { data: Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)) }),
    queuedRecord(1, { requestId: 'élan/温度/🚀', data: Buffer.alloc(0) }),
    queuedRecord(2, { data: Buffer.alloc(300_000, 0x5a), attempts: 7 }),
    queuedRecord(3, { requestId: '' }),
  ];
}

/** A record as intake hands it to its stream's dispatcher: `dataBytes` bytes of `a`. */
export function incomingRecord(requestId: string, dataBytes = 10, stream = testStream()): IncomingRecord {
  return { requestId, stream, data: Buffer.alloc(dataBytes, 'a') };
}

/** The request ids of `records`, in order: what most assertions on a queue's order compare. */
export function requestIds(records: readonly Pick<QueuedRecord, 'requestId'>[]): string[] {
  return records.map((record) => record.requestId);
}
