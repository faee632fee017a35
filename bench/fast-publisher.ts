import { connect, type Socket } from 'node:net';

/** Acknowledgements the publisher may wait for before it stops writing. Packet ids are 16-bit, so below 65,535. */
const DEFAULT_WINDOW = 20_000;
/** Bytes in flight at most, so that 1 MB payloads do not pile up in the socket. */
const WINDOW_BYTES = 32 * 1024 * 1024;
/** Packets encoded into one socket write. */
const PACKETS_PER_WRITE = 256;
/** A publish run fails when no acknowledgement arrives for this long. */
const STALL_TIMEOUT_MS = 30_000;

export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: Buffer;
}

/**
 * A minimal MQTT 3.1.1 QoS 1 publisher on a raw socket, so filling the broker with a backlog costs little CPU and
 * time next to what is measured. It speaks only CONNECT and PUBLISH; the broker's answers are then all 4 bytes long
 * (CONNACK, PUBACK), so counting bytes counts acknowledgements. Keep-alive is off: no PINGRESP can arrive.
 */
export class FastPublisher {
  private received = 0;
  private sent = 0;
  private nextPacketId = 1;
  private closedError: Error | undefined;
  private readonly progress = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.wake();
    });
    socket.on('close', () => {
      this.closedError ??= new Error('The broker closed the publisher connection');
      this.wake();
    });
    socket.on('error', (error) => {
      this.closedError = error;
    });
  }

  /** Connects with a clean session and resolves on a successful CONNACK. */
  static async connect(url: string, clientId: string): Promise<FastPublisher> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const publisher = new FastPublisher(socket);
    socket.write(connectPacket(clientId));
    await publisher.waitFor(() => publisher.received >= 4, 'CONNACK');
    return publisher;
  }

  get acknowledged(): number {
    return Math.max(0, Math.floor((this.received - 4) / 4));
  }

  /** Writes one QoS 1 PUBLISH now, without waiting for anything. */
  publish(message: OutgoingMessage): void {
    this.socket.write(this.encode(message));
  }

  /**
   * Publishes `count` messages made by `make(index)` with at most `window` unacknowledged, and resolves once the
   * broker has acknowledged them all (for an offline persistent session: once they are queued for it).
   */
  async publishAll(
    count: number,
    make: (index: number) => OutgoingMessage,
    window = DEFAULT_WINDOW,
  ): Promise<void> {
    const target = this.sent + count;
    let index = 0;
    while (index < count) {
      const packets: Buffer[] = [];
      let bytes = 0;
      while (index < count && packets.length < PACKETS_PER_WRITE) {
        const packet = this.encode(make(index++));
        packets.push(packet);
        bytes += packet.length;
      }
      const flushed = this.socket.write(packets.length === 1 ? packets[0] : Buffer.concat(packets, bytes));
      if (!flushed) await this.waitForDrain();
      const limit = Math.max(
        1,
        Math.min(window, Math.floor(WINDOW_BYTES / Math.max(1, bytes / packets.length))),
      );
      await this.waitFor(() => this.sent - this.acknowledged < limit, 'PUBACKs');
    }
    await this.waitFor(() => this.acknowledged >= target, 'the last PUBACKs');
  }

  /** Resolves once every message published so far is acknowledged. */
  async flush(): Promise<void> {
    const target = this.sent;
    await this.waitFor(() => this.acknowledged >= target, 'PUBACKs');
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    // DISCONNECT, so the broker does not publish a will or log an unexpected close.
    this.socket.end(Buffer.from([0xe0, 0x00]));
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  private encode({ topic, payload }: OutgoingMessage): Buffer {
    const packetId = this.nextPacketId;
    this.nextPacketId = packetId === 65_535 ? 1 : packetId + 1;
    this.sent++;
    const topicLength = Buffer.byteLength(topic);
    const remaining = 2 + topicLength + 2 + payload.length;
    const header = remainingLength(remaining);
    const packet = Buffer.allocUnsafe(1 + header.length + remaining - payload.length);
    let offset = packet.writeUInt8(0x32, 0); // PUBLISH, QoS 1
    offset += header.copy(packet, offset);
    offset = packet.writeUInt16BE(topicLength, offset);
    offset += packet.write(topic, offset);
    packet.writeUInt16BE(packetId, offset);
    return Buffer.concat([packet, payload], packet.length + payload.length);
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => this.socket.once('drain', resolve));
  }

  private async waitFor(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.closedError) throw this.closedError;
      const before = this.received;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STALL_TIMEOUT_MS);
        this.progress.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (this.received === before && !condition() && !this.closedError) {
        throw new Error(`No answer from the broker for ${STALL_TIMEOUT_MS} ms while waiting for ${what}`);
      }
    }
  }

  private wake(): void {
    const waiters = [...this.progress];
    this.progress.clear();
    for (const resolve of waiters) resolve();
  }
}

function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00]); // MQTT 3.1.1, clean
  const body = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let value = length;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}
