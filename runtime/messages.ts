import { DeliveryStreamTarget, parseDeliveryStreamArn } from './delivery-stream-arn';
import { FirehoseLimits } from './firehose-limits';
import { Topics } from './parameters';
import { ConnectorErrorCode, FailStatus, failStatus } from './status';

/** The MQTT topics, defined in the component contract; re-exported for the modules that import them from here. */
export { Topics };

const BINARY_PREFIX = 'kinesisfirehose/message/binary';

/** A record accepted from MQTT, ready for its stream's queue. */
export interface IncomingRecord {
  /** The request id echoed in the status entry: JSON `id`, or the binary topic's last levels; may be empty. */
  readonly requestId: string;
  readonly stream: DeliveryStreamTarget;
  /** The bytes Firehose will store, separator included. */
  readonly data: Buffer;
}

export type Intake = { readonly record: IncomingRecord } | { readonly failure: FailStatus };

export interface MessageContext {
  readonly defaultStream: DeliveryStreamTarget;
  /** Appended to every record (empty for none). */
  readonly recordSeparator: Buffer;
}

/**
 * Turns one MQTT message into a record, or into the fail status that explains why it cannot be one.
 * Never throws: after start-up a bad message must become a status, not a crash.
 */
export function parseMessage(topic: string, payload: Buffer, context: MessageContext): Intake {
  if (topic === BINARY_PREFIX || topic.startsWith(`${BINARY_PREFIX}/`)) {
    const requestId = topic.slice(BINARY_PREFIX.length + 1);
    // Copied: MQTT.js may hand out a slice of a larger socket buffer, which a queued record would keep alive.
    return toRecord(requestId, context.defaultStream, Buffer.from(payload), context);
  }
  if (topic === Topics.json) return parseJsonMessage(payload, context);
  return {
    failure: failStatus('', ConnectorErrorCode.InvalidRequest, `Topic ${topic} is not an input topic`),
  };
}

function parseJsonMessage(payload: Buffer, context: MessageContext): Intake {
  let message: unknown;
  try {
    message = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return {
      failure: failStatus(
        '',
        ConnectorErrorCode.InvalidJson,
        `Payload is not JSON: ${(error as Error).message}`,
      ),
    };
  }
  if (!isObject(message)) {
    return { failure: invalidRequest('', 'Payload must be a JSON object with a "request" object') };
  }
  const request = message.request;
  const rawId = message.id ?? (isObject(request) ? request.id : undefined);
  if (rawId !== undefined && rawId !== null && typeof rawId === 'object') {
    return { failure: invalidRequest('', '"id" must be a string') };
  }
  const requestId = rawId === undefined || rawId === null ? '' : String(rawId);
  if (!isObject(request)) return { failure: invalidRequest(requestId, '"request" must be an object') };
  if (request.data === undefined || request.data === null) {
    return { failure: invalidRequest(requestId, '"request.data" is required') };
  }

  let stream = context.defaultStream;
  const arn = request.delivery_stream_arn;
  if (arn !== undefined && arn !== null && arn !== '') {
    const target = typeof arn === 'string' ? parseDeliveryStreamArn(arn) : undefined;
    if (!target) {
      return {
        failure: failStatus(
          requestId,
          ConnectorErrorCode.InvalidDeliveryStreamArn,
          `"request.delivery_stream_arn" ${JSON.stringify(arn)} is not a delivery stream ARN ` +
            '(arn:<partition>:firehose:<region>:<account>:deliverystream/<name>)',
        ),
      };
    }
    stream = target;
  }
  // A string is sent as its UTF-8 bytes; any other JSON value as its JSON text.
  const text = typeof request.data === 'string' ? request.data : JSON.stringify(request.data);
  return toRecord(requestId, stream, Buffer.from(text, 'utf8'), context);
}

function toRecord(
  requestId: string,
  stream: DeliveryStreamTarget,
  body: Buffer,
  context: MessageContext,
): Intake {
  const size = body.length + context.recordSeparator.length;
  if (size > FirehoseLimits.maxRecordBytes) {
    return {
      failure: failStatus(
        requestId,
        ConnectorErrorCode.RecordTooLarge,
        `Record is ${size} bytes; Firehose accepts at most ${FirehoseLimits.maxRecordBytes} bytes per record`,
      ),
    };
  }
  const data =
    context.recordSeparator.length > 0 ? Buffer.concat([body, context.recordSeparator], size) : body;
  return { record: { requestId, stream, data } };
}

function invalidRequest(requestId: string, message: string): FailStatus {
  return failStatus(requestId, ConnectorErrorCode.InvalidRequest, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
