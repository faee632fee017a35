import { Ipc } from '../../contract';
import { describeError, type Logger } from '../../logger';
import {
  ConnectorErrorCode,
  MAX_JSON_MESSAGE_BYTES,
  MESSAGE_HEAD_BYTES,
  failStatus,
  type FailStatus,
  statusPayload,
} from '../../message';
import { type MessageHandler, settleAll, type Transport } from '../transport';
import {
  GreengrassIpcClient,
  type IpcClientOptions,
  IpcService,
  IpcServiceError,
  literalPrefix,
  PublishToIoTCore,
  Qos,
  type SubscriptionEvent,
  type TopicSubscription,
} from './client';
import type { IpcEndpoint } from './environment';
import { splitStatusPayload } from './iot-core-status';

/**
 * Longest IPC message read whole: the largest JSON message that can hold a valid record (`MAX_JSON_MESSAGE_BYTES`,
 * every byte escaped), as the base64 of a `binaryMessage`, with room for its topic and the event's JSON. A longer
 * message is never held: its payload is dropped as it arrives, and the connector answers it with `RecordTooLarge`.
 */
export const MAX_IPC_MESSAGE_BYTES = Math.ceil(MAX_JSON_MESSAGE_BYTES / 3) * 4 + 64 * 1024;

export interface IpcTransportOptions {
  readonly endpoint: IpcEndpoint;
  /** Subscribe to the input topics on local publish/subscribe (`InputSource` `ipc` or `both`). */
  readonly intake: boolean;
  /** Publish statuses on local publish/subscribe. */
  readonly statusToLocal: boolean;
  /** Also publish statuses to AWS IoT Core, QoS 1 (`StatusToIoTCore`). */
  readonly statusToIoTCore: boolean;
  /** Client settings beyond the endpoint (backoff, frame size), for tests. @default the client's defaults, MAX_IPC_MESSAGE_BYTES */
  readonly client?: Partial<Omit<IpcClientOptions, 'socketPath' | 'authToken' | 'logger' | 'role'>>;
}

/**
 * The connector's Greengrass IPC source: subscribes to the input topics on local publish/subscribe and publishes
 * statuses there and, when asked, to AWS IoT Core. Like the MQTT transport it keeps two connections, each reconnecting
 * and resubscribing on its own: intake reads one message at a time and holds the nucleus back while the connector is
 * busy, so the answers to status publishes travel on the other connection instead of queueing behind input. Local
 * publish/subscribe has no acknowledgement or persistence: a message is taken once the handler resolves, and
 * messages published while the connector is not subscribed are not kept for it.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-publish-subscribe.html
 */
export class IpcTransport implements Transport {
  private readonly subscriptions: TopicSubscription[] = [];

  private constructor(
    private readonly intake: GreengrassIpcClient | undefined,
    private readonly status: GreengrassIpcClient | undefined,
    private readonly options: IpcTransportOptions,
    private readonly logger: Logger,
  ) {}

  static open(options: IpcTransportOptions, onMessage: MessageHandler, logger: Logger): IpcTransport {
    const connect = (role: string) =>
      GreengrassIpcClient.connect({
        maxFrameBytes: MAX_IPC_MESSAGE_BYTES,
        // The base64 of a binaryMessage takes a third more than the message: keep enough for MESSAGE_HEAD_BYTES.
        oversizedHeadBytes: Math.ceil((MESSAGE_HEAD_BYTES * 4) / 3) + 1024,
        ...options.client,
        socketPath: options.endpoint.socketPath,
        authToken: options.endpoint.authToken,
        logger,
        role,
      });
    const publishesStatuses = options.statusToLocal || options.statusToIoTCore;
    const intake = options.intake ? connect('intake') : undefined;
    const transport = new IpcTransport(
      intake,
      publishesStatuses ? connect('status') : undefined,
      options,
      logger,
    );
    for (const topic of intake ? Ipc.inputTopics : []) {
      transport.subscriptions.push(
        intake!.subscribe(topic, (event) => transport.take(topic, event, onMessage)),
      );
    }
    return transport;
  }

  /** Resolves once connected and, with intake, subscribed to both input topics. */
  async ready(): Promise<void> {
    await Promise.all([
      this.status?.connected(),
      ...this.subscriptions.map((subscription) => subscription.ready),
    ]);
  }

  /** Not async, so that a status waiting for the nucleus's answer does not keep its payload. */
  publishStatus(payload: string): Promise<void> {
    const { status } = this;
    if (!status) return Promise.resolve();
    const publishes: Promise<void>[] = [];
    if (this.options.statusToLocal) {
      publishes.push(
        status.publishToTopic(Ipc.statusTopic, payload).catch(destinationError('local publish/subscribe')),
      );
    }
    if (this.options.statusToIoTCore) {
      for (const part of splitStatusPayload(payload)) {
        publishes.push(
          status
            .publishToIoTCore(Ipc.statusTopic, part, Qos.atLeastOnce)
            .catch(destinationError('AWS IoT Core', iotCoreHint)),
        );
      }
    }
    return settleAll(publishes);
  }

  /** Closes the intake connection; the nucleus stops delivering (and, being publish/subscribe, keeps nothing). */
  async stopIntake(): Promise<void> {
    await this.intake?.close();
  }

  async close(): Promise<void> {
    await Promise.all([this.intake?.close(), this.status?.close()]);
  }

  /**
   * Hands a message to the connector, or answers what cannot become one. Never rejects: a failure with one message
   * becomes its status, and intake reads on.
   */
  private async take(subscribed: string, event: SubscriptionEvent, onMessage: MessageHandler): Promise<void> {
    try {
      await this.takeOne(subscribed, event, onMessage);
    } catch (error) {
      this.logger.error('Could not take in an IPC message; answered it with an InternalError status', {
        subscription: subscribed,
        ...describeError(error),
      });
      this.answer(
        failStatus(
          '',
          ConnectorErrorCode.InternalError,
          `The connector failed to take in this message (${describeError(error).errorMessage})`,
        ),
      );
    }
  }

  private async takeOne(
    subscribed: string,
    event: SubscriptionEvent,
    onMessage: MessageHandler,
  ): Promise<void> {
    switch (event.kind) {
      case 'message':
        return onMessage(event.message.topic, event.message.payload, event.message.payload.length);
      case 'oversized':
        // Its topic was in the part left unread; the subscription's own levels stand in (no binary id). The first
        // bytes of the message may hold a JSON message's id.
        this.logger.warn('Skipped an IPC message larger than the connector reads', {
          subscription: subscribed,
          bytes: event.bytes,
        });
        return onMessage(literalPrefix(subscribed), event.head, event.bytes);
      case 'malformed': {
        // Not a message a component sent (the nucleus writes these events), so not one for the connector's intake.
        this.logger.error('Ignored an IPC event that is not a SubscriptionResponseMessage', {
          subscription: subscribed,
          reason: event.reason,
        });
        this.answer(
          failStatus('', ConnectorErrorCode.InvalidRequest, `IPC event unreadable: ${event.reason}`),
        );
        return;
      }
    }
  }

  /** Publishes the status of a message the connector's intake never saw. */
  private answer(failure: FailStatus): void {
    // Not awaited: intake waits for nothing but the connector.
    void this.publishStatus(statusPayload([failure])).catch((error: unknown) =>
      this.logger.warn('Could not publish a status message', { entries: 1, ...describeError(error) }),
    );
  }
}

const iotCoreHint = ` (the component's accessControl must allow ${PublishToIoTCore.name} on ${Ipc.statusTopic} in ${IpcService.mqttproxy})`;

/** Names the destination in a failed publish, with what to check when the nucleus refused it. */
function destinationError(destination: string, unauthorizedHint = '') {
  return (error: unknown): never => {
    const hint = error instanceof IpcServiceError && error.isUnauthorized ? unauthorizedHint : '';
    throw new Error(`${destination}: ${describeError(error).errorMessage}${hint}`);
  };
}
