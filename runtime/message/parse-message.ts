import { isUtf8 } from 'node:buffer';
import { Topics } from '../contract';
import { type DeliveryStreamTarget, FirehoseLimits, parseDeliveryStreamArn } from '../firehose';
import { objectMembers, parseSpan, stringEnd, type ValueSpan } from './json-scan';
import { ConnectorErrorCode, failStatus, type FailStatus } from './status';

/** The MQTT topics, defined in the component contract; re-exported for the modules that import them from here. */

const BINARY_PREFIX = 'kinesisfirehose/message/binary';

/**
 * Bytes of the largest JSON message that can still hold a record Firehose accepts: every byte of the record escaped
 * as `\u00XX` (six characters), plus room for the envelope. A larger JSON message is refused before it is parsed.
 */
export const MAX_JSON_MESSAGE_BYTES = 6 * FirehoseLimits.maxRecordBytes + 64 * 1024;

/**
 * Most levels of nesting a JSON message may have. Deeper JSON is refused before it is parsed: `JSON.parse` builds
 * the whole structure (25 messages 100,000 levels deep left some 90 MiB of garbage for the old generation), and
 * `JSON.stringify` recurses and would overflow the stack writing `request.data` back out.
 */
export const MAX_JSON_DEPTH = 1000;

/** Characters of a request id: enough for any id scheme, small enough that statuses stay small. */
export const MAX_REQUEST_ID_LENGTH = 1024;

/**
 * Bytes a transport keeps of the start of a message too large to read, for the id of its `RecordTooLarge` status:
 * room for `{"id":` and an id of 1,024 characters, most of them escaped. A message whose `id` comes later (after
 * its `request`) gets an empty one.
 */
export const MESSAGE_HEAD_BYTES = 8 * 1024;

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
 * Turns one message into a record, or into the fail status that explains why it cannot be one. Sizes are checked
 * before any parsing or copying, so that an oversized message costs no more than its packet.
 *
 * `messageBytes` is the size the message had on the wire: larger than `payload` when the transport dropped the
 * payload of an oversized message in transit (see `packet-size-guard.ts`). Never throws: after start-up a bad
 * message must become a status, not a crash.
 */
export function parseMessage(
  topic: string,
  payload: Buffer,
  context: MessageContext,
  messageBytes = payload.length,
): Intake {
  if (topic === BINARY_PREFIX || topic.startsWith(`${BINARY_PREFIX}/`)) {
    const requestId = topic.slice(BINARY_PREFIX.length + 1);
    const idProblem = requestIdProblem(requestId);
    if (idProblem) return { failure: invalidRequest(truncateId(requestId), idProblem) };
    const size = messageBytes + context.recordSeparator.length;
    if (size > FirehoseLimits.maxRecordBytes) return { failure: tooLarge(requestId, size) };
    // Copied: MQTT.js may hand out a slice of a larger socket buffer, which a queued record would keep alive.
    return toRecord(requestId, context.defaultStream, Buffer.from(payload), context);
  }
  if (topic === Topics.json) return parseJsonMessage(payload, context, messageBytes);
  return {
    failure: invalidRequest('', `Topic ${topic} is not an input topic`),
  };
}

function parseJsonMessage(payload: Buffer, context: MessageContext, messageBytes: number): Intake {
  // A payload shorter than the message is the part a transport kept of one too large to read whole.
  if (messageBytes > MAX_JSON_MESSAGE_BYTES || payload.length < messageBytes) {
    return {
      failure: failStatus(
        scannedRequestId(payload),
        ConnectorErrorCode.RecordTooLarge,
        `JSON message is ${messageBytes} bytes; a message over ${MAX_JSON_MESSAGE_BYTES} bytes cannot hold a ` +
          `record of at most ${FirehoseLimits.maxRecordBytes} bytes, so it was not parsed`,
      ),
    };
  }
  // toString would replace invalid bytes with U+FFFD and silently change the record.
  if (!isUtf8(payload)) {
    return {
      failure: failStatus(
        scannedRequestId(payload),
        ConnectorErrorCode.InvalidJson,
        'Payload is not valid UTF-8, so it is not JSON',
      ),
    };
  }
  // Each level takes two bytes at least, so a small message cannot be too deep and skips the scan.
  if (payload.length > 2 * MAX_JSON_DEPTH && nestingExceeds(payload, MAX_JSON_DEPTH)) {
    return {
      failure: invalidRequest(
        scannedRequestId(payload),
        `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep`,
      ),
    };
  }
  let message: unknown;
  try {
    message = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return {
      failure: failStatus(
        scannedRequestId(payload),
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
  const idProblem = requestIdProblem(requestId);
  if (idProblem) return { failure: invalidRequest(truncateId(requestId), idProblem) };
  if (!isObject(request)) return { failure: invalidRequest(requestId, '"request" must be an object') };
  if (request.data === undefined || request.data === null) {
    return { failure: invalidRequest(requestId, '"request.data" is required') };
  }

  let stream = context.defaultStream;
  const arn = request.delivery_stream_arn;
  if (arn !== undefined && arn !== null && arn !== '') {
    const target = typeof arn === 'string' ? parseDeliveryStreamArn(arn) : undefined;
    if (!target) {
      // Shown as JSON, but not an object or array, which may be large.
      const shown = typeof arn === 'object' ? `(${Array.isArray(arn) ? 'an array' : 'an object'})` : arn;
      return {
        failure: failStatus(
          requestId,
          ConnectorErrorCode.InvalidDeliveryStreamArn,
          `"request.delivery_stream_arn" ${JSON.stringify(typeof shown === 'string' ? truncateId(shown) : shown)} is not a delivery stream ARN ` +
            '(arn:<partition>:firehose:<region>:<account>:deliverystream/<name>)',
        ),
      };
    }
    stream = target;
  }
  // Encoded once: the message's size bound already bounds what this can cost.
  const body = Buffer.from(dataText(request.data), 'utf8');
  const size = body.length + context.recordSeparator.length;
  if (size > FirehoseLimits.maxRecordBytes) return { failure: tooLarge(requestId, size) };
  return toRecord(requestId, stream, body, context);
}

const ID_KEYS: ReadonlySet<string> = new Set(['id', 'request']);
const ID_KEY: ReadonlySet<string> = new Set(['id']);
/** Longest `id` token read by a scan: the longest id a status shows, every character escaped. */
const MAX_ID_TOKEN_BYTES = 6 * MAX_REQUEST_ID_LENGTH + 2;

/**
 * The request id of a JSON message refused before it was parsed (too large, too deep, not UTF-8, not JSON), for its
 * status: its top-level `id`, else `request.id`, read as a parsed message's would be, by a scan that builds no
 * value (`json-scan.ts`), so it costs no more than the message's bytes whatever they hold. Empty when the scan finds
 * none it can read: no id, an object, an id past the end of the bytes kept of a message too large to read whole,
 * or one over 6 KiB of text.
 */
export function scannedRequestId(bytes: Buffer): string {
  const members = objectMembers(bytes, 0, ID_KEYS);
  const id = scannedId(bytes, members.get('id'));
  if (id !== undefined) return id;
  const request = members.get('request');
  return (request && scannedId(bytes, objectMembers(bytes, request.start, ID_KEY).get('id'))) ?? '';
}

/** The id a span holds; undefined for none (absent or null), which lets `request.id` stand in, as when parsed. */
function scannedId(bytes: Buffer, span: ValueSpan | undefined): string | undefined {
  if (span === undefined) return undefined;
  if (span.end === undefined || span.end - span.start > MAX_ID_TOKEN_BYTES) return '';
  if (!isUtf8(bytes.subarray(span.start, span.end))) return '';
  const value = parseSpan(bytes, span);
  if (value === null) return undefined;
  if (typeof value === 'string') return truncateId(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** A string is sent as its UTF-8 bytes; any other JSON value as its JSON text. */
function dataText(data: unknown): string {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

const QUOTE = 0x22;

/**
 * Whether the JSON text in `bytes` opens more than `maxDepth` arrays or objects inside one another. Strings are
 * skipped with `indexOf` (memchr), so a long `data` string costs next to nothing; malformed JSON is left for
 * `JSON.parse` to reject.
 */
export function nestingExceeds(bytes: Buffer, maxDepth: number): boolean {
  let depth = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    if (byte === QUOTE) {
      const end = stringEnd(bytes, index);
      if (end === undefined) return false;
      index = end - 1;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

function toRecord(
  requestId: string,
  stream: DeliveryStreamTarget,
  body: Buffer,
  context: MessageContext,
): Intake {
  const data =
    context.recordSeparator.length > 0
      ? Buffer.concat([body, context.recordSeparator], body.length + context.recordSeparator.length)
      : body;
  return { record: { requestId, stream, data } };
}

function requestIdProblem(requestId: string): string | undefined {
  if (requestId.length <= MAX_REQUEST_ID_LENGTH) return undefined;
  return `The request id is ${requestId.length} characters long; at most ${MAX_REQUEST_ID_LENGTH} are accepted (the status shows its start)`;
}

function truncateId(requestId: string): string {
  return requestId.length <= MAX_REQUEST_ID_LENGTH ? requestId : requestId.slice(0, MAX_REQUEST_ID_LENGTH);
}

function tooLarge(requestId: string, size: number): FailStatus {
  return failStatus(
    requestId,
    ConnectorErrorCode.RecordTooLarge,
    `Record is ${size} bytes; Firehose accepts at most ${FirehoseLimits.maxRecordBytes} bytes per record`,
  );
}

function invalidRequest(requestId: string, message: string): FailStatus {
  return failStatus(requestId, ConnectorErrorCode.InvalidRequest, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
