import { readSync } from 'node:fs';
import * as zlib from 'node:zlib';

/**
 * The files of the disk queue (issue #4, "Durable delivery"), byte for byte, so that a queue can be inspected or
 * salvaged by hand. All integers are unsigned little-endian.
 *
 * ```text
 * <QueueDirectory>/
 *   <first 32 hex digits of the SHA-256 of the stream ARN>/
 *     stream.json          {"streamArn":"arn:aws:firehose:…","format":1}
 *     000000000001.seg     records, only ever appended to
 *     000000000001.ack     acknowledgements of records of 000000000001.seg
 *     000000000002.seg     …
 * ```
 *
 * A segment (`.seg`) is a sequence of records, each a 32-byte header, the request id and the data:
 *
 * | offset | size | field                                                             |
 * | -----: | ---: | ----------------------------------------------------------------- |
 * |      0 |    4 | magic and version: `46 48 51 01` ("FHQ", format 1)                |
 * |      4 |    4 | data length D (at most 16 MiB)                                    |
 * |      8 |    4 | request id length R, in UTF-8 bytes (at most 1 MiB)               |
 * |     12 |    8 | `enqueuedAt`, epoch milliseconds                                  |
 * |     20 |    4 | `attempts`                                                        |
 * |     24 |    4 | body CRC-32 of the R + D bytes after the header                   |
 * |     28 |    4 | header CRC-32 of bytes 0 to 27 (so it also covers the body CRC)   |
 * |     32 |    R | request id, UTF-8                                                 |
 * | 32 + R |    D | data                                                              |
 *
 * CRC-32 is the IEEE/zlib one (`zlib.crc32`, Python's `zlib.crc32`). The header has a CRC of its own so that a
 * damaged length is never trusted: a valid header that runs past the end of the file is a write cut short, while
 * an invalid header ends what can be read of the segment.
 *
 * An acknowledgement file (`.ack`) lists the offsets, in the segment, of records that were delivered, failed for
 * good or copied to the tail for a retry. It is a sequence of entries, one per write:
 *
 * | offset | size | field                                           |
 * | -----: | ---: | ----------------------------------------------- |
 * |      0 |    4 | magic and version: `46 48 41 01` ("FHA", format 1) |
 * |      4 |    4 | CRC-32 of bytes 8 to the end of the entry        |
 * |      8 |    4 | N, the number of offsets                         |
 * |     12 |   4N | offsets of records in the segment                |
 *
 * A record is queued when it is in a segment and its offset is in no valid entry of that segment's `.ack` file.
 */

export const RECORD_HEADER_BYTES = 32;
/** Most data bytes in one record; Firehose itself takes at most 1,000 KiB. */
export const MAX_DATA_BYTES = 16 * 1024 * 1024;
/** Most UTF-8 bytes in one request id. */
export const MAX_REQUEST_ID_BYTES = 1024 * 1024;
const RECORD_MAGIC = Buffer.from([0x46, 0x48, 0x51, 0x01]);
const RECORD_MAGIC_VALUE = RECORD_MAGIC.readUInt32LE(0);
const ACK_MAGIC_VALUE = Buffer.from([0x46, 0x48, 0x41, 0x01]).readUInt32LE(0);
const ACK_HEADER_BYTES = 12;
const TWO_TO_THE_32 = 2 ** 32;

/** CRC-32 (IEEE), as `zlib.crc32` computes it; that function only exists from Node.js 20.15 and 22.2 on. */
export const crc32: (data: Uint8Array, value?: number) => number =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : tableCrc32;

let crcTable: Uint32Array | undefined;

/** The byte-at-a-time CRC-32 that `crc32` falls back to on Node.js versions without `zlib.crc32`. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  const table = (crcTable ??= makeCrcTable());
  let crc = ~value;
  for (let index = 0; index < data.length; index++) {
    crc = table[(crc ^ data[index]) & 0xff] ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc;
  }
  return table;
}

export interface RecordFields {
  readonly requestId: string;
  readonly data: Buffer;
  readonly enqueuedAt: number;
  readonly attempts: number;
}

export interface RecordHeader {
  readonly dataBytes: number;
  readonly requestIdBytes: number;
  readonly enqueuedAt: number;
  readonly attempts: number;
  readonly bodyCrc: number;
  /** Header, request id and data. */
  readonly frameBytes: number;
}

/** The record's frame, ready to append. `enqueuedAt` is kept in whole milliseconds. */
export function encodeRecord(record: RecordFields): Buffer {
  const requestIdBytes = Buffer.byteLength(record.requestId, 'utf8');
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + requestIdBytes + record.data.length);
  const enqueuedAt = Number.isFinite(record.enqueuedAt)
    ? Math.min(Math.max(Math.floor(record.enqueuedAt), 0), Number.MAX_SAFE_INTEGER)
    : 0;
  RECORD_MAGIC.copy(frame, 0);
  frame.writeUInt32LE(record.data.length, 4);
  frame.writeUInt32LE(requestIdBytes, 8);
  frame.writeUInt32LE(enqueuedAt % TWO_TO_THE_32, 12);
  frame.writeUInt32LE(Math.floor(enqueuedAt / TWO_TO_THE_32), 16);
  frame.writeUInt32LE(Math.min(Math.max(Math.floor(record.attempts) || 0, 0), 0xffffffff), 20);
  frame.write(record.requestId, RECORD_HEADER_BYTES, requestIdBytes, 'utf8');
  record.data.copy(frame, RECORD_HEADER_BYTES + requestIdBytes);
  frame.writeUInt32LE(crc32(frame.subarray(RECORD_HEADER_BYTES)), 24);
  frame.writeUInt32LE(crc32(frame.subarray(0, 28)), 28);
  return frame;
}

/** The header at the start of `bytes` (at least `RECORD_HEADER_BYTES` long), or undefined when it is not valid. */
export function decodeHeader(bytes: Buffer): RecordHeader | undefined {
  if (bytes.readUInt32LE(0) !== RECORD_MAGIC_VALUE) return undefined;
  if (crc32(bytes.subarray(0, 28)) !== bytes.readUInt32LE(28)) return undefined;
  const dataBytes = bytes.readUInt32LE(4);
  const requestIdBytes = bytes.readUInt32LE(8);
  if (dataBytes > MAX_DATA_BYTES || requestIdBytes > MAX_REQUEST_ID_BYTES) return undefined;
  return {
    dataBytes,
    requestIdBytes,
    enqueuedAt: bytes.readUInt32LE(16) * TWO_TO_THE_32 + bytes.readUInt32LE(12),
    attempts: bytes.readUInt32LE(20),
    bodyCrc: bytes.readUInt32LE(24),
    frameBytes: RECORD_HEADER_BYTES + requestIdBytes + dataBytes,
  };
}

/** True when `body` (the request id and data that follow `header`) matches the header's body CRC. */
export function bodyMatches(header: RecordHeader, body: Buffer): boolean {
  return body.length === header.frameBytes - RECORD_HEADER_BYTES && crc32(body) === header.bodyCrc;
}

/**
 * Reads a file through a buffer of at least `chunkBytes`, so that walking small records costs few system calls. The
 * buffer is allocated by the first read and freed by `release()`.
 */
export class BlockReader {
  private buffer?: Buffer;
  private fd = -1;
  private start = 0;
  private length = 0;

  constructor(private readonly chunkBytes = 1024 * 1024) {}

  /** Reads `fd` from now on. */
  attach(fd: number): void {
    this.fd = fd;
    this.length = 0;
  }

  /** Forgets the file and frees the buffer. */
  release(): void {
    this.fd = -1;
    this.length = 0;
    this.buffer = undefined;
  }

  /**
   * Bytes `offset` to `offset + length` of the file, never reading past `fileBytes`. The view is valid until the
   * next call; it is shorter than `length` only if the file is shorter than `fileBytes` says.
   */
  read(offset: number, length: number, fileBytes: number): Buffer {
    const cached = offset - this.start;
    if (this.buffer && cached >= 0 && cached + length <= this.length) {
      return this.buffer.subarray(cached, cached + length);
    }
    const wanted = Math.max(Math.min(this.chunkBytes, fileBytes - offset), length);
    let buffer = this.buffer;
    // Sized to what the file holds, up to a chunk: a stream with a few small records (every stream a publisher
    // names once) should not cost a whole chunk each time its queue opens.
    if (!buffer || wanted > buffer.length || (buffer.length > this.chunkBytes && wanted <= this.chunkBytes)) {
      buffer = this.buffer = Buffer.allocUnsafe(wanted);
    }
    let got = 0;
    while (got < wanted) {
      const read = readSync(this.fd, buffer, got, wanted - got, offset + got);
      if (read === 0) break;
      got += read;
    }
    this.start = offset;
    this.length = got;
    return buffer.subarray(0, Math.min(got, length));
  }
}

export type SegmentProblem =
  /** A record whose write was cut short (header or data): everything from `offset` on is dropped. */
  | { readonly kind: 'cutShort'; readonly offset: number; readonly bytes: number }
  /** A record whose body failed its CRC: skipped, the records after it are kept. */
  | { readonly kind: 'badRecord'; readonly offset: number; readonly bytes: number }
  /** A header that is not valid: its length cannot be trusted, so the rest of the segment is skipped. */
  | { readonly kind: 'unreadable'; readonly offset: number; readonly bytes: number };

export interface SegmentScan {
  /** Where the segment's whole records end: the file size, or the offset of a record cut short. */
  readonly end: number;
  readonly problems: readonly SegmentProblem[];
}

/** Walks a segment of `fileBytes` bytes, calling `onRecord` for every record whose header and body are valid. */
export function scanSegment(
  reader: BlockReader,
  fileBytes: number,
  onRecord: (offset: number, header: RecordHeader) => void,
): SegmentScan {
  const problems: SegmentProblem[] = [];
  let offset = 0;
  while (offset < fileBytes) {
    const left = fileBytes - offset;
    const head = reader.read(offset, Math.min(RECORD_HEADER_BYTES, left), fileBytes);
    const header = head.length === RECORD_HEADER_BYTES ? decodeHeader(head) : undefined;
    if (!header) {
      const cutShort =
        (left < RECORD_HEADER_BYTES && isMagicPrefix(head)) || isZeroFrom(reader, offset, fileBytes);
      problems.push({ kind: cutShort ? 'cutShort' : 'unreadable', offset, bytes: left });
      return { end: cutShort ? offset : fileBytes, problems };
    }
    if (header.frameBytes > left) {
      problems.push({ kind: 'cutShort', offset, bytes: left });
      return { end: offset, problems };
    }
    const body = reader.read(
      offset + RECORD_HEADER_BYTES,
      header.frameBytes - RECORD_HEADER_BYTES,
      fileBytes,
    );
    if (bodyMatches(header, body)) onRecord(offset, header);
    else problems.push({ kind: 'badRecord', offset, bytes: header.frameBytes });
    offset += header.frameBytes;
  }
  return { end: fileBytes, problems };
}

/** A header cut short keeps the magic; zeros are what some file systems show for blocks a power cut left unwritten. */
function isMagicPrefix(bytes: Buffer): boolean {
  return bytes.every((byte, index) => index >= RECORD_MAGIC.length || byte === RECORD_MAGIC[index]);
}

function isZeroFrom(reader: BlockReader, offset: number, fileBytes: number): boolean {
  for (let at = offset; at < fileBytes;) {
    const chunk = reader.read(at, Math.min(64 * 1024, fileBytes - at), fileBytes);
    if (chunk.length === 0 || chunk.some((byte) => byte !== 0)) return false;
    at += chunk.length;
  }
  return true;
}

/** One acknowledgement entry for the records at `offsets`. */
export function encodeAck(offsets: readonly number[]): Buffer {
  const entry = Buffer.allocUnsafe(ACK_HEADER_BYTES + 4 * offsets.length);
  entry.writeUInt32LE(ACK_MAGIC_VALUE, 0);
  entry.writeUInt32LE(offsets.length, 8);
  offsets.forEach((offset, index) => entry.writeUInt32LE(offset, ACK_HEADER_BYTES + 4 * index));
  entry.writeUInt32LE(crc32(entry.subarray(8)), 4);
  return entry;
}

export interface AckScan {
  readonly offsets: ReadonlySet<number>;
  /** Where the valid entries end; anything after it is an entry cut short or damaged, and ignored. */
  readonly end: number;
}

/**
 * The offsets acknowledged in an `.ack` file's content. Reading stops at the first entry that is not valid, so a
 * damaged acknowledgement can only cause records to be sent again, never lost.
 */
export function parseAcks(content: Buffer): AckScan {
  const offsets = new Set<number>();
  let at = 0;
  while (content.length - at >= ACK_HEADER_BYTES) {
    if (content.readUInt32LE(at) !== ACK_MAGIC_VALUE) break;
    const count = content.readUInt32LE(at + 8);
    const entryBytes = ACK_HEADER_BYTES + 4 * count;
    if (entryBytes > content.length - at) break;
    if (crc32(content.subarray(at + 8, at + entryBytes)) !== content.readUInt32LE(at + 4)) break;
    for (let index = 0; index < count; index++)
      offsets.add(content.readUInt32LE(at + ACK_HEADER_BYTES + 4 * index));
    at += entryBytes;
  }
  return { offsets, end: at };
}
