import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket, { type IConnectPacket, type IPublishPacket, type ISubscribePacket } from 'mqtt-packet';
import { topicMatches } from './ipc-nucleus';

/**
 * A scripted MQTT 3.1.1 broker, for what real brokers rarely do on demand: refuse a client's connection, or refuse
 * one topic of a SUBSCRIBE and grant the other (SUBACK 0x80, as a broker with an ACL on that topic does; mosquitto
 * 2.0 grants a 3.1.1 subscription its ACL denies and then delivers nothing). It delivers what the test publishes
 * to the matching subscriptions at QoS 1 and records what clients publish, acknowledging it.
 */
export interface ScriptedBrokerOptions {
  /** Answer this client's CONNECT with return code 5, not authorized. @default every client is accepted */
  readonly refuseConnect?: (clientId: string) => boolean;
  /** Refuse this topic filter in a client's SUBSCRIBE (0x80). @default every filter is granted */
  readonly refuseSubscription?: (clientId: string, filter: string) => boolean;
  /**
   * Say in CONNACK that the client's session was kept, as a broker does for a persistent session from an earlier
   * run (this one keeps nothing: the client must subscribe to receive).
   * @default false
   */
  readonly sessionPresent?: boolean;
}

export interface ClientPublish {
  readonly clientId: string;
  readonly topic: string;
  readonly payload: Buffer;
}

interface Client {
  readonly socket: Socket;
  clientId?: string;
  readonly filters: Set<string>;
}

export class ScriptedBroker {
  /** Every PUBLISH a client sent, in order. */
  readonly published: ClientPublish[] = [];
  /** Every SUBSCRIBE, with the client that sent it. */
  readonly subscribes: { readonly clientId: string; readonly filters: string[] }[] = [];
  /** Every topic filter the broker refused, with the client that asked. */
  readonly refusedSubscriptions: { readonly clientId: string; readonly filter: string }[] = [];
  /** Clients whose CONNECT was refused, one entry per attempt. */
  readonly refusedConnections: string[] = [];
  private readonly clients = new Set<Client>();
  private nextMessageId = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(options: ScriptedBrokerOptions = {}): Promise<ScriptedBroker> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const broker = new ScriptedBroker(server, `mqtt://127.0.0.1:${port}`);
    server.on('connection', (socket) => broker.accept(socket, options));
    return broker;
  }

  /** Clients connected now with a subscription matching `topic`. */
  subscribersOf(topic: string): string[] {
    return [...this.clients]
      .filter((client) => [...client.filters].some((filter) => topicMatches(filter, topic)))
      .map((client) => client.clientId ?? '');
  }

  /** Publishes at QoS 1 to every client subscribed to a matching filter. */
  publish(topic: string, payload: Buffer | string): void {
    for (const client of this.clients) {
      if (![...client.filters].some((filter) => topicMatches(filter, topic))) continue;
      const messageId = this.nextMessageId++;
      if (this.nextMessageId > 65_535) this.nextMessageId = 1;
      send(client.socket, { cmd: 'publish', topic, payload, qos: 1, messageId, dup: false, retain: false });
    }
  }

  messagesOn(topic: string): ClientPublish[] {
    return this.published.filter((message) => message.topic === topic);
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket, options: ScriptedBrokerOptions): void {
    const client: Client = { socket, filters: new Set() };
    this.clients.add(client);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      switch (packet.cmd) {
        case 'connect': {
          const { clientId } = packet as IConnectPacket;
          if (options.refuseConnect?.(clientId)) {
            this.refusedConnections.push(clientId);
            send(socket, { cmd: 'connack', returnCode: 5, sessionPresent: false });
            socket.end();
            return;
          }
          client.clientId = clientId;
          send(socket, { cmd: 'connack', returnCode: 0, sessionPresent: options.sessionPresent ?? false });
          return;
        }
        case 'subscribe': {
          const { messageId, subscriptions } = packet as ISubscribePacket;
          const clientId = client.clientId ?? '';
          this.subscribes.push({ clientId, filters: subscriptions.map(({ topic }) => topic) });
          const granted = subscriptions.map(({ topic }) => {
            if (options.refuseSubscription?.(clientId, topic)) {
              this.refusedSubscriptions.push({ clientId, filter: topic });
              return 0x80;
            }
            client.filters.add(topic);
            return 1;
          });
          send(socket, { cmd: 'suback', messageId, granted });
          return;
        }
        case 'publish': {
          const { topic, payload, qos, messageId } = packet as IPublishPacket;
          this.published.push({ clientId: client.clientId ?? '', topic, payload: Buffer.from(payload) });
          if (qos === 1) send(socket, { cmd: 'puback', messageId });
          return;
        }
        case 'pingreq':
          send(socket, { cmd: 'pingresp' });
          return;
        case 'disconnect':
          socket.end();
          return;
        default:
          // PUBACKs of what the broker delivered: at QoS 1 it keeps no state, so there is nothing to settle.
          return;
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.clients.delete(client));
  }
}

function send(socket: Socket, packet: object): void {
  if (!socket.destroyed) socket.write(mqttPacket.generate(packet as mqttPacket.Packet));
}
