/**
 * An MQTT broker inside the connector's process, for the local mode and for machines without mosquitto.
 *
 * aedes keeps persistent sessions (clean=false) and their queued QoS 1 messages in memory, so a client that
 * reconnects receives what was published while it was away, for as long as this process lives.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type * as AedesModule from 'aedes';
import type { Aedes } from 'aedes';

export interface EmbeddedBrokerOptions {
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on; 0 lets the system pick a free one, read back from `port`.
   * @default 1883
   */
  readonly port?: number;
  /**
   * Serve MQTT over TLS (`mqtts://`) with this PEM key and certificate; with `ca`, clients must present a
   * certificate signed by it.
   * @default plain TCP
   */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly ca?: Buffer };
}

export interface EmbeddedBroker {
  /** URL for MQTT clients, e.g. `mqtt://127.0.0.1:1883`. */
  readonly url: string;
  /** The port listened on; it stays the same across `restart()`. */
  readonly port: number;
  /**
   * Drops every client and listens again on the same port, keeping persistent sessions and their queued messages,
   * as a broker restart with persistence does.
   */
  restart(): Promise<void>;
  /** Ends every client connection at once and stops listening. */
  close(): Promise<void>;
}

// aedes holds MQTT 3.1 clients to that version's 23-character client ids; the connector's MqttClientId allows 128
// and mosquitto accepts 65535.
const MAX_CLIENT_ID_LENGTH = 65535;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const { Aedes } = await loadAedes();
  const aedes = await Aedes.createBroker({ maxClientsIdLength: MAX_CLIENT_ID_LENGTH });
  const sockets = new Set<Socket>();
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  };
  const { tls } = options;
  const server = tls
    ? createTlsServer(
        { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: !!tls.ca, rejectUnauthorized: true },
        accept,
      )
    : createServer(accept);

  let port: number;
  try {
    port = await listen(server, host, options.port ?? 1883);
  } catch (error) {
    await closeAedes(aedes);
    throw error;
  }

  const disconnect = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  let closing: Promise<void> | undefined;

  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    port,
    restart: async () => {
      if (closing !== undefined) throw new Error('The embedded MQTT broker was closed; start a new one.');
      await disconnect();
      await listen(server, host, port);
    },
    close: () => {
      closing ??= Promise.all([disconnect(), closeAedes(aedes)]).then(() => undefined);
      return closing;
    },
  };
}

/**
 * aedes 1.x is an ES module. esbuild bundles it, tsx and Node 20.19+ load it, but Jest on Node before 24.9 cannot
 * load an ES module from a CommonJS test, so say what to do instead of Jest's generic advice.
 */
async function loadAedes(): Promise<typeof AedesModule> {
  try {
    return await import('aedes');
  } catch (error) {
    throw new Error(
      'Could not load aedes, an ES module. Under Jest, run the embedded broker in a child process ' +
        '(test/helpers/broker.ts does) instead of importing it into the test.',
      { cause: error },
    );
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`expected a TCP address from the listening server, got ${String(address)}`));
        return;
      }
      resolve(address.port);
    });
  });
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}
