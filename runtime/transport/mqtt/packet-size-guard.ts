import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Keeps an oversized MQTT PUBLISH from ever being held in memory whole.
 *
 * MQTT.js's parser buffers a packet until all of it has arrived, and then copies it into one Buffer, so a 40 MiB
 * message costs some 80 MiB before any size check can run: an out-of-memory kill under a Greengrass memory limit,
 * then a redelivery by the broker and the same kill again. This transform sits between the socket and the parser,
 * reads each packet's fixed header as the bytes stream by, and replaces the payload of a PUBLISH whose remaining
 * length is over `maxRemainingLength` with a short marker, discarding the payload bytes as they arrive. The
 * packet keeps its topic, QoS and packet id, so MQTT.js still acknowledges it once the connector has answered it
 * (with a `RecordTooLarge` status), and everything else on the connection passes through untouched. The marker
 * carries the payload's first bytes (up to `headBytes`), in which the connector looks for a JSON message's id.
 *
 * MQTT 3.1.1 packets only (the connector connects with protocol level 4): a PUBLISH's variable header is the topic
 * and, for QoS 1 and 2, the packet id.
 * @see https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc398718037
 */
export class OversizeMarker {
  private readonly nonce = randomBytes(16);

  /**
   * The payload that stands for a dropped one: a random prefix no publisher can guess, then the dropped size, so
   * a real payload can never pass for a marker; then the first bytes of the dropped payload.
   */
  encode(droppedBytes: number, head: Buffer = Buffer.alloc(0)): Buffer {
    const marker = Buffer.alloc(MARKER_BYTES + head.length);
    this.nonce.copy(marker);
    marker.writeDoubleBE(droppedBytes, this.nonce.length);
    head.copy(marker, MARKER_BYTES);
    return marker;
  }

  /**
   * What `payload` stands for when it is a marker: the size of the payload dropped and its first bytes (a view of
   * `payload`). Undefined for a real payload.
   */
  dropped(payload: Buffer): { readonly bytes: number; readonly head: Buffer } | undefined {
    if (payload.length < MARKER_BYTES) return undefined;
    if (!payload.subarray(0, this.nonce.length).equals(this.nonce)) return undefined;
    return { bytes: payload.readDoubleBE(this.nonce.length), head: payload.subarray(MARKER_BYTES) };
  }

  /**
   * A transform for one connection; a reconnection needs a new one, since it starts at a packet boundary.
   * `headBytes`: how much of a dropped payload the marker keeps.
   */
  guard(maxRemainingLength: number, headBytes = 0): Transform {
    return new PacketSizeGuard(maxRemainingLength, headBytes, this);
  }
}

const MARKER_BYTES = 24;
const PUBLISH = 3;

type State =
  /** Reading a fixed header (the held bytes, at most 5). */
  | { readonly kind: 'header' }
  /** Passing on the rest of a packet. */
  | { readonly kind: 'pass'; left: number }
  /** Collecting the variable header of an oversized PUBLISH. */
  | { readonly kind: 'topic'; readonly firstByte: number; readonly remaining: number; held: Buffer }
  /** Collecting the first bytes of an oversized PUBLISH's payload, for its marker. */
  | {
      readonly kind: 'head';
      readonly firstByte: number;
      readonly remaining: number;
      readonly variableHeader: Buffer;
      readonly head: Buffer;
      filled: number;
    }
  /** Discarding the rest of an oversized PUBLISH's payload. */
  | { readonly kind: 'skip'; left: number };

class PacketSizeGuard extends Transform {
  private state: State = { kind: 'header' };
  /** Bytes of a fixed header that started in an earlier chunk. */
  private header = Buffer.alloc(0);

  constructor(
    private readonly maxRemainingLength: number,
    private readonly headBytes: number,
    private readonly marker: OversizeMarker,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let index = 0;
    /** Start of the bytes of `chunk` that pass through unchanged, pushed together. */
    let passFrom = 0;
    const flushPassed = (end: number): void => {
      if (end > passFrom) this.push(chunk.subarray(passFrom, end));
    };
    while (index < chunk.length) {
      const state = this.state;
      switch (state.kind) {
        case 'pass': {
          const taken = Math.min(state.left, chunk.length - index);
          state.left -= taken;
          index += taken;
          if (state.left === 0) this.state = { kind: 'header' };
          break;
        }
        case 'skip': {
          const taken = Math.min(state.left, chunk.length - index);
          state.left -= taken;
          index += taken;
          passFrom = index;
          if (state.left === 0) this.state = { kind: 'header' };
          break;
        }
        case 'topic': {
          const wanted = variableHeaderBytes(state.firstByte, state.held) - state.held.length;
          const taken = Math.min(wanted, chunk.length - index);
          state.held = Buffer.concat([state.held, chunk.subarray(index, index + taken)]);
          index += taken;
          passFrom = index;
          if (variableHeaderBytes(state.firstByte, state.held) === state.held.length) {
            const payloadBytes = state.remaining - state.held.length;
            this.state = {
              kind: 'head',
              firstByte: state.firstByte,
              remaining: state.remaining,
              variableHeader: state.held,
              head: Buffer.alloc(Math.min(this.headBytes, payloadBytes)),
              filled: 0,
            };
            if (this.headBytes === 0 || payloadBytes === 0) this.emitMarked(this.state);
          }
          break;
        }
        case 'head': {
          const copied = chunk.copy(
            state.head,
            state.filled,
            index,
            index + state.head.length - state.filled,
          );
          state.filled += copied;
          index += copied;
          passFrom = index;
          if (state.filled === state.head.length) this.emitMarked(state);
          break;
        }
        case 'header': {
          const start = index;
          const fromEarlier = this.header.length;
          const header = readFixedHeader(chunk, index, this.header);
          if (header === undefined) {
            // The header continues in the next chunk: hold its bytes, since they may belong to a packet that must
            // not pass.
            flushPassed(start);
            this.header = Buffer.concat([this.header, chunk.subarray(index)]);
            index = chunk.length;
            passFrom = index;
            break;
          }
          index += header.bytesFromChunk;
          this.header = Buffer.alloc(0);
          const oversized = header.firstByte >> 4 === PUBLISH && header.remaining > this.maxRemainingLength;
          if (!oversized) {
            if (fromEarlier > 0) {
              // The first bytes of this header were held back from the previous chunk: send the whole header now.
              flushPassed(start);
              this.push(Buffer.concat([header.held, chunk.subarray(start, index)]));
              passFrom = index;
            }
            this.state = header.remaining > 0 ? { kind: 'pass', left: header.remaining } : { kind: 'header' };
            break;
          }
          flushPassed(start);
          passFrom = index;
          this.state = {
            kind: 'topic',
            firstByte: header.firstByte,
            remaining: header.remaining,
            held: Buffer.alloc(0),
          };
          break;
        }
      }
    }
    flushPassed(index);
    callback();
  }

  /** Pushes the PUBLISH with its payload replaced by a marker, and skips the rest of the payload's bytes. */
  private emitMarked(state: State & { kind: 'head' }): void {
    const { firstByte, remaining, variableHeader, head } = state;
    const dropped = remaining - variableHeader.length;
    const marker = this.marker.encode(dropped, head);
    const length = encodeRemainingLength(variableHeader.length + marker.length);
    this.push(Buffer.concat([Buffer.from([firstByte]), length, variableHeader, marker]));
    const left = dropped - head.length;
    this.state = left > 0 ? { kind: 'skip', left } : { kind: 'header' };
  }
}

interface FixedHeader {
  readonly firstByte: number;
  readonly remaining: number;
  /** Header bytes taken from this chunk (the rest came from earlier ones). */
  readonly bytesFromChunk: number;
  /** The header bytes that came from earlier chunks. */
  readonly held: Buffer;
}

/**
 * Reads a fixed header made of `held` (bytes from earlier chunks) followed by `chunk` from `index`; undefined when
 * it is not complete yet. A malformed length (a fifth length byte) is passed on for MQTT.js to reject.
 */
function readFixedHeader(chunk: Buffer, index: number, held: Buffer): FixedHeader | undefined {
  const byteAt = (position: number): number | undefined =>
    position < held.length ? held[position] : chunk[index + position - held.length];
  const firstByte = byteAt(0);
  if (firstByte === undefined) return undefined;
  let remaining = 0;
  let multiplier = 1;
  for (let position = 1; position <= 4; position++) {
    const byte = byteAt(position);
    if (byte === undefined) return undefined;
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0 || position === 4) {
      return { firstByte, remaining, bytesFromChunk: position + 1 - held.length, held };
    }
  }
  return undefined;
}

/** Bytes of a PUBLISH's variable header: topic length, topic, and a packet id unless QoS 0. */
function variableHeaderBytes(firstByte: number, held: Buffer): number {
  const packetIdBytes = (firstByte >> 1) & 0x03 ? 2 : 0;
  if (held.length < 2) return 2 + packetIdBytes;
  return 2 + held.readUInt16BE(0) + packetIdBytes;
}

function encodeRemainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let left = length;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return Buffer.from(bytes);
}
