import { Topics } from '../../../runtime/contract/topics';
import { parseDeliveryStreamArn } from '../../../runtime/firehose/delivery-stream';
import {
  MAX_JSON_DEPTH,
  MAX_JSON_MESSAGE_BYTES,
  MAX_REQUEST_ID_LENGTH,
  type MessageContext,
  nestingExceeds,
  parseMessage,
} from '../../../runtime/message/parse-message';

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

  it('refuses JSON nested deeper than MAX_JSON_DEPTH before parsing it, and accepts it at the limit', () => {
    // Prepare
    const nested = (levels: number) =>
      Buffer.from(`{"request":{"data":${'['.repeat(levels)}${']'.repeat(levels)}},"id":"deep"}`);

    // Act: the message object and request object take two levels.
    const atLimit = parseMessage(Topics.json, nested(MAX_JSON_DEPTH - 2), context());
    const overLimit = parseMessage(Topics.json, nested(MAX_JSON_DEPTH - 1), context());
    const farOver = parseMessage(Topics.json, nested(100_000), context());

    // Assess
    expect(atLimit).toMatchObject({ record: { requestId: 'deep' } });
    const refusal = {
      failure: {
        ErrorCode: 'InvalidRequest',
        ErrorMessage: `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep`,
        id: 'deep',
        status: 'fail',
      },
    };
    expect(overLimit).toEqual(refusal);
    expect(farOver).toEqual(refusal);
  });

  it('refuses a payload that is not valid UTF-8 rather than changing its bytes', () => {
    const payload = Buffer.concat([
      Buffer.from('{"request":{"data":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);

    expect(parseMessage(Topics.json, payload, context())).toEqual({
      failure: {
        ErrorCode: 'InvalidJson',
        ErrorMessage: 'Payload is not valid UTF-8, so it is not JSON',
        id: '',
        status: 'fail',
      },
    });
  });

  it('refuses a JSON message over MAX_JSON_MESSAGE_BYTES from its size alone, without parsing it', () => {
    // Prepare: the transport dropped the payload in transit and passes its size on.
    const dropped = Buffer.alloc(0);

    // Act
    const intake = parseMessage(Topics.json, dropped, context(), 40 * 1024 * 1024);

    // Assess
    expect(intake).toEqual({
      failure: {
        ErrorCode: 'RecordTooLarge',
        ErrorMessage: `JSON message is 41943040 bytes; a message over ${MAX_JSON_MESSAGE_BYTES} bytes cannot hold a record of at most 1024000 bytes, so it was not parsed`,
        id: '',
        status: 'fail',
      },
    });
  });

  it('gives the refusal of a JSON message too large to parse the id it ends with, read without parsing it', () => {
    // Prepare: the seed example's shape, "id" after a 7 MB "data".
    const payload = json({ request: { data: 'x'.repeat(7_000_000) }, id: 'request123' });

    // Act
    const intake = parseMessage(Topics.json, payload, context());

    // Assess
    expect(intake).toMatchObject({ failure: { ErrorCode: 'RecordTooLarge', id: 'request123' } });
  });

  it('gives the refusal of a message of which the transport kept only the first bytes the id among them', () => {
    // Prepare: the first 8 KiB of a 40 MiB message whose "id" comes first.
    const head = json({ id: 'first', request: { data: 'x'.repeat(10_000) } }).subarray(0, 8192);

    // Act
    const intake = parseMessage(Topics.json, head, context(), 40 * 1024 * 1024);

    // Assess
    expect(intake).toMatchObject({ failure: { ErrorCode: 'RecordTooLarge', id: 'first' } });
  });

  it('leaves the id of a refused message empty when it is past the first bytes the transport kept', () => {
    // Act
    const head = json({ request: { data: 'x'.repeat(10_000) }, id: 'last' }).subarray(0, 8192);
    const intake = parseMessage(Topics.json, head, context(), 40 * 1024 * 1024);

    // Assess
    expect(intake).toMatchObject({ failure: { ErrorCode: 'RecordTooLarge', id: '' } });
  });

  it.each([
    ['request.id, when the message has no id', '{"request":{"id":"inner","data":"x"},"junk":', 'inner'],
    ['a numeric id as its text', '{"id":42,"request":{"data":"x"}', '42'],
    ['the last of two ids, as a parser would', '{"id":"a","id":"b","request":', 'b'],
    ['no id for an object', '{"id":{"x":1},"request":{"id":"inner"}', ''],
    ['request.id for a null id', '{"id":null,"request":{"id":"inner"}}}', 'inner'],
    ['an escaped id unescaped', '{"id":"a\\"b\u00e9","request":', 'a"bé'],
  ])('reads from a message that is not JSON %s', (_, text, id) => {
    // Act
    const intake = parseMessage(Topics.json, Buffer.from(text), context());

    // Assess
    expect(intake).toMatchObject({ failure: { ErrorCode: 'InvalidJson', id } });
  });

  it('gives the refusal of a payload that is not UTF-8 the id it has', () => {
    // Act
    const payload = Buffer.concat([
      Buffer.from('{"id":"u","request":{"data":"'),
      Buffer.from([0xff]),
      Buffer.from('"}}'),
    ]);
    const intake = parseMessage(Topics.json, payload, context());

    // Assess
    expect(intake).toMatchObject({ failure: { ErrorCode: 'InvalidJson', id: 'u' } });
  });

  it('refuses a binary message whose payload was dropped in transit with its id and size', () => {
    const intake = parseMessage(
      'kinesisfirehose/message/binary/huge',
      Buffer.alloc(0),
      context(),
      41_943_040,
    );

    expect(intake).toEqual({
      failure: {
        ErrorCode: 'RecordTooLarge',
        ErrorMessage: 'Record is 41943040 bytes; Firehose accepts at most 1024000 bytes per record',
        id: 'huge',
        status: 'fail',
      },
    });
  });

  it('refuses a JSON record whose data is over the limit once encoded', () => {
    const intake = parseMessage(
      Topics.json,
      json({ request: { data: 'é'.repeat(512_001) }, id: 'e' }),
      context(),
    );

    expect(intake).toMatchObject({
      failure: {
        ErrorCode: 'RecordTooLarge',
        ErrorMessage: expect.stringContaining('1024002 bytes'),
        id: 'e',
      },
    });
  });

  it.each([
    ['a JSON id', (id: string) => parseMessage(Topics.json, json({ request: { data: 'x' }, id }), context())],
    [
      'a binary topic id',
      (id: string) => parseMessage(`kinesisfirehose/message/binary/${id}`, Buffer.from('x'), context()),
    ],
  ])('refuses %s longer than MAX_REQUEST_ID_LENGTH, echoing its start', (_, parse) => {
    const atLimit = parse('a'.repeat(MAX_REQUEST_ID_LENGTH));
    const overLimit = parse('b'.repeat(MAX_REQUEST_ID_LENGTH + 1));

    expect(atLimit).toMatchObject({ record: { requestId: 'a'.repeat(MAX_REQUEST_ID_LENGTH) } });
    expect(overLimit).toEqual({
      failure: {
        ErrorCode: 'InvalidRequest',
        ErrorMessage: `The request id is ${MAX_REQUEST_ID_LENGTH + 1} characters long; at most ${MAX_REQUEST_ID_LENGTH} are accepted (the status shows its start)`,
        id: 'b'.repeat(MAX_REQUEST_ID_LENGTH),
        status: 'fail',
      },
    });
  });
});

describe('nestingExceeds', () => {
  it.each([
    ['brackets inside strings', '{"a":"[[[[[[","b":"{{{{"}', 2, false],
    ['an escaped quote inside a string', '{"a":"\\"[[[[","b":1}', 1, false],
    ['a quote after an escaped backslash', '{"a":"x\\\\","b":[[1]]}', 2, true],
    ['arrays and objects together', '[{"a":[{"b":[]}]}]', 5, false],
    ['one level too many', '[{"a":[{"b":[[]]}]}]', 5, true],
  ])('counts %s correctly', (_, text, maxDepth, exceeds) => {
    expect(nestingExceeds(Buffer.from(text), maxDepth)).toBe(exceeds);
  });
});
