import { describeError, type Logger } from '../../../logger';
import { backoffDelayMs, type BackoffOptions } from '../../../pacing';
import type { IpcConnection } from './connection';
import type { Frame } from './frame-reader';
import {
  IpcService,
  MalformedEventError,
  parseSubscriptionMessage,
  SubscribeToTopic,
  type TopicMessage,
} from './model';
import { IpcServiceError, RpcOperation, type StreamEnd } from './operation';

/** What a subscription hands its handler. */
export type SubscriptionEvent =
  | { readonly kind: 'message'; readonly message: TopicMessage }
  /** A message longer than the client reads; only its size is known. */
  | { readonly kind: 'oversized'; readonly bytes: number }
  /** An event that is not a `SubscriptionResponseMessage`. */
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * Handles one event. The connection reads nothing more until the promise settles, so a handler must never wait for
 * an answer from the nucleus (it would never be read), and must not reject.
 */
export type SubscriptionHandler = (event: SubscriptionEvent) => Promise<void>;

export interface TopicSubscriptionOptions {
  readonly topic: string;
  readonly handler: SubscriptionHandler;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly requestTimeoutMs: number;
}

/**
 * A `SubscribeToTopic` that outlives connections: made on every connection the client opens, made again (after a
 * backoff) when the nucleus refuses it or ends its stream, and ended with `close()`.
 */
export class TopicSubscription {
  /** Resolves on the first successful subscription. */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private connection?: IpcConnection;
  private operation?: RpcOperation;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: TopicSubscriptionOptions) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  get topic(): string {
    return this.options.topic;
  }

  /** Subscribes on a newly opened connection. */
  attach(connection: IpcConnection): void {
    this.detach();
    this.connection = connection;
    this.failures = 0;
    void this.subscribe(connection);
  }

  /** Forgets a connection that closed (its stream ended with it) and any retry planned on it. */
  detach(): void {
    clearTimeout(this.retryTimer);
    this.connection = undefined;
    this.operation = undefined;
  }

  /** Ends the subscription for good: the nucleus stops delivering, and it is not made again. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.operation?.close();
    this.operation = undefined;
  }

  private async subscribe(connection: IpcConnection): Promise<void> {
    if (this.closed || connection !== this.connection || !connection.isOpen) return;
    const { topic, logger, requestTimeoutMs } = this.options;
    const operation = new RpcOperation(connection, SubscribeToTopic, {
      onEvent: (frame) => this.deliver(frame),
      onEnd: (end) => this.onEnd(end, connection),
    });
    this.operation = operation;
    try {
      await operation.activate({ topic }, requestTimeoutMs);
    } catch (error) {
      if (this.closed || connection !== this.connection) return;
      this.failures++;
      const retryInMs = backoffDelayMs(this.failures, this.options.backoff);
      if (error instanceof IpcServiceError && error.isUnauthorized) {
        logger.error(
          `The nucleus refused the subscription: the component's accessControl must allow ` +
            `${SubscribeToTopic.name} on ${topic} (${IpcService.pubsub})`,
          { topic, retryInMs, ...describeError(error) },
        );
      } else {
        logger.warn('IPC subscription failed; trying again', { topic, retryInMs, ...describeError(error) });
      }
      this.retryTimer = setTimeout(() => void this.subscribe(connection), retryInMs);
      return;
    }
    if (this.closed) return operation.close();
    this.failures = 0;
    logger.info('Subscribed over IPC', { topic });
    this.markReady();
  }

  private onEnd(end: StreamEnd, connection: IpcConnection): void {
    if (end !== 'server' || this.closed || connection !== this.connection) return;
    this.failures++;
    const retryInMs = backoffDelayMs(this.failures, this.options.backoff);
    this.options.logger.warn('The nucleus ended the IPC subscription; subscribing again', {
      topic: this.options.topic,
      retryInMs,
    });
    this.retryTimer = setTimeout(() => void this.subscribe(connection), retryInMs);
  }

  private async deliver(frame: Frame): Promise<void> {
    if (frame.kind === 'oversized')
      return this.options.handler({ kind: 'oversized', bytes: frame.totalBytes });
    let message: TopicMessage;
    try {
      message = parseSubscriptionMessage(frame.message.payload, this.options.topic);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      return this.options.handler({ kind: 'malformed', reason: error.message });
    }
    return this.options.handler({ kind: 'message', message });
  }
}
