import { type Frame, FrameReader } from '../../../../../runtime/transport/ipc/client/frame-reader';
import {
  encodeMessage,
  MessageFlags,
  MessageType,
  ProtocolError,
  type RpcMessage,
} from '../../../../../runtime/transport/ipc/client/protocol';

function message(streamId: number, payload: Buffer, headers: Record<string, string> = {}): RpcMessage {
  return { type: MessageType.ApplicationMessage, flags: MessageFlags.None, streamId, headers, payload };
}

function summary(frames: Frame[]) {
  return frames.map((frame) =>
    frame.kind === 'message'
      ? { kind: frame.kind, streamId: frame.message.streamId, payload: frame.message.payload.toString() }
      : { kind: frame.kind, streamId: frame.message.streamId, totalBytes: frame.totalBytes },
  );
}

describe('FrameReader', () => {
  it('reads messages split at every byte and several messages in one chunk alike', () => {
    // Prepare
    const bytes = Buffer.concat([
      encodeMessage(message(1, Buffer.from('first'))),
      encodeMessage(message(3, Buffer.from('second'))),
    ]);
    const byteByByte = new FrameReader(1024);
    const atOnce = new FrameReader(1024);

    // Act
    const fromBytes = [...bytes].flatMap((byte) => byteByByte.push(Buffer.from([byte])));
    const fromChunk = atOnce.push(bytes);

    // Assess
    const expected = [
      { kind: 'message', streamId: 1, payload: 'first' },
      { kind: 'message', streamId: 3, payload: 'second' },
    ];
    expect(summary(fromBytes)).toEqual(expected);
    expect(summary(fromChunk)).toEqual(expected);
  });

  it('keeps the headers of a message over its limit, skips its payload, and reads the next message', () => {
    // Prepare
    const reader = new FrameReader(1024);
    const big = encodeMessage(message(5, Buffer.alloc(10_000, 7), { operation: 'x' }));
    const next = encodeMessage(message(5, Buffer.from('after')));

    // Act
    const frames = [...chunks(Buffer.concat([big, next]), 700)].flatMap((chunk) => reader.push(chunk));

    // Assess
    expect(summary(frames)).toEqual([
      { kind: 'oversized', streamId: 5, totalBytes: big.length },
      { kind: 'message', streamId: 5, payload: 'after' },
    ]);
    expect(frames[0].message.headers).toEqual({ operation: 'x' });
  });

  it('refuses a stream whose prelude checksum does not match', () => {
    // Prepare
    const reader = new FrameReader(1024);
    const corrupt = encodeMessage(message(1, Buffer.from('x')));
    corrupt[9] ^= 0xff;

    // Act & Assess
    expect(() => reader.push(corrupt)).toThrow(
      new ProtocolError('Event stream prelude CRC does not match: the connection is corrupt'),
    );
  });

  it('refuses a message whose payload checksum does not match', () => {
    // Prepare
    const reader = new FrameReader(1024);
    const corrupt = encodeMessage(message(1, Buffer.from('payload')));
    corrupt[corrupt.length - 6] ^= 0xff;

    // Act & Assess
    expect(() => reader.push(corrupt)).toThrow(ProtocolError);
  });

  it('skips a message of any length over its limit, one of 17 MiB (over the former 16 MiB bound) too, and reads the next', () => {
    // Prepare: a 17 MiB message, fed in 64 KiB reads as a socket would.
    const reader = new FrameReader(1024);
    const big = encodeMessage(message(3, Buffer.alloc(17 * 1024 * 1024, 7), { operation: 'x' }));
    const next = encodeMessage(message(3, Buffer.from('after')));

    // Act
    const frames = [...chunks(Buffer.concat([big, next]), 64 * 1024)].flatMap((chunk) => reader.push(chunk));

    // Assess
    expect(summary(frames)).toEqual([
      { kind: 'oversized', streamId: 3, totalBytes: big.length },
      { kind: 'message', streamId: 3, payload: 'after' },
    ]);
  });

  it('refuses a prelude announcing more headers than a nucleus ever sends, before reading any of it', () => {
    // Prepare: a valid prelude announcing 129 KiB of headers.
    const reader = new FrameReader(1024);
    const prelude = encodeMessage(message(1, Buffer.alloc(0))).subarray(0, 12);
    const forged = Buffer.from(prelude);
    forged.writeUInt32BE(1024 * 1024, 0);
    forged.writeUInt32BE(129 * 1024, 4);
    forged.writeUInt32BE(crc32(forged.subarray(0, 8)), 8);

    // Act & Assess
    expect(() => reader.push(forged)).toThrow(/with 132096 bytes of headers/);
  });
});

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** CRC-32 (IEEE), independent of the code under test. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
