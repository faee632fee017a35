import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Topics } from '../../contract';
import { describeError, type Logger } from '../../logger';
import { MAX_JSON_MESSAGE_BYTES, MESSAGE_HEAD_BYTES } from '../../message';
import { backoffDelayMs } from '../../pacing';
import type { MessageHandler, Transport } from '../transport';
import { OversizeMarker } from './packet-size-guard';

/**
 * Largest PUBLISH the parser may buffer whole: the largest JSON message that can hold a valid record, with its
 * topic (at most 65,535 bytes and its length) and packet id. Larger ones reach the connector as markers.
 */
const MAX_BUFFERED_PUBLISH_BYTES = MAX_JSON_MESSAGE_BYTES + 2 + 65_535 + 2;

/** Resubscription after a refused SUBSCRIBE: from 1 s doubling to a minute. */
const SUBSCRIBE_RETRY = { baseMs: 1000, maxMs: 60_000 } as const;

/** Where the broker is and how to authenticate to it: `MqttBrokerUrl`, `MqttClientId` and the TLS files. */
export interface MqttConfig {
  readonly brokerUrl: string;
  readonly clientId: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/**
 * The connector's two MQTT connections:
 * - intake: a persistent session (clean=false, stable client id) with QoS 1 subscriptions to the input topics,
 *   so the broker keeps messages while the connector is away;
 * - status: publishes statuses at QoS 1. Kept apart so that closing intake at shutdown (leaving the broker to
 *   hold new messages) does not stop the last statuses from going out.
 * Reconnection and resubscription are MQTT.js's own.
 */
export class MqttTransport implements Transport {
  private constructor(
    private readonly intake: MqttClient,
    private readonly status: MqttClient,
    private readonly subscribed: Promise<void>,
  ) {}

  /**
   * Opens both connections. Publishing works at once (MQTT.js queues until connected); `ready()` resolves on the
   * first connection of both.
   */
  static open(config: MqttConfig, onMessage: MessageHandler, logger: Logger): MqttTransport {
    const tls = readTlsFiles(config);
    const base: IClientOptions = {
      protocolVersion: 4,
      // MQTT.js otherwise formats debug lines several times per packet, a measurable cost at high rates.
      log: () => undefined,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...tls,
    };
    const intake = mqtt.connect(config.brokerUrl, {
      ...base,
      clientId: config.clientId,
      clean: false,
      resubscribe: false,
      manualConnect: true,
    });
    const marker = new OversizeMarker();
    guardPacketSizes(intake, marker);
    intake.connect();
    const status = mqtt.connect(config.brokerUrl, {
      ...base,
      clientId: `${config.clientId}-status`,
      clean: true,
    });
    const where = describeBroker(config.brokerUrl);
    for (const [role, client] of [
      ['intake', intake],
      ['status', status],
    ] as const) {
      client.on('connect', (packet) =>
        logger.info('Connected to the MQTT broker', {
          broker: where,
          connection: role,
          sessionPresent: packet.sessionPresent,
        }),
      );
      client.on('offline', () =>
        logger.warn('MQTT broker unreachable; reconnecting', { broker: where, connection: role }),
      );
      client.on('error', (error) =>
        logger.warn('MQTT error', { broker: where, connection: role, ...describeError(error) }),
      );
    }
    let onSubscribed!: () => void;
    const subscribed = new Promise<void>((resolve) => (onSubscribed = resolve));
    const inputTopics = [Topics.json, Topics.binary];
    // Topics the broker has not granted in this process yet. Each is taken in as soon as it is granted: a broker
    // that refuses one (an ACL on binary/#) must not keep the other from being served.
    let pending = new Set<string>(inputTopics);
    let refusals = 0;
    let retryTimer: NodeJS.Timeout | undefined;
    const subscribe = (): void => {
      retryTimer = undefined;
      const topics = [...pending];
      intake.subscribe(topics, { qos: 1 }, (error, _grants, suback) => {
        // A broker that refuses a topic (an ACL, a quota) answers SUBACK with 0x80 for it, and MQTT.js then reports
        // an error for the whole SUBSCRIBE: the SUBACK says which topics were granted all the same.
        const codes = suback?.granted ?? [];
        const granted = topics.filter((_, index) => {
          const code = codes[index];
          return typeof code === 'number' && (code & 0x80) === 0;
        });
        if (granted.length > 0) {
          for (const topic of granted) pending.delete(topic);
          logger.info('Subscribed', { topics: granted, qos: 1 });
        }
        if (pending.size === 0) {
          refusals = 0;
          onSubscribed();
          return;
        }
        // A disconnect interrupts the SUBSCRIBE; the next connection subscribes again.
        if (!intake.connected) return;
        refusals++;
        const retryInMs = backoffDelayMs(refusals, SUBSCRIBE_RETRY);
        logger.error('The broker refused the subscription to the input topics; retrying', {
          topics: [...pending],
          ...(error ? describeError(error) : { errorMessage: 'SUBACK refused the topic (0x80)' }),
          retryInMs,
        });
        clearTimeout(retryTimer);
        retryTimer = setTimeout(subscribe, retryInMs);
      });
    };
    let connections = 0;
    intake.on('connect', (packet) => {
      clearTimeout(retryTimer);
      // A session the broker kept still holds the subscriptions granted on an earlier connection of this process.
      // At start the connector subscribes whatever the session holds: a session from an earlier run may lack a topic
      // the broker refused it then.
      if (++connections === 1 || !packet.sessionPresent) pending = new Set(inputTopics);
      if (pending.size === 0) return onSubscribed();
      subscribe();
    });
    intake.on('end', () => clearTimeout(retryTimer));
    // MQTT.js sends a QoS 1 message's PUBACK only once handleMessage calls back, so the broker keeps (and
    // redelivers) any message whose record was not yet stored when the connector died. It handles the messages
    // of a connection one at a time, so intake must stay quick: statuses travel on the other connection.
    batchAcknowledgements(intake);
    intake.handleMessage = (packet, callback) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      // A dropped payload reaches the connector as its first bytes, with its size on the wire.
      const dropped = marker.dropped(payload);
      const messageBytes = dropped?.bytes ?? payload.length;
      const delivered = dropped?.head ?? payload;
      // Never callback(error): MQTT.js would then withhold the PUBACK, and the broker would hold the message in
      // flight and redeliver it after every restart, until its in-flight window is full and intake stops.
      onMessage(packet.topic, delivered, messageBytes).then(
        () => callback(),
        (error: unknown) => {
          logger.error('A message handler failed; acknowledging the message anyway', describeError(error));
          callback();
        },
      );
    };
    return new MqttTransport(intake, status, subscribed);
  }

  /** Resolves once both connections are up and the input topics are subscribed (or held by the session). */
  async ready(): Promise<void> {
    await Promise.all([this.subscribed, waitForConnect(this.status)]);
  }

  publishStatus(payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.status.publish(Topics.status, payload, { qos: 1 }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Disconnects the intake session without unsubscribing, so the broker keeps new messages for the next start. */
  async stopIntake(): Promise<void> {
    await this.intake.endAsync();
  }

  async close(): Promise<void> {
    await Promise.all([this.intake.endAsync(), this.status.endAsync()]);
  }
}

function readTlsFiles(config: MqttConfig): Pick<IClientOptions, 'ca' | 'cert' | 'key'> {
  return {
    ca: config.caFile ? readFileSync(config.caFile) : undefined,
    cert: config.certFile ? readFileSync(config.certFile) : undefined,
    key: config.keyFile ? readFileSync(config.keyFile) : undefined,
  };
}

/** The broker's scheme, host and port, without any user name or password the URL may carry. */
export function describeBroker(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

/** Resolves on the first connection. Until then MQTT.js keeps retrying, and start-up waits with it. */
function waitForConnect(client: MqttClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

/**
 * Puts the packet-size guard between the socket and MQTT.js's parser of every connection the client makes.
 * MQTT.js reads its stream with `stream.pipe(parser)` and keeps the stream factory in a field it does not type as
 * public; the integration tests send a 40 MiB message to prove the guard is in place.
 */
function guardPacketSizes(client: MqttClient, marker: OversizeMarker): void {
  const withFactory = client as unknown as { streamBuilder: (client: MqttClient) => NodeJS.ReadableStream };
  const build = withFactory.streamBuilder;
  if (typeof build !== 'function') throw new Error('MQTT.js no longer exposes its stream factory');
  withFactory.streamBuilder = (owner) => {
    const stream = build(owner);
    const pipe = stream.pipe.bind(stream);
    stream.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T =>
      pipe(marker.guard(MAX_BUFFERED_PUBLISH_BYTES, MESSAGE_HEAD_BYTES)).pipe(destination, options);
    return stream;
  };
}

/**
 * Sends the PUBACKs of all the messages in one socket read in one write. Without this each acknowledgement is a
 * system call of its own, the largest single cost in a profile of a backlog drain (`npm run bench`).
 */
function batchAcknowledgements(client: MqttClient): void {
  let corked = false;
  client.on('packetreceive', () => {
    const stream = client.stream;
    if (corked || !stream) return;
    corked = true;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork();
    });
  });
}
