import { parseDeliveryStreamArn } from '../../runtime/delivery-stream-arn';
import { MessageContext, parseMessage, Topics } from '../../runtime/messages';

const DEFAULT_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/default-stream';
const OTHER_ARN = 'arn:aws:firehose:eu-central-1:123456789012:deliverystream/stream2-name';

function context(separator = ''): MessageContext {
  return { defaultStream: parseDeliveryStreamArn(DEFAULT_ARN)!, recordSeparator: Buffer.from(separator) };
}

function json(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

describe('parseMessage', () => {
  it('turns the seed example into a record for the overriding stream', () => {
    const intake = parseMessage(
      Topics.json,
      json({
        request: { delivery_stream_arn: OTHER_ARN, data: 'Data to send to the delivery stream.' },
        id: 'request123',
      }),
      context(),
    );

    expect(intake).toEqual({
      record: {
        requestId: 'request123',
        stream: parseDeliveryStreamArn(OTHER_ARN),
        data: Buffer.from('Data to send to the delivery stream.'),
      },
    });
  });

  it('sends to the default stream when no ARN is given and uses an empty id when none is given', () => {
    const intake = parseMessage(Topics.json, json({ request: { data: 'x' } }), context());

    expect(intake).toMatchObject({ record: { requestId: '', stream: { arn: DEFAULT_ARN } } });
  });

  it('sends a string as its UTF-8 bytes', () => {
    const intake = parseMessage(Topics.json, json({ request: { data: 'héllo ✓' } }), context());

    expect('record' in intake && intake.record.data).toEqual(Buffer.from('héllo ✓', 'utf8'));
  });

  it.each([
    [{ temperature: 21.5, unit: 'C' }, '{"temperature":21.5,"unit":"C"}'],
    [[1, 2, 3], '[1,2,3]'],
    [42, '42'],
    [false, 'false'],
  ])('sends the non-string data %j as its JSON text', (data, text) => {
    const intake = parseMessage(Topics.json, json({ request: { data } }), context());

    expect('record' in intake && intake.record.data.toString()).toBe(text);
  });

  it('appends the record separator', () => {
    const intake = parseMessage(Topics.json, json({ request: { data: 'a' } }), context('\r\n'));

    expect('record' in intake && intake.record.data.toString()).toBe('a\r\n');
  });

  it('takes the id of a binary message from the topic and the bytes as they are', () => {
    const payload = Buffer.from([0, 255, 10, 13, 0x7b]);

    const intake = parseMessage('kinesisfirehose/message/binary/request123', payload, context());

    expect(intake).toEqual({
      record: { requestId: 'request123', stream: parseDeliveryStreamArn(DEFAULT_ARN), data: payload },
    });
  });

  it.each([
    ['kinesisfirehose/message/binary/', ''],
    ['kinesisfirehose/message/binary', ''],
    ['kinesisfirehose/message/binary/a/b', 'a/b'],
  ])('gives the binary topic %s the id %j', (topic, id) => {
    expect(parseMessage(topic, Buffer.from('x'), context())).toMatchObject({ record: { requestId: id } });
  });

  it.each([
    ['a payload that is not JSON', '{"request":', 'InvalidJson', /^Payload is not JSON/, ''],
    ['a JSON array', '[1]', 'InvalidRequest', /"request" object/, ''],
    ['a message without request', { id: 'r1' }, 'InvalidRequest', /"request" must be an object/, 'r1'],
    [
      'a request without data',
      { request: {}, id: 'r2' },
      'InvalidRequest',
      /"request.data" is required/,
      'r2',
    ],
    [
      'null data',
      { request: { data: null }, id: 'r3' },
      'InvalidRequest',
      /"request.data" is required/,
      'r3',
    ],
    ['an object id', { request: { data: 'x' }, id: { a: 1 } }, 'InvalidRequest', /"id" must be a string/, ''],
    [
      'an invalid stream ARN',
      {
        request: { data: 'x', delivery_stream_arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/x' },
        id: 'r4',
      },
      'InvalidDeliveryStreamArn',
      /is not a delivery stream ARN/,
      'r4',
    ],
    [
      'a non-string stream ARN',
      { request: { data: 'x', delivery_stream_arn: 7 }, id: 'r5' },
      'InvalidDeliveryStreamArn',
      /7 is not a delivery stream ARN/,
      'r5',
    ],
  ])('refuses %s with a fail status', (_, payload, code, message, id) => {
    const intake = parseMessage(Topics.json, json(payload), context());

    expect(intake).toEqual({
      failure: { ErrorCode: code, ErrorMessage: expect.stringMatching(message), id, status: 'fail' },
    });
  });

  it('accepts a record of exactly 1,024,000 bytes and refuses one byte more, separator included', () => {
    const atLimit = parseMessage('kinesisfirehose/message/binary/a', Buffer.alloc(1_023_999), context('\n'));
    const overLimit = parseMessage(
      'kinesisfirehose/message/binary/b',
      Buffer.alloc(1_024_000),
      context('\n'),
    );

    expect('record' in atLimit && atLimit.record.data.length).toBe(1_024_000);
    expect(overLimit).toEqual({
      failure: {
        ErrorCode: 'RecordTooLarge',
        ErrorMessage: 'Record is 1024001 bytes; Firehose accepts at most 1024000 bytes per record',
        id: 'b',
        status: 'fail',
      },
    });
  });

  it('keeps a numeric id as its text', () => {
    expect(parseMessage(Topics.json, json({ request: { data: 'x' }, id: 12 }), context())).toMatchObject({
      record: { requestId: '12' },
    });
  });
});
