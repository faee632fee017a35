import { describeError, type Logger } from '../../../logger';
import { backoffDelayMs, type BackoffOptions } from '../../../pacing';
import type { IpcConnection } from './connection';
import type { Frame } from './frame-reader';
import {
  IpcService,
  MalformedEventError,
  messageHead,
  parseSubscriptionMessage,
  SubscribeToTopic,
  type TopicMessage,
} from './model';
import { IpcServiceError, RpcOperation, type StreamEnd } from './operation';

/** What a subscription hands its handler. */
export type SubscriptionEvent =
  | { readonly kind: 'message'; readonly message: TopicMessage }
  /**
   * A message longer than the client reads: its size, and the first bytes of the message (of its JSON text, or of
   * its decoded binary) that the part of the event kept holds.
   */
  | { readonly kind: 'oversized'; readonly bytes: number; readonly head: Buffer }
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

  /** Hands one event to the handler. Never rejects: what fails is that event's, never the connection's. */
  private async deliver(frame: Frame): Promise<void> {
    try {
      await this.options.handler(this.eventOf(frame));
    } catch (error) {
      this.options.logger.error('An IPC subscription handler failed; reading on', {
        topic: this.options.topic,
        ...describeError(error),
      });
    }
  }

  private eventOf(frame: Frame): SubscriptionEvent {
    try {
      if (frame.kind === 'oversized') {
        return { kind: 'oversized', bytes: frame.totalBytes, head: messageHead(frame.message.payload) };
      }
      return {
        kind: 'message',
        message: parseSubscriptionMessage(frame.message.payload, this.options.topic),
      };
    } catch (error) {
      const reason = error instanceof MalformedEventError ? error.message : describeError(error).errorMessage;
      return { kind: 'malformed', reason };
    }
  }
}
