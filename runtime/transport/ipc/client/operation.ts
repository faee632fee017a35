import type { IpcConnection } from './connection';
import type { Frame } from './frame-reader';
import { errorMessageOf, type OperationModel } from './model';
import { CONTENT_TYPE_JSON, HeaderName, MessageFlags, MessageType, terminates } from './protocol';

/** The nucleus answered with an error shape (`aws.greengrass#UnauthorizedError`, ...) or a plain-text error. */
export class IpcServiceError extends Error {
  override readonly name = 'IpcServiceError';
  constructor(
    /** The error's `service-model-type`, e.g. `aws.greengrass#UnauthorizedError`; empty for unmodeled errors. */
    readonly shape: string,
    message: string,
  ) {
    super(message);
  }

  get isUnauthorized(): boolean {
    return this.shape === 'aws.greengrass#UnauthorizedError';
  }
}

/** Why a stream ended: the server terminated it, the connection closed, or the client closed it. */
export type StreamEnd = 'server' | 'connection' | 'client';

export interface OperationHandlers {
  /** Each message the server streams after the response. Returning a promise holds the connection's reading. */
  readonly onEvent?: (frame: Frame) => void | Promise<void>;
  /** Called once, when the stream ends after a successful response. */
  readonly onEnd?: (end: StreamEnd) => void;
}

/**
 * One operation on one stream: a typed request, its response (or error), then, for streaming operations, events
 * until one side terminates the stream. `close()` is the one way out, whoever ends it.
 * @see https://github.com/aws/aws-iot-device-sdk-js-v2/blob/main/lib/eventstream_rpc.ts (OperationBase, StreamingOperation)
 */
export class RpcOperation {
  /** Taken when the request is sent. */
  private streamId?: number;
  private state: 'new' | 'activating' | 'active' | 'ended' = 'new';
  private settle?: { resolve: (payload: Buffer) => void; reject: (error: Error) => void };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly connection: IpcConnection,
    private readonly model: OperationModel,
    private readonly handlers: OperationHandlers = {},
  ) {}

  /**
   * Sends the request and resolves with the response's JSON payload. Rejects with `IpcServiceError` when the
   * nucleus answers with an error, or with a plain `Error` when the connection closes or `timeoutMs` passes first.
   */
  activate(request: object, timeoutMs: number): Promise<Buffer> {
    if (this.state !== 'new') return Promise.reject(new Error(`${this.model.name} was already activated`));
    // Encoded here and captured by no closure, so a request waiting for its answer does not keep its payload.
    const payload = Buffer.from(JSON.stringify(request), 'utf8');
    const response = new Promise<Buffer>((resolve, reject) => (this.settle = { resolve, reject }));
    this.state = 'activating';
    try {
      const listener = {
        onFrame: (frame: Frame) => this.onFrame(frame),
        onConnectionClosed: () => this.end('connection', new Error('The IPC connection closed')),
      };
      this.streamId = this.connection.startStream(listener, {
        type: MessageType.ApplicationMessage,
        flags: MessageFlags.None,
        headers: {
          [HeaderName.operation]: this.model.name,
          [HeaderName.serviceModelType]: this.model.requestShape,
          [HeaderName.contentType]: CONTENT_TYPE_JSON,
        },
        payload,
      });
    } catch (error) {
      this.end('client', error as Error);
      return response;
    }
    this.timer = setTimeout(
      () => this.close(new Error(`The nucleus did not answer ${this.model.name} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    return response;
  }

  /**
   * Ends the stream: tells the server if it is still open, stops delivering events, and rejects a pending
   * `activate` with `reason`. Safe to call again.
   */
  close(reason = new Error(`${this.model.name} was closed before the nucleus answered`)): void {
    if (this.state === 'activating' || this.state === 'active') this.terminateOnServer();
    this.end('client', reason);
  }

  /** Once the request is sent the server has the stream (and, for a subscription, the subscription) until told. */
  private terminateOnServer(): void {
    if (this.streamId === undefined) return;
    try {
      this.connection.send(this.streamId, {
        type: MessageType.ApplicationMessage,
        flags: MessageFlags.TerminateStream,
        headers: {},
        payload: Buffer.alloc(0),
      });
    } catch {
      // A nucleus too far behind to take this message drops the stream with the connection anyway.
    }
  }

  private async onFrame(frame: Frame): Promise<void> {
    const { message } = frame;
    if (this.state === 'activating') {
      clearTimeout(this.timer);
      const shape = message.headers[HeaderName.serviceModelType] ?? '';
      const error =
        frame.kind === 'oversized'
          ? new IpcServiceError(
              '',
              `${this.model.name} response of ${frame.totalBytes} bytes is too large to read`,
            )
          : message.type !== MessageType.ApplicationMessage || shape !== this.model.responseShape
            ? new IpcServiceError(
                shape,
                errorMessageOf(message.payload) || `unexpected ${shape || 'message'}`,
              )
            : undefined;
      const settle = this.settle!;
      this.settle = undefined;
      if (error) {
        // An answer the client cannot take leaves the stream open on the server unless it ended it: end it there, as
        // the official client does, or a retried subscription would have the nucleus send every message twice.
        if (!terminates(message)) this.terminateOnServer();
        this.end('server');
        return settle.reject(error);
      }
      this.state = 'active';
      // A response with TerminateStream ends a request-response operation at once.
      if (terminates(message)) this.end('server');
      return settle.resolve(message.payload);
    }
    if (this.state !== 'active') return;
    const endsHere = terminates(message) && message.payload.length === 0;
    if (!endsHere && message.type === MessageType.ApplicationMessage) await this.handlers.onEvent?.(frame);
    if (terminates(message) || message.type === MessageType.ApplicationError) this.end('server');
  }

  private end(how: StreamEnd, error?: Error): void {
    if (this.state === 'ended') return;
    const wasActive = this.state === 'active';
    this.state = 'ended';
    clearTimeout(this.timer);
    if (this.streamId !== undefined) this.connection.releaseStream(this.streamId);
    if (this.settle && error) this.settle.reject(error);
    this.settle = undefined;
    if (wasActive) this.handlers.onEnd?.(how);
  }
}
