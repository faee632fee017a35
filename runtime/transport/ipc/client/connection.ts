import { createConnection, type Socket } from 'node:net';
import { type Frame, FrameReader } from './frame-reader';
import {
  CONTENT_TYPE_JSON,
  encodeMessage,
  HeaderName,
  MessageFlags,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  type RpcMessage,
} from './protocol';

export interface IpcConnectionOptions {
  /** The nucleus's socket: `AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT`. */
  readonly socketPath: string;
  /** The component's IPC token: `SVCUID`. */
  readonly authToken: string;
  /** Longest message read whole; longer ones reach their stream as `oversized` frames. */
  readonly maxFrameBytes: number;
  /** Bytes kept of the start of an oversized message's payload. */
  readonly oversizedHeadBytes: number;
  /** Time allowed for the socket to open and the nucleus to answer `Connect`. */
  readonly connectTimeoutMs: number;
}

/**
 * Most bytes a connection leaves waiting to be written before it refuses to send more: a nucleus that stops reading
 * must not make the connector buffer statuses without bound.
 */
export const MAX_UNWRITTEN_BYTES = 8 * 1024 * 1024;

/** Receives the messages of one stream. */
export interface StreamListener {
  /**
   * A message on the stream. When it returns a promise the connection reads nothing more until it settles, so a
   * slow consumer holds the nucleus back instead of queueing messages in memory. It must therefore never wait for
   * another message on this connection (a response to a request it made), which would not be read.
   */
  onFrame(frame: Frame): void | Promise<void>;
  /** The connection closed while the stream was open. */
  onConnectionClosed(): void;
}

/** The nucleus refused the connection: the `ConnectAck` came without `ConnectionAccepted`. */
export class ConnectionRefusedError extends Error {
  override readonly name = 'ConnectionRefusedError';
}

/**
 * One session with the nucleus: the socket, the connect/ack handshake with the component's token, and the routing of
 * messages to the streams opened on it. It does not reconnect; `GreengrassIpcClient` does, with a new connection.
 * @see https://github.com/aws/aws-iot-device-sdk-js-v2/blob/main/lib/eventstream_rpc.ts (RpcClient.connect)
 */
export class IpcConnection {
  /**
   * Resolves when the socket has closed and every message read from it has been handed to its stream, with the error
   * that closed it if any.
   */
  readonly closed: Promise<Error | undefined>;
  /** Resolves as soon as the socket has closed, with the number of messages read and not yet handed over. */
  readonly socketClosed: Promise<number>;
  private markClosed!: (reason: Error | undefined) => void;
  private readonly streams = new Map<number, StreamListener>();
  private nextStreamId = 1;
  private isClosed = false;
  private closeReason?: Error;
  /**
   * Messages read from the socket and not yet handed to their stream: those of one read, since reading pauses while
   * there are any. They were read, so the nucleus counts them delivered: each goes to its stream even when the
   * connection closes meanwhile, and the streams hear of the close only after them.
   */
  private readonly unhandled: Frame[] = [];
  private handing = false;
  private finished = false;

  private constructor(
    private readonly socket: Socket,
    reader: FrameReader,
    pending: Frame[],
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve(this.unhandled.length)));
    socket.once('close', () => {
      this.isClosed = true;
      if (!this.handing) this.finish();
    });
    socket.on('error', (error) => (this.closeReason ??= error));
    this.readFrom(reader, pending);
  }

  /** Opens the socket and completes the handshake; rejects if either fails or the nucleus refuses the token. */
  static open(options: IpcConnectionOptions): Promise<IpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: options.socketPath });
      const reader = new FrameReader(options.maxFrameBytes, options.oversizedHeadBytes);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`The nucleus did not answer within ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      socket.once('error', fail);
      socket.once('close', () => fail(new Error('The nucleus closed the socket during the handshake')));
      socket.once('connect', () => socket.write(encodeMessage(connectMessage(options.authToken))));
      const onData = (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = reader.push(chunk);
        } catch (error) {
          return fail(error as Error);
        }
        if (frames.length === 0) return;
        const [ack, ...rest] = frames;
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', fail);
        socket.removeAllListeners('close');
        const { type, flags } = ack.message;
        if (type !== MessageType.ConnectAck || (flags & MessageFlags.ConnectionAccepted) === 0) {
          socket.destroy();
          return reject(
            type === MessageType.ConnectAck
              ? new ConnectionRefusedError('The nucleus refused the IPC connection: SVCUID was not accepted')
              : new ProtocolError(`Expected a ConnectAck, received message type ${type}`),
          );
        }
        resolve(new IpcConnection(socket, reader, rest));
      };
      socket.on('data', onData);
    });
  }

  /**
   * Sends the first message of a new stream and registers `listener` for the messages that come back on it. The
   * stream's id is taken only now: aws-c-event-stream's server requires each new stream id to be exactly the last
   * one plus one, and answers any other with a protocol error that closes the connection, so an id must never be
   * taken for a message that is not sent. Throws, taking no id, when the message cannot be sent.
   * @see https://github.com/awslabs/aws-c-event-stream/blob/main/source/event_stream_rpc_server.c (s_route_message_by_type)
   */
  startStream(listener: StreamListener, message: Omit<RpcMessage, 'streamId'>): number {
    if (this.isClosed) throw new Error('The IPC connection is closed');
    this.checkWritable();
    const id = this.nextStreamId++;
    this.streams.set(id, listener);
    this.socket.write(encodeMessage({ ...message, streamId: id }));
    return id;
  }

  /** Forgets a stream: later messages on it are dropped. */
  releaseStream(streamId: number): void {
    this.streams.delete(streamId);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /**
   * Writes a later message on a stream `startStream` opened; ignored once the connection is closed (its streams are
   * told so). Throws when more than `MAX_UNWRITTEN_BYTES` are still waiting to be written.
   */
  send(streamId: number, message: Omit<RpcMessage, 'streamId'>): void {
    if (this.isClosed) return;
    this.checkWritable();
    this.socket.write(encodeMessage({ ...message, streamId }));
  }

  private checkWritable(): void {
    const waiting = this.socket.writableLength;
    if (waiting > MAX_UNWRITTEN_BYTES) {
      throw new Error(`The nucleus is not reading: ${waiting} bytes are still waiting to be written`);
    }
  }

  /**
   * Closes the socket: nothing more is read. Messages already read still reach their streams, which then see
   * `onConnectionClosed`.
   */
  close(reason?: Error): void {
    if (reason) this.closeReason ??= reason;
    this.socket.destroy();
  }

  private readFrom(reader: FrameReader, pending: Frame[]): void {
    const queue = this.unhandled;
    queue.push(...pending);
    const handOver = async () => {
      this.handing = true;
      this.socket.pause();
      while (queue.length > 0) {
        try {
          await this.dispatch(queue.shift()!);
        } catch (error) {
          this.close(error as Error);
        }
      }
      this.handing = false;
      if (this.isClosed) this.finish();
      else this.socket.resume();
    };
    this.socket.on('data', (chunk: Buffer) => {
      try {
        queue.push(...reader.push(chunk));
      } catch (error) {
        return this.close(error as Error);
      }
      if (!this.handing && queue.length > 0) void handOver();
    });
    if (queue.length > 0) void handOver();
  }

  /** The socket is closed and every message read was handed over: the streams end. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const listeners = [...this.streams.values()];
    this.streams.clear();
    for (const listener of listeners) listener.onConnectionClosed();
    this.markClosed(this.closeReason);
  }

  private async dispatch(frame: Frame): Promise<void> {
    const { message } = frame;
    if (message.streamId !== 0) {
      await this.streams.get(message.streamId)?.onFrame(frame);
      return;
    }
    switch (message.type) {
      case MessageType.Ping:
        this.send(0, {
          type: MessageType.PingResponse,
          flags: MessageFlags.None,
          headers: {},
          payload: message.payload,
        });
        return;
      case MessageType.PingResponse:
        return;
      default:
        throw new ProtocolError(
          `The nucleus sent connection-level message type ${message.type}: ${message.payload.toString('utf8').slice(0, 200)}`,
        );
    }
  }
}

function connectMessage(authToken: string): RpcMessage {
  return {
    type: MessageType.Connect,
    flags: MessageFlags.None,
    streamId: 0,
    headers: { [HeaderName.version]: PROTOCOL_VERSION, [HeaderName.contentType]: CONTENT_TYPE_JSON },
    payload: Buffer.from(JSON.stringify({ authToken }), 'utf8'),
  };
}
