import { HeaderMarshaller } from '@smithy/core/event-streams';
import { Crc32 } from '@smithy/core/checksum';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import {
  decodeMessage,
  MESSAGE_OVERHEAD_BYTES,
  PRELUDE_BYTES,
  PROTOCOL_MAX_HEADERS_BYTES,
  PROTOCOL_MAX_MESSAGE_BYTES,
  ProtocolError,
  type RpcMessage,
  toRpcMessage,
} from './protocol';

export type Frame =
  /** A whole message, CRCs checked. */
  | { readonly kind: 'message'; readonly message: RpcMessage }
  /**
   * A message longer than the reader's `maxFrameBytes`: its headers (so the stream it belongs to is known), the
   * first `headBytes` of its payload as `message.payload`, and its length. The rest of the payload was skipped as it
   * arrived, never held, so its content (and message CRC) is unknown.
   */
  | { readonly kind: 'oversized'; readonly message: RpcMessage; readonly totalBytes: number };

const headerMarshaller = new HeaderMarshaller(toUtf8, fromUtf8);

/**
 * Cuts the byte stream of a connection into event stream messages, looking at each message's length before
 * keeping any of it: a message up to `maxFrameBytes` is gathered into one buffer of exactly its size and decoded;
 * a longer one, of any length, keeps only its prelude and headers (at most 128 KiB) and its payload is dropped as it
 * streams past. So one connection holds at most `maxFrameBytes` of input at a time, whatever the peer sends.
 */
export class FrameReader {
  private readonly prelude = Buffer.alloc(PRELUDE_BYTES);
  private preludeFilled = 0;
  /** The message being gathered (whole, or prelude and headers only when oversized). */
  private frame?: Buffer;
  private frameFilled = 0;
  private totalBytes = 0;
  private headersBytes = 0;
  /** Payload bytes of an oversized message still to drop. */
  private skipRemaining = 0;

  /** `headBytes`: how much of an oversized message's payload to keep. */
  constructor(
    private readonly maxFrameBytes: number,
    private readonly headBytes = 0,
  ) {
    if (maxFrameBytes < MESSAGE_OVERHEAD_BYTES || maxFrameBytes > PROTOCOL_MAX_MESSAGE_BYTES) {
      throw new RangeError(
        `maxFrameBytes must be from ${MESSAGE_OVERHEAD_BYTES} to ${PROTOCOL_MAX_MESSAGE_BYTES}; received ${maxFrameBytes}`,
      );
    }
  }

  /** The messages that `chunk` completes, in order. Throws `ProtocolError` on a malformed stream. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skipRemaining > 0) {
        const skipped = Math.min(this.skipRemaining, chunk.length - offset);
        this.skipRemaining -= skipped;
        offset += skipped;
        continue;
      }
      if (this.frame === undefined) {
        const copied = chunk.copy(
          this.prelude,
          this.preludeFilled,
          offset,
          offset + PRELUDE_BYTES - this.preludeFilled,
        );
        this.preludeFilled += copied;
        offset += copied;
        // An oversized message without headers is complete (as far as it is kept) with its prelude.
        if (this.preludeFilled === PRELUDE_BYTES && this.startFrame()) frames.push(this.finishFrame());
        continue;
      }
      const copied = chunk.copy(
        this.frame,
        this.frameFilled,
        offset,
        offset + this.frame.length - this.frameFilled,
      );
      this.frameFilled += copied;
      offset += copied;
      if (this.frameFilled === this.frame.length) frames.push(this.finishFrame());
    }
    return frames;
  }

  /** Starts gathering the message whose prelude is complete; true when nothing more of it is to be kept. */
  private startFrame(): boolean {
    const totalBytes = this.prelude.readUInt32BE(0);
    const headersBytes = this.prelude.readUInt32BE(4);
    const checksum = new Crc32();
    checksum.update(this.prelude.subarray(0, 8));
    if (checksum.digestSync() !== this.prelude.readUInt32BE(8)) {
      throw new ProtocolError('Event stream prelude CRC does not match: the connection is corrupt');
    }
    // No upper bound on the total: a message over maxFrameBytes is skipped as it arrives, whatever its length, so
    // that a publisher's oversized message (up to the server's limit, which has changed) costs one status, never
    // the connection. The prelude CRC above is what tells a corrupt stream.
    if (
      totalBytes < MESSAGE_OVERHEAD_BYTES ||
      headersBytes > PROTOCOL_MAX_HEADERS_BYTES ||
      headersBytes > totalBytes - MESSAGE_OVERHEAD_BYTES
    ) {
      throw new ProtocolError(
        `Event stream prelude announces ${totalBytes} bytes with ${headersBytes} bytes of headers, beyond the protocol's limits`,
      );
    }
    this.totalBytes = totalBytes;
    this.headersBytes = headersBytes;
    const payloadBytes = totalBytes - MESSAGE_OVERHEAD_BYTES - headersBytes;
    const kept =
      totalBytes <= this.maxFrameBytes
        ? totalBytes
        : PRELUDE_BYTES + headersBytes + Math.min(this.headBytes, payloadBytes);
    this.frame = Buffer.allocUnsafe(kept);
    this.prelude.copy(this.frame);
    this.frameFilled = PRELUDE_BYTES;
    this.preludeFilled = 0;
    return kept === PRELUDE_BYTES;
  }

  private finishFrame(): Frame {
    const frame = this.frame!;
    this.frame = undefined;
    if (frame.length === this.totalBytes) return { kind: 'message', message: decodeMessage(frame) };
    this.skipRemaining = this.totalBytes - frame.length;
    let headers;
    try {
      headers = headerMarshaller.parse(
        new DataView(frame.buffer, frame.byteOffset + PRELUDE_BYTES, this.headersBytes),
      );
    } catch (error) {
      throw new ProtocolError(`Malformed event stream headers: ${(error as Error).message}`);
    }
    return {
      kind: 'oversized',
      message: toRpcMessage(headers, frame.subarray(PRELUDE_BYTES + this.headersBytes)),
      totalBytes: this.totalBytes,
    };
  }
}
