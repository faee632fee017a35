import { putRecordBatchBody, putRecordBody } from '../../../runtime/firehose/request-body';

describe('the prebuilt Firehose request bodies', () => {
  it('write every record of a batch as base64 in a PutRecordBatch body, byte for byte', () => {
    // Prepare: lengths that give each base64 padding, and bytes that are not text.
    const records = [0, 1, 2, 3, 4, 1000].map((length) =>
      Buffer.from(Array.from({ length }, (_, i) => (i * 37) % 256)),
    );

    // Act
    const body = putRecordBatchBody('my-stream.v2', records);

    // Assess
    const parsed = JSON.parse(body.toString('latin1')) as {
      DeliveryStreamName: string;
      Records: { Data: string }[];
    };
    expect(parsed.DeliveryStreamName).toBe('my-stream.v2');
    expect(parsed.Records.map((entry) => Buffer.from(entry.Data, 'base64'))).toEqual(records);
    expect(Object.keys(parsed)).toEqual(['DeliveryStreamName', 'Records']);
  });

  it('write one record in a PutRecord body', () => {
    const data = Buffer.from('{"temperature":21.5}\n');

    const body = putRecordBody('s1', data);

    expect(JSON.parse(body.toString('latin1'))).toEqual({
      DeliveryStreamName: 's1',
      Record: { Data: data.toString('base64') },
    });
  });
});
