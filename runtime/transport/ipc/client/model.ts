import { Ipc } from '../../../contract';
import { objectMembers, parseSpan } from '../../../message';

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

const EVENT_KEYS: ReadonlySet<string> = new Set(['jsonMessage', 'binaryMessage']);
const BODY_KEYS: ReadonlySet<string> = new Set(['message', 'context']);
const CONTEXT_KEYS: ReadonlySet<string> = new Set(['topic']);

/**
 * Reads a `SubscriptionResponseMessage`: `{"jsonMessage":{"message":{...},"context":{"topic":"..."}}}` or
 * `{"binaryMessage":{"message":"<base64>","context":{"topic":"..."}}}`. `subscribedTopic` stands in for a missing
 * context (nucleus versions before 2.6.0 sent none), without its wildcard levels.
 *
 * The event is scanned, not parsed (`json-scan.ts`): a `jsonMessage`'s message is handed over as the JSON text the
 * nucleus wrote, so that the connector's own checks (nesting depth first) see it before anything parses it, and a
 * message nested thousands of levels deep becomes a status rather than a stack overflow.
 */
export function parseSubscriptionMessage(payload: Buffer, subscribedTopic: string): TopicMessage {
  // A binaryMessage holds a base64 string, so it cannot be deep: the native parser reads it for less than the scan
  // below costs.
  if (payload.subarray(0, BINARY_EVENT_START.length).equals(BINARY_EVENT_START)) {
    const parsed = parseBinaryEvent(payload, subscribedTopic);
    if (parsed) return parsed;
  }
  const body = messageBody(payload);
  if (body === undefined) {
    throw new MalformedEventError('IPC event has neither jsonMessage nor binaryMessage');
  }
  const members = objectMembers(payload, body.start, BODY_KEYS);
  const context = members.get('context');
  const topicSpan = context && objectMembers(payload, context.start, CONTEXT_KEYS).get('topic');
  const topic = eventTopic(topicSpan && parseSpan(payload, topicSpan), subscribedTopic);
  const message = members.get('message');
  if (body.kind === 'json') {
    if (message?.end === undefined) return { topic, payload: Buffer.from('null') };
    return { topic, payload: payload.subarray(message.start, message.end) };
  }
  const base64 = message && parseSpan(payload, message);
  if (typeof base64 !== 'string') throw new MalformedEventError('IPC binaryMessage has no base64 message');
  return { topic, payload: Buffer.from(base64, 'base64') };
}

/** How the nucleus starts the event of a binary message (compact JSON, the message first). */
const BINARY_EVENT_START = Buffer.from('{"binaryMessage":{');

/** A binary event read with `JSON.parse`; undefined when it is not one after all (left for the scan). */
function parseBinaryEvent(payload: Buffer, subscribedTopic: string): TopicMessage | undefined {
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const body = field(event, 'binaryMessage');
  const base64 = field(body, 'message');
  if (typeof base64 !== 'string' || field(event, 'jsonMessage') !== undefined) return undefined;
  return {
    topic: eventTopic(field(field(body, 'context'), 'topic'), subscribedTopic),
    payload: Buffer.from(base64, 'base64'),
  };
}

/** The event's `context.topic`, or without one the subscribed topic's levels before its first wildcard. */
function eventTopic(contextTopic: unknown, subscribedTopic: string): string {
  return typeof contextTopic === 'string' && contextTopic !== ''
    ? contextTopic
    : literalPrefix(subscribedTopic);
}

/**
 * The first bytes of the message inside the first bytes of an event too large to read whole: the JSON text of a
 * `jsonMessage`, or what the base64 of a `binaryMessage` decodes to. Empty when they are not there.
 */
export function messageHead(eventHead: Buffer): Buffer {
  const body = messageBody(eventHead, true);
  const message = body && objectMembers(eventHead, body.start, BODY_KEYS).get('message');
  if (!body || !message) return Buffer.alloc(0);
  if (body.kind === 'json') return eventHead.subarray(message.start, message.end);
  if (eventHead[message.start] !== 0x22) return Buffer.alloc(0);
  // Base64 has no character JSON escapes but "/" (as "\/"); what comes before the first escape decodes alone.
  let end = message.end === undefined ? eventHead.length : message.end - 1;
  const escape = eventHead.indexOf(0x5c, message.start + 1);
  if (escape !== -1 && escape < end) end = escape;
  const characters = end - message.start - 1;
  const whole = characters - (characters % 4);
  return Buffer.from(eventHead.toString('latin1', message.start + 1, message.start + 1 + whole), 'base64');
}

/** Where the event's `jsonMessage` or `binaryMessage` object starts; with `partial`, one cut short will do. */
function messageBody(
  event: Buffer,
  partial = false,
): { readonly kind: 'json' | 'binary'; readonly start: number } | undefined {
  const members = objectMembers(event, 0, EVENT_KEYS);
  for (const [key, kind] of [
    ['jsonMessage', 'json'],
    ['binaryMessage', 'binary'],
  ] as const) {
    const span = members.get(key);
    if (span && event[span.start] === 0x7b && (partial || span.end !== undefined))
      return { kind, start: span.start };
  }
  return undefined;
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
