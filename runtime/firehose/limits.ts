/**
 * Firehose's per-call limits.
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
export const FirehoseLimits = {
  /** Records in one PutRecordBatch call. */
  maxBatchRecords: 500,
  /** Bytes of data in one PutRecordBatch call: 4 MiB. */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Bytes of one record before base64 encoding: 1,000 KiB. */
  maxRecordBytes: 1_024_000,
} as const;
