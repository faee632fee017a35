/**
 * The JSON bodies of PutRecordBatch and PutRecord, written straight into one buffer: each record's bytes once as
 * base64, and nothing else per record. The SDK's own serializer walks the request through its schema record by
 * record, and the HTTP layer then encodes the resulting string again; the client still signs, sends and retries.
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
export function putRecordBatchBody(streamName: string, records: readonly Buffer[]): Buffer {
  return jsonBody(`{"DeliveryStreamName":${JSON.stringify(streamName)},"Records":[`, records, ']}');
}

export function putRecordBody(streamName: string, data: Buffer): Buffer {
  return jsonBody(`{"DeliveryStreamName":${JSON.stringify(streamName)},"Record":`, [data], '}');
}

const ENTRY_START = '{"Data":"';
const ENTRY_END = '"}';

function jsonBody(start: string, records: readonly Buffer[], end: string): Buffer {
  let size = start.length + end.length + Math.max(0, records.length - 1);
  for (const record of records) size += ENTRY_START.length + base64Length(record.length) + ENTRY_END.length;
  const body = Buffer.allocUnsafe(size);
  let offset = body.write(start, 0, 'latin1');
  records.forEach((record, index) => {
    if (index > 0) offset = body.writeUInt8(0x2c, offset);
    offset += body.write(ENTRY_START, offset, 'latin1');
    offset += body.write(record.toString('base64'), offset, 'latin1');
    offset += body.write(ENTRY_END, offset, 'latin1');
  });
  body.write(end, offset, 'latin1');
  return body;
}

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}
