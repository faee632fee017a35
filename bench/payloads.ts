import { Topics } from '../runtime/contract';
import type { OutgoingMessage } from './fast-publisher';

export type MessageKind = 'json' | 'binary';

const BINARY_TOPIC_PREFIX = Topics.binary.slice(0, -1);
const FILLER = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The request id of message `index`: fixed width, so every payload of a run has the same size. */
export function requestId(index: number): string {
  return `m${String(index).padStart(9, '0')}`;
}

/** Bytes of a JSON message less its data: `{"request":{"data":""},"id":"..."}`, with an id of fixed width. */
const JSON_FRAME_BYTES = `{"request":{"data":""},"id":"${requestId(0)}"}`.length;

function filler(length: number): string {
  return FILLER.repeat(Math.ceil(Math.max(0, length) / FILLER.length)).slice(0, Math.max(0, length));
}

/**
 * A message in the seed's JSON shape, `{"request":{"data":"..."},"id":"..."}`, of `size` bytes in all; `prefix`
 * starts the data (the latency runs put the publish time there).
 */
export function jsonMessage(index: number, size: number, prefix = ''): OutgoingMessage {
  const data = prefix + filler(size - JSON_FRAME_BYTES - prefix.length);
  return {
    topic: Topics.json,
    payload: Buffer.from(`{"request":{"data":"${data}"},"id":"${requestId(index)}"}`),
  };
}

/**
 * The bytes of the record a message of `kind` and `size` becomes without a separator: the binary payload, or the
 * JSON message's `request.data` (its payload less the frame and the id).
 */
export function recordBytesOf(kind: MessageKind, size: number): number {
  return kind === 'binary' ? size : size - JSON_FRAME_BYTES;
}

/** Makes messages of one kind and size, sharing the filler so a 200,000-message backlog is cheap to build. */
export function messageMaker(kind: MessageKind, size: number): (index: number) => OutgoingMessage {
  if (kind === 'binary') {
    const payload = Buffer.from(filler(size));
    return (index) => ({ topic: `${BINARY_TOPIC_PREFIX}${requestId(index)}`, payload });
  }
  const head = Buffer.from(`{"request":{"data":"${filler(size - JSON_FRAME_BYTES)}"},"id":"`);
  const tail = Buffer.from('"}');
  return (index) => ({
    topic: Topics.json,
    payload: Buffer.concat([head, Buffer.from(requestId(index)), tail]),
  });
}
