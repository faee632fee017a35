import { FirehoseLimits } from './firehose-limits';
import { IpcClientOptions, GreengrassIpcClient } from './ipc/client';
import type { IpcEndpoint } from './ipc/environment';
import { IpcService, PublishToIoTCore, Qos } from './ipc/model';
import { IPC_INPUT_TOPICS, IPC_STATUS_TOPIC } from './ipc/topics';
import { IpcServiceError } from './ipc/operation';
import type { SubscriptionEvent, TopicSubscription } from './ipc/subscription';
import { splitStatusPayload } from './iot-core-status';
import { describeError, Logger } from './logger';
import { ConnectorErrorCode, failStatus, statusPayload } from './status';
import { MessageHandler, settleAll, Transport } from './transport';

export interface IpcTransportOptions {
  readonly endpoint: IpcEndpoint;
  /** Subscribe to the input topics on local publish/subscribe (`InputSource` `ipc` or `both`). */
  readonly intake: boolean;
  /** Publish statuses on local publish/subscribe. */
  readonly statusToLocal: boolean;
  /** Also publish statuses to AWS IoT Core, QoS 1 (`StatusToIoTCore`). */
  readonly statusToIoTCore: boolean;
  /** Client settings beyond the endpoint (backoff, frame size), for tests. @default the client's defaults */
  readonly client?: Partial<Omit<IpcClientOptions, 'socketPath' | 'authToken' | 'logger'>>;
}

/**
 * The connector's Greengrass IPC source: subscribes to the input topics on local publish/subscribe and publishes
 * statuses there and, when asked, to AWS IoT Core. One connection carries both; the client reconnects and
 * resubscribes on its own. Local publish/subscribe has no acknowledgement or persistence: a message is taken once
 * the handler resolves, and messages published while the connector is not subscribed are not kept for it.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-publish-subscribe.html
 */
export class IpcTransport implements Transport {
  private readonly subscriptions: TopicSubscription[] = [];

  private constructor(
    private readonly client: GreengrassIpcClient,
    private readonly options: IpcTransportOptions,
    private readonly logger: Logger,
  ) {}

  static open(options: IpcTransportOptions, onMessage: MessageHandler, logger: Logger): IpcTransport {
    const client = GreengrassIpcClient.connect({
      ...options.client,
      socketPath: options.endpoint.socketPath,
      authToken: options.endpoint.authToken,
      logger,
    });
    const transport = new IpcTransport(client, options, logger);
    if (options.intake) {
      for (const topic of IPC_INPUT_TOPICS) {
        transport.subscriptions.push(
          client.subscribe(topic, (event) => transport.take(topic, event, onMessage)),
        );
      }
    }
    return transport;
  }

  /** Resolves once connected and, with intake, subscribed to both input topics. */
  async ready(): Promise<void> {
    await this.client.connected();
    await Promise.all(this.subscriptions.map((subscription) => subscription.ready));
  }

  async publishStatus(payload: string): Promise<void> {
    const publishes: Promise<void>[] = [];
    if (this.options.statusToLocal) {
      publishes.push(
        this.client
          .publishToTopic(IPC_STATUS_TOPIC, payload)
          .catch(destinationError('local publish/subscribe')),
      );
    }
    if (this.options.statusToIoTCore) {
      for (const part of splitStatusPayload(payload)) {
        publishes.push(
          this.client
            .publishToIoTCore(IPC_STATUS_TOPIC, part, Qos.atLeastOnce)
            .catch(destinationError('AWS IoT Core', iotCoreHint)),
        );
      }
    }
    await settleAll(publishes);
  }

  /** Ends the input subscriptions; the nucleus stops delivering (and, being publish/subscribe, keeps nothing). */
  async stopIntake(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.close();
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Hands a message to the connector, or answers what cannot become one. Never rejects. */
  private async take(
    subscribedTopic: string,
    event: SubscriptionEvent,
    onMessage: MessageHandler,
  ): Promise<void> {
    if (event.kind === 'message') return onMessage(event.message.topic, event.message.payload);
    const failure =
      event.kind === 'oversized'
        ? failStatus(
            '',
            ConnectorErrorCode.RecordTooLarge,
            `IPC message is ${event.bytes} bytes, more than the connector reads; a record may be at most ` +
              `${FirehoseLimits.maxRecordBytes} bytes`,
          )
        : failStatus('', ConnectorErrorCode.InvalidRequest, `IPC message could not be read: ${event.reason}`);
    this.logger.warn('Refused an IPC message', {
      subscription: subscribedTopic,
      errorCode: failure.ErrorCode,
      ...(event.kind === 'oversized' ? { bytes: event.bytes } : {}),
    });
    // Not through the connector's status batching: it never reached intake, and it is rare. Not awaited either: the
    // nucleus's answer arrives on this connection, which reads nothing while this handler runs.
    void this.publishStatus(statusPayload([failure])).catch((error: unknown) =>
      this.logger.warn('Could not publish a status message', { entries: 1, ...describeError(error) }),
    );
  }
}

const iotCoreHint = ` (the component's accessControl must allow ${PublishToIoTCore.name} on ${IPC_STATUS_TOPIC} in ${IpcService.mqttproxy})`;

/** Names the destination in a failed publish, with what to check when the nucleus refused it. */
function destinationError(destination: string, unauthorizedHint = '') {
  return (error: unknown): never => {
    const hint = error instanceof IpcServiceError && error.isUnauthorized ? unauthorizedHint : '';
    throw new Error(`${destination}: ${describeError(error).errorMessage}${hint}`);
  };
}
