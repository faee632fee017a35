import { FirehoseLimits } from '../../../runtime/firehose/limits';
import { bytesPackedInto, oneRecordPerMessage, packMessages } from '../../../runtime/firehose/record-packing';

const LIMIT = FirehoseLimits.maxRecordBytes;

/** A message of `size` bytes, all `fill`, with `id` to tell it apart. */
function message(id: string, size: number, fill = id.charCodeAt(0)) {
  return { id, data: Buffer.alloc(size, fill) };
}

const idsOf = (records: ReturnType<typeof packMessages<{ id: string; data: Buffer }>>) =>
  records.map((record) => record.messages.map((packed) => packed.id));

describe('packing messages into Firehose records', () => {
  it('packs small messages into one record that holds their bytes one after the other, separators included', () => {
    // Prepare: JSON text and binary bytes, each already followed by its "\n" separator at intake.
    const messages = [
      { id: 'a', data: Buffer.from('{"temperature":21.5}\n') },
      { id: 'b', data: Buffer.from([0x00, 0xff, 0x10, 0x0a]) },
      { id: 'c', data: Buffer.from('plain text\n') },
    ];

    // Act
    const records = packMessages(messages);

    // Assess
    expect(records).toHaveLength(1);
    expect(Buffer.concat(records[0].parts)).toEqual(
      Buffer.concat([
        Buffer.from('{"temperature":21.5}\n'),
        Buffer.from([0, 0xff, 0x10, 0x0a]),
        Buffer.from('plain text\n'),
      ]),
    );
    expect(records[0].messages.map((packed) => packed.id)).toEqual(['a', 'b', 'c']);
  });

  it('keeps queue order across records: the concatenated records are the concatenated messages', () => {
    // Prepare: 300 messages of 10 KB each, of varied bytes.
    const messages = Array.from({ length: 300 }, (_, index) => message(`m${index}`, 10_000, index % 256));

    // Act
    const records = packMessages(messages);

    // Assess
    const sent = Buffer.concat(records.map((record) => Buffer.concat(record.parts)));
    expect(sent.equals(Buffer.concat(messages.map((packed) => packed.data)))).toBe(true);
    expect(records.flatMap((record) => record.messages.map((packed) => packed.id))).toEqual(
      messages.map((packed) => packed.id),
    );
    expect(records.length).toBeGreaterThan(1);
  });

  it('never makes a record over 1,024,000 bytes, and starts a new one only when the next message does not fit', () => {
    // Prepare: 1,000-byte messages; 1,024 of them fill a record exactly.
    const messages = Array.from({ length: 2500 }, (_, index) => message(`m${index}`, 1000));

    // Act
    const records = packMessages(messages);

    // Assess
    expect(records.map((record) => record.messages.length)).toEqual([1024, 1024, 452]);
    expect(records.map((record) => record.bytes)).toEqual([1_024_000, 1_024_000, 452_000]);
  });

  it('gives a message of exactly 1,024,000 bytes a record of its own, unchanged', () => {
    // Prepare
    const whole = message('whole', LIMIT);
    const messages = [message('before', 10), whole, message('after', 1)];

    // Act
    const records = packMessages(messages);

    // Assess
    expect(idsOf(records)).toEqual([['before'], ['whole'], ['after']]);
    expect(records[1].parts).toHaveLength(1);
    expect(records[1].parts[0]).toBe(whole.data);
  });

  it('sends a message over half the limit alone when neither neighbour fits beside it', () => {
    // Prepare: 600,000 + 600,000 is over the limit, so each goes alone; the small one joins the second.
    const messages = [message('big1', 600_000), message('big2', 600_000), message('small', 400_000)];

    // Act
    const records = packMessages(messages);

    // Assess
    expect(idsOf(records)).toEqual([['big1'], ['big2', 'small']]);
    expect(records.map((record) => record.bytes)).toEqual([600_000, 1_000_000]);
  });

  it('packs empty messages (an empty string without a separator) with the others', () => {
    const records = packMessages([message('empty1', 0), message('x', 3), message('empty2', 0)]);

    expect(idsOf(records)).toEqual([['empty1', 'x', 'empty2']]);
    expect(records[0].bytes).toBe(3);
  });

  it('makes no record of no message', () => {
    expect(packMessages([])).toEqual([]);
  });

  it('sends one record per message, as the v1 connector did, without copying their bytes', () => {
    const messages = [message('a', 10), message('b', 20)];

    const records = oneRecordPerMessage(messages);

    expect(idsOf(records)).toEqual([['a'], ['b']]);
    expect(records[0].parts[0]).toBe(messages[0].data);
  });
});

describe('the message bytes that always pack into a number of records', () => {
  it('fit one record within one limit, and three records within two limits', () => {
    expect(bytesPackedInto(1)).toBe(LIMIT);
    expect(bytesPackedInto(2)).toBe(LIMIT);
    expect(bytesPackedInto(3)).toBe(2 * LIMIT);
    expect(bytesPackedInto(500)).toBe(250 * LIMIT);
  });

  it('hold for the worst mix of sizes: records alternately just over and just under half the limit', () => {
    // Prepare: each pair of neighbours is one byte too many to share a record.
    const half = LIMIT / 2;
    const sizes = Array.from({ length: 9 }, (_, index) => (index % 2 === 0 ? half + 1 : half));
    for (let records = 1; records <= 9; records++) {
      let total = 0;
      const messages = sizes
        .filter((size) => (total += size) <= bytesPackedInto(records))
        .map((size, index) => message(`m${index}`, size));

      // Act
      const packed = packMessages(messages);

      // Assess
      expect(packed.length).toBeLessThanOrEqual(records);
    }
  });
});
