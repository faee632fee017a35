/**
 * The event stream RPC protocol that Greengrass IPC speaks over the nucleus's Unix socket: binary event stream
 * messages (prelude, headers, payload, CRCs) whose headers carry the RPC fields. Wire names and numbers stay
 * verbatim here; the rest of the client uses `RpcMessage`.
 *
 * The values are those of the official client (aws-iot-device-sdk-js-v2 `eventstream_rpc`, on aws-crt's
 * `eventstream.MessageType` / `MessageFlags`) and of the nucleus's server side (aws-iot-device-sdk-java-v2
 * `ServiceOperationMappingContinuationHandler`, `OperationContinuationHandler`).
 * @see https://github.com/aws/aws-iot-device-sdk-js-v2/blob/main/lib/eventstream_rpc.ts
 * @see https://github.com/awslabs/aws-c-event-stream/blob/main/include/aws/event-stream/event_stream_rpc.h
 */
import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

export const MessageType = {
  ApplicationMessage: 0,
  ApplicationError: 1,
  Ping: 2,
  PingResponse: 3,
  Connect: 4,
  ConnectAck: 5,
  ProtocolError: 6,
  InternalError: 7,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export const MessageFlags = {
  None: 0,
  /** On a `ConnectAck`: the server accepted the connection (authentication and authorization passed). */
  ConnectionAccepted: 1,
  /** On any stream message: the sender ends the stream; no more messages follow on it. */
  TerminateStream: 2,
} as const;

export const HeaderName = {
  messageType: ':message-type',
  messageFlags: ':message-flags',
  streamId: ':stream-id',
  version: ':version',
  contentType: ':content-type',
  /** Operation name on the first message of a stream, e.g. `aws.greengrass#SubscribeToTopic`. */
  operation: 'operation',
  /** Shape name of a JSON payload, e.g. `aws.greengrass#SubscriptionResponseMessage`. */
  serviceModelType: 'service-model-type',
} as const;

/** The only protocol version the nucleus accepts in `:version` on `Connect`; others get a refused `ConnectAck`. */
export const PROTOCOL_VERSION = '0.1.0';
export const CONTENT_TYPE_JSON = 'application/json';

/**
 * The largest message the nucleus's IPC server sends or takes: 24 MiB since aws-c-event-stream v0.5.4 (nucleus
 * 2.18.0, through aws-crt-java 0.45.0), 16 MiB before it (and 256 MiB in v0.5.2 and v0.5.3). A client that reads
 * a message over its own limit without holding it need not care which: it skips whatever length a prelude announces.
 * @see https://github.com/awslabs/aws-c-event-stream/blob/main/include/aws/event-stream/event_stream.h
 */
export const PROTOCOL_MAX_MESSAGE_BYTES = 24 * 1024 * 1024;
/**
 * Headers the client reads: the nucleus's are a handful of short names and values, so a prelude announcing more
 * means the stream is corrupt (aws-c-event-stream allowed 128 KiB before v0.5.3).
 */
export const PROTOCOL_MAX_HEADERS_BYTES = 128 * 1024;
/** Total length, headers length, prelude CRC. */
export const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC: the size of a message with neither headers nor payload. */
export const MESSAGE_OVERHEAD_BYTES = PRELUDE_BYTES + 4;

/** One event stream RPC message, with the RPC headers taken out of the header map. */
export interface RpcMessage {
  readonly type: MessageTypeValue;
  readonly flags: number;
  /** 0 for connection-level messages (connect, ping), the stream's id otherwise. */
  readonly streamId: number;
  /** Every other header, by wire name (operation, service-model-type, :content-type, :version). */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

/** The connection or the peer broke the protocol; the connection cannot continue. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export function encodeMessage(message: RpcMessage): Buffer {
  const headers: MessageHeaders = {
    [HeaderName.messageType]: { type: 'integer', value: message.type },
    [HeaderName.messageFlags]: { type: 'integer', value: message.flags },
    [HeaderName.streamId]: { type: 'integer', value: message.streamId },
  };
  for (const [name, value] of Object.entries(message.headers)) headers[name] = { type: 'string', value };
  const bytes = codec.encode({ headers, body: message.payload });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes one whole message (CRCs checked). The payload is a view of `bytes`, not a copy. */
export function decodeMessage(bytes: Buffer): RpcMessage {
  let decoded;
  try {
    decoded = codec.decode(bytes);
  } catch (error) {
    throw new ProtocolError(`Malformed event stream message: ${(error as Error).message}`);
  }
  return toRpcMessage(
    decoded.headers,
    Buffer.from(decoded.body.buffer, decoded.body.byteOffset, decoded.body.byteLength),
  );
}

/** The RPC fields of a parsed header map; throws `ProtocolError` when one is missing or of the wrong type. */
export function toRpcMessage(raw: MessageHeaders, payload: Buffer): RpcMessage {
  const integer = (name: string): number => {
    const header = raw[name];
    if (header?.type !== 'integer')
      throw new ProtocolError(`Event stream message without an integer ${name}`);
    return header.value;
  };
  const type = integer(HeaderName.messageType);
  if (!Object.values<number>(MessageType).includes(type)) {
    throw new ProtocolError(`Unknown event stream RPC message type ${type}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(raw)) {
    if (header.type === 'string') headers[name] = header.value;
  }
  return {
    type: type as MessageTypeValue,
    flags: integer(HeaderName.messageFlags),
    streamId: integer(HeaderName.streamId),
    headers,
    payload,
  };
}

export function terminates(message: RpcMessage): boolean {
  return (message.flags & MessageFlags.TerminateStream) !== 0;
}
