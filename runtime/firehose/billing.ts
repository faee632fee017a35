/**
 * What Firehose bills a Direct PUT record for: its size rounded up to the next 5 KB, 5,120 bytes, record by record
 * (not call by call: the FAQ's `PutRecordBatch` of two 1 KB records is metered as 10 KB). A 200-byte record is
 * billed as 5,120 bytes, 25.6 times its size, which is why the connector can pack messages (`record-packing.ts`).
 * @see https://aws.amazon.com/firehose/pricing/ ("priced per GB ingested in 5KB increments (a 3KB record is billed
 *   as 5KB, a 12KB record is billed as 15KB)")
 * @see https://aws.amazon.com/de/kinesis/data-firehose/pricing/ (the same page in German spells the unit out:
 *   "auf die nächsten 5 KB (5 120 Bytes) aufgerundeten Größe")
 * @see https://aws.amazon.com/firehose/faqs/
 */
const BILLING_INCREMENT_BYTES = 5120;

/** The bytes Firehose bills for one record of `recordBytes` bytes. */
export function billedBytes(recordBytes: number): number {
  return Math.ceil(recordBytes / BILLING_INCREMENT_BYTES) * BILLING_INCREMENT_BYTES;
}
