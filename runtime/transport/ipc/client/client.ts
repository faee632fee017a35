import { describeError, type Logger } from '../../../logger';
import { backoffDelayMs, type BackoffOptions } from '../../../pacing';
import { ConnectionRefusedError, IpcConnection } from './connection';
import {
  type OperationModel,
  PublishToIoTCore,
  publishToIoTCoreRequest,
  PublishToTopic,
  publishToTopicRequest,
  type QosValue,
} from './model';
import { RpcOperation } from './operation';
import { type SubscriptionHandler, TopicSubscription } from './subscription';

export interface IpcClientOptions {
  /** The nucleus's socket: `AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT`. */
  readonly socketPath: string;
  /** The component's IPC token: `SVCUID`. Never logged. */
  readonly authToken: string;
  readonly logger: Logger;
  /** What the connection is for, in its log lines (`connection`). @default none */
  readonly role?: string;
  /**
   * Delays between reconnection attempts, and between attempts to make a refused or ended subscription again.
   * @default about 1 s doubling to 30 s, with jitter (`backoffDelayMs`)
   */
  readonly backoff?: BackoffOptions;
  /**
   * Longest message read whole. A longer one is never held: its payload is dropped as it arrives, and its
   * subscription's handler gets an `oversized` event.
   */
  readonly maxFrameBytes: number;
  /** Bytes kept of the start of a message longer than `maxFrameBytes`, for its handler. @default 0 */
  readonly oversizedHeadBytes?: number;
  /**
   * Time allowed for the connect handshake and for the nucleus to answer each request.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
}

/**
 * A Greengrass IPC client on the nucleus's Unix socket, for the operations the connector uses. It owns the
 * connection: it connects at once, reconnects with backoff whenever the connection drops (nucleus restart, socket
 * closed), makes every subscription again on the new connection, and logs each step.
 */
export class GreengrassIpcClient {
  private readonly subscriptions = new Set<TopicSubscription>();
  private connection?: IpcConnection;
  private closed = false;
  private readonly firstConnection: Promise<void>;
  private markConnected!: () => void;
  private cancelWait?: () => void;
  private readonly loop: Promise<void>;

  private constructor(private readonly options: IpcClientOptions) {
    this.firstConnection = new Promise((resolve) => (this.markConnected = resolve));
    this.loop = this.run();
  }

  /** Starts connecting; requests made before the connection is up are refused, subscriptions wait for it. */
  static connect(options: IpcClientOptions): GreengrassIpcClient {
    return new GreengrassIpcClient(options);
  }

  /** Resolves on the first successful connection. */
  connected(): Promise<void> {
    return this.firstConnection;
  }

  /** Subscribes to `topic` (MQTT wildcards allowed) on this and every later connection, until closed. */
  subscribe(topic: string, handler: SubscriptionHandler): TopicSubscription {
    const subscription = new TopicSubscription({
      topic,
      handler,
      logger: this.options.logger,
      backoff: this.options.backoff ?? {},
      requestTimeoutMs: this.requestTimeoutMs,
    });
    this.subscriptions.add(subscription);
    if (this.connection?.isOpen) subscription.attach(this.connection);
    return subscription;
  }

  /** Publishes `payload` (UTF-8 text) as a `binaryMessage` on local publish/subscribe. */
  publishToTopic(topic: string, payload: string): Promise<void> {
    // Not async: a suspended async frame would keep `payload` until the nucleus answers.
    return this.request(PublishToTopic, publishToTopicRequest(topic, payload)).then(() => undefined);
  }

  /** Publishes `payload` (UTF-8 text) to AWS IoT Core through the nucleus's MQTT connection. */
  publishToIoTCore(topicName: string, payload: string, qos: QosValue): Promise<void> {
    return this.request(PublishToIoTCore, publishToIoTCoreRequest(topicName, payload, qos)).then(
      () => undefined,
    );
  }

  /**
   * Stops reading and reconnecting, hands the messages already read to their subscriptions, then ends the
   * subscriptions (the nucleus drops them with the connection). Resolves once every handler has returned.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelWait?.();
    this.connection?.close();
    await this.loop;
    for (const subscription of this.subscriptions) subscription.close();
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? 10_000;
  }

  private request(model: OperationModel, request: object): Promise<Buffer> {
    const connection = this.connection;
    if (!connection?.isOpen) {
      return Promise.reject(new Error('Not connected to the Greengrass nucleus (IPC); reconnecting'));
    }
    return new RpcOperation(connection, model).activate(request, this.requestTimeoutMs);
  }

  private async run(): Promise<void> {
    const { logger, socketPath, role } = this.options;
    const where = { socket: socketPath, connection: role };
    let failures = 0;
    while (!this.closed) {
      try {
        logger.debug('Connecting to the Greengrass nucleus over IPC', where);
        const connection = await IpcConnection.open({
          socketPath,
          authToken: this.options.authToken,
          maxFrameBytes: this.options.maxFrameBytes,
          oversizedHeadBytes: this.options.oversizedHeadBytes ?? 0,
          connectTimeoutMs: this.requestTimeoutMs,
        });
        if (this.closed) {
          connection.close();
          break;
        }
        failures = 0;
        this.connection = connection;
        logger.info('Connected to the Greengrass nucleus over IPC', where);
        this.markConnected();
        for (const subscription of this.subscriptions) subscription.attach(connection);
        void connection.socketClosed.then((unhandled) => {
          if (unhandled > 0) {
            logger.info('IPC connection closed; handing over the messages already read first', {
              ...where,
              messages: unhandled,
            });
          }
        });
        const reason = await connection.closed;
        this.connection = undefined;
        for (const subscription of this.subscriptions) subscription.detach();
        if (this.closed) break;
        logger.warn('IPC connection to the nucleus lost', {
          ...where,
          ...(reason ? describeError(reason) : {}),
        });
      } catch (error) {
        if (this.closed) break;
        const fields = { ...where, ...describeError(error) };
        // A refused token does not fix itself; it is logged as an error, but retried in case the nucleus restarted.
        if (error instanceof ConnectionRefusedError)
          logger.error('The nucleus refused the IPC connection', fields);
        else logger.warn('Could not connect to the Greengrass nucleus over IPC', fields);
      }
      failures++;
      const retryInMs = backoffDelayMs(failures, this.options.backoff);
      logger.info('Reconnecting to the nucleus', { ...where, attempt: failures, retryInMs });
      await this.wait(retryInMs);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cancelWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
