import { type StatusEntry, statusPayload } from '../../message';

/**
 * Largest payload AWS IoT Core accepts in one message: 128 KB.
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 */
export const IOT_CORE_MAX_PAYLOAD_BYTES = 128 * 1024;

/**
 * Splits a `{"response":[...]}` status message into messages of at most `maxBytes`, halving its entries until each
 * part fits. 500 entries with long error messages can exceed IoT Core's limit, which local publish/subscribe and
 * MQTT brokers do not have. A single entry larger than the limit (a huge `id`) stays as it is, and IoT Core refuses it.
 */
export function splitStatusPayload(payload: string, maxBytes = IOT_CORE_MAX_PAYLOAD_BYTES): string[] {
  if (Buffer.byteLength(payload, 'utf8') <= maxBytes) return [payload];
  const { response } = JSON.parse(payload) as { response: StatusEntry[] };
  if (response.length <= 1) return [payload];
  const half = Math.ceil(response.length / 2);
  return [response.slice(0, half), response.slice(half)].flatMap((entries) =>
    splitStatusPayload(statusPayload(entries), maxBytes),
  );
}
