import { Ipc } from '../../../contract';

/**
 * The three Greengrass IPC operations the connector uses, with their wire shapes (JSON field names verbatim, as
 * in aws-iot-device-sdk-js-v2 `greengrasscoreipc/model`) and the one place they are mapped to the runtime's terms.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-publish-subscribe.html
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-iot-core-mqtt.html
 */

/** An operation: its name (the `operation` header) and the `service-model-type` of each message on its stream. */
export interface OperationModel {
  readonly name: string;
  readonly requestShape: string;
  readonly responseShape: string;
  /** Shape of the events the server streams after the response, for streaming operations. */
  readonly eventShape?: string;
}

export const SubscribeToTopic = {
  name: Ipc.operations.subscribeToTopic,
  requestShape: 'aws.greengrass#SubscribeToTopicRequest',
  responseShape: 'aws.greengrass#SubscribeToTopicResponse',
  eventShape: 'aws.greengrass#SubscriptionResponseMessage',
} as const satisfies OperationModel;

export const PublishToTopic = {
  name: Ipc.operations.publishToTopic,
  requestShape: 'aws.greengrass#PublishToTopicRequest',
  responseShape: 'aws.greengrass#PublishToTopicResponse',
} as const satisfies OperationModel;

export const PublishToIoTCore = {
  name: Ipc.operations.publishToIoTCore,
  requestShape: 'aws.greengrass#PublishToIoTCoreRequest',
  responseShape: 'aws.greengrass#PublishToIoTCoreResponse',
} as const satisfies OperationModel;

/** The IPC services (access control namespaces) that authorize the operations above. */
export const IpcService = Ipc.services;

export interface SubscribeToTopicRequest {
  readonly topic: string;
}

export interface PublishToTopicRequest {
  readonly topic: string;
  readonly publishMessage: {
    readonly jsonMessage?: { readonly message: unknown };
    /** `message` is base64. */
    readonly binaryMessage?: { readonly message: string };
  };
}

export const Qos = { atMostOnce: '0', atLeastOnce: '1' } as const;
export type QosValue = (typeof Qos)[keyof typeof Qos];

export interface PublishToIoTCoreRequest {
  readonly topicName: string;
  readonly qos: QosValue;
  /** Base64. */
  readonly payload: string;
}

/** An input message received on a subscription, in the runtime's terms. */
export interface TopicMessage {
  /** The topic it was published on (its `context.topic`). */
  readonly topic: string;
  /** The bytes of a `binaryMessage`, or the JSON text of a `jsonMessage`. */
  readonly payload: Buffer;
}

/** The event stream payload could not be read as a `SubscriptionResponseMessage`. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/**
 * Reads a `SubscriptionResponseMessage`: `{"jsonMessage":{"message":{...},"context":{"topic":"..."}}}` or
 * `{"binaryMessage":{"message":"<base64>","context":{"topic":"..."}}}`. `subscribedTopic` stands in for a missing
 * context (nucleus versions before 2.6.0 sent none), without its wildcard levels.
 */
export function parseSubscriptionMessage(payload: Buffer, subscribedTopic: string): TopicMessage {
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new MalformedEventError(`IPC event is not JSON: ${(error as Error).message}`);
  }
  const json = field(event, 'jsonMessage');
  const binary = field(event, 'binaryMessage');
  const body = json ?? binary;
  if (!isObject(body)) throw new MalformedEventError('IPC event has neither jsonMessage nor binaryMessage');
  const contextTopic = field(field(body, 'context'), 'topic');
  const topic =
    typeof contextTopic === 'string' && contextTopic !== '' ? contextTopic : literalPrefix(subscribedTopic);
  if (json !== undefined)
    return { topic, payload: Buffer.from(JSON.stringify(body.message ?? null), 'utf8') };
  if (typeof body.message !== 'string')
    throw new MalformedEventError('IPC binaryMessage has no base64 message');
  return { topic, payload: Buffer.from(body.message, 'base64') };
}

export function publishToTopicRequest(topic: string, payload: string): PublishToTopicRequest {
  return {
    topic,
    publishMessage: { binaryMessage: { message: Buffer.from(payload, 'utf8').toString('base64') } },
  };
}

export function publishToIoTCoreRequest(
  topicName: string,
  payload: string,
  qos: QosValue,
): PublishToIoTCoreRequest {
  return { topicName, qos, payload: Buffer.from(payload, 'utf8').toString('base64') };
}

/** The message of a modeled error (`{"message":"..."}`), or the payload as text. */
export function errorMessageOf(payload: Buffer): string {
  const text = payload.toString('utf8');
  try {
    const message = field(JSON.parse(text), 'message');
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the server's plain-text "InternalServerError".
  }
  return text;
}

/** `a/b/#` and `a/+/c` become `a/b` and `a`: the levels before the first wildcard. */
export function literalPrefix(filter: string): string {
  const levels = filter.split('/');
  const firstWildcard = levels.findIndex((level) => level === '#' || level === '+');
  return firstWildcard === -1 ? filter : levels.slice(0, firstWildcard).join('/');
}

function field(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
