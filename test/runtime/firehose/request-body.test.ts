import { putRecordBatchBody, putRecordBody } from '../../../runtime/firehose/request-body';

/** A record of one part, as a message that is not packed. */
const single = (data: Buffer) => ({ parts: [data], bytes: data.length });

/** Bytes that are not text, `length` of them, from `seed`. */
const bytesOf = (length: number, seed = 0) =>
  Buffer.from(Array.from({ length }, (_, i) => (i * 37 + seed) % 256));

function decodedRecords(body: Buffer): { name: string; records: Buffer[] } {
  const parsed = JSON.parse(body.toString('latin1')) as {
    DeliveryStreamName: string;
    Records: { Data: string }[];
  };
  return {
    name: parsed.DeliveryStreamName,
    records: parsed.Records.map((entry) => Buffer.from(entry.Data, 'base64')),
  };
}

describe('the prebuilt Firehose request bodies', () => {
  it('write every record of a batch as base64 in a PutRecordBatch body, byte for byte', () => {
    // Prepare: lengths that give each base64 padding, and bytes that are not text.
    const records = [0, 1, 2, 3, 4, 1000].map((length) => bytesOf(length));

    // Act
    const body = putRecordBatchBody('my-stream.v2', records.map(single));

    // Assess
    expect(decodedRecords(body)).toEqual({ name: 'my-stream.v2', records });
    expect(Object.keys(JSON.parse(body.toString('latin1')) as object)).toEqual([
      'DeliveryStreamName',
      'Records',
    ]);
  });

  it('write a packed record as the base64 of its messages one after the other, across any boundary', () => {
    // Prepare: parts whose lengths leave every remainder of 3, and together more than the 48 KiB scratch twice.
    const lengths = [1, 2, 4, 49_151, 0, 5, 100_000, 7];
    const parts = lengths.map((length, index) => bytesOf(length, index));
    const bytes = lengths.reduce((total, length) => total + length, 0);

    // Act
    const body = putRecordBatchBody('s1', [{ parts, bytes }, single(bytesOf(10))]);

    // Assess
    const { records } = decodedRecords(body);
    expect(records[0].equals(Buffer.concat(parts))).toBe(true);
    expect(records[1]).toEqual(bytesOf(10));
  });

  it('write one record in a PutRecord body', () => {
    const data = Buffer.from('{"temperature":21.5}\n');

    const body = putRecordBody('s1', single(data));

    expect(JSON.parse(body.toString('latin1'))).toEqual({
      DeliveryStreamName: 's1',
      Record: { Data: data.toString('base64') },
    });
  });

  it('write a packed record in a PutRecord body', () => {
    const parts = [Buffer.from('{"t":1}\n'), Buffer.from('{"t":2}\n')];

    const body = putRecordBody('s1', { parts, bytes: 16 });

    expect(JSON.parse(body.toString('latin1'))).toEqual({
      DeliveryStreamName: 's1',
      Record: { Data: Buffer.from('{"t":1}\n{"t":2}\n').toString('base64') },
    });
  });
});
