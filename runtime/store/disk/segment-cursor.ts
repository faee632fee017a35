import * as fs from 'node:fs';
import type { SegmentFile } from './segment-file';
import { BlockReader, bodyMatches, decodeHeader, RECORD_HEADER_BYTES, type RecordHeader } from './segment';
import { describeError } from '../../logger';

/** A record found at the cursor. */
export interface CursorRecord {
  readonly offset: number;
  readonly requestId: string;
  readonly data: Buffer;
  readonly header: RecordHeader;
}

/** Why the rest of a segment cannot be read, from `offset` on. */
export interface Unreadable {
  readonly offset: number;
  readonly unreadable: string;
}

/**
 * Reads a stream's records in queue order, one segment after the other, through one file handle and one block
 * buffer. Records behind the cursor are all leased or acknowledged, and appends only go to the last segment, so the
 * cursor never moves back. The store keeps the counts; the cursor only reads and moves.
 */
export class SegmentCursor {
  private readonly reader = new BlockReader();
  private segment?: SegmentFile;
  private offset = 0;
  private fd?: number;

  constructor(private readonly segments: readonly SegmentFile[]) {}

  /** The segment of the next ready record, or undefined when no segment has one. */
  position(): SegmentFile | undefined {
    if (this.segment && this.segment.ready > 0) return this.segment;
    const next = this.segments.find((segment) => segment.ready > 0);
    if (next && next !== this.segment) {
      this.close();
      this.segment = next;
      this.offset = next.startOffset;
    }
    return next;
  }

  /**
   * The header of the next record in `segment` (the one `position()` returned), skipping records acknowledged or
   * found damaged before the store opened.
   */
  peek(segment: SegmentFile): RecordHeader | Unreadable {
    for (;;) {
      const offset = this.offset;
      while (segment.skipIndex < segment.skips.length && segment.skips[segment.skipIndex].end <= offset) {
        segment.skipIndex++;
      }
      const skip = segment.skips[segment.skipIndex];
      if (skip && skip.start <= offset) {
        this.offset = skip.end;
        continue;
      }
      let header: RecordHeader | undefined;
      try {
        const head = this.read(segment, offset, RECORD_HEADER_BYTES);
        header = head.length === RECORD_HEADER_BYTES ? decodeHeader(head) : undefined;
      } catch (error) {
        return { offset, unreadable: describeError(error).errorMessage };
      }
      if (!header || offset + header.frameBytes > segment.size) {
        return { offset, unreadable: 'the record header is not valid' };
      }
      while (segment.ackedIndex < segment.acked.length && segment.acked[segment.ackedIndex] < offset) {
        segment.ackedIndex++;
      }
      if (segment.acked[segment.ackedIndex] === offset) {
        this.offset += header.frameBytes;
        continue;
      }
      return header;
    }
  }

  /** Reads the record whose header `peek` returned and moves past it. */
  take(segment: SegmentFile, header: RecordHeader): CursorRecord | Unreadable {
    const offset = this.offset;
    let body: Buffer;
    try {
      body = this.read(segment, offset + RECORD_HEADER_BYTES, header.frameBytes - RECORD_HEADER_BYTES);
    } catch (error) {
      return { offset, unreadable: describeError(error).errorMessage };
    }
    if (!bodyMatches(header, body)) return { offset, unreadable: 'the record failed its checksum' };
    this.offset += header.frameBytes;
    return {
      offset,
      requestId: body.toString('utf8', 0, header.requestIdBytes),
      data: copyOf(body, header.requestIdBytes),
      header,
    };
  }

  /** Stops reading `segment`, which is being deleted, so that its file is not held open. */
  leave(segment: SegmentFile): void {
    if (this.segment !== segment) return;
    this.close();
    this.segment = undefined;
  }

  /** Closes the file handle and frees the buffer; the next read opens the file again. */
  close(): void {
    this.reader.release();
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private read(segment: SegmentFile, offset: number, length: number): Buffer {
    if (this.fd === undefined) {
      this.fd = fs.openSync(segment.path, 'r');
      this.reader.attach(this.fd);
    }
    return this.reader.read(offset, length, segment.size);
  }
}

/** A copy of `buffer` from `start` on, so that the record outlives the read buffer. */
function copyOf(buffer: Buffer, start: number): Buffer {
  const copy = Buffer.allocUnsafe(buffer.length - start);
  buffer.copy(copy, 0, start);
  return copy;
}
