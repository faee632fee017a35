import { createServer, type Server } from 'node:net';
import {
  connectRecordingClient,
  type EmbeddedBrokerProcess,
  startEmbeddedBrokerProcess,
} from '../../helpers/broker';

// startEmbeddedBroker runs in a child process: Jest cannot load aedes, an ES module, into this CommonJS test.
describe('startEmbeddedBroker', () => {
  let broker: EmbeddedBrokerProcess;

  beforeEach(async () => {
    broker = await startEmbeddedBrokerProcess();
  });

  afterEach(async () => {
    await broker.kill();
  });

  test('listens on 127.0.0.1 on the port the system picked when asked for port 0', async () => {
    // Act
    const { client } = await connectRecordingClient(`mqtt://127.0.0.1:${broker.port}`);

    // Assess
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  test('delivers a QoS 1 message from a publisher to a subscriber', async () => {
    // Prepare
    const subscriber = await connectRecordingClient(broker.url);
    await subscriber.client.subscribeAsync('sensors/temperature', { qos: 1 });
    const publisher = await connectRecordingClient(broker.url);

    // Act
    await publisher.client.publishAsync('sensors/temperature', '21.5', { qos: 1 });

    // Assess
    await expect(subscriber.waitForMessages(1)).resolves.toEqual(['21.5']);
    await Promise.all([subscriber.client.endAsync(), publisher.client.endAsync()]);
  });

  test('delivers QoS 1 messages published while a persistent session was offline when it reconnects', async () => {
    // Prepare
    const options = { clientId: 'offline-subscriber', clean: false };
    const first = await connectRecordingClient(broker.url, options);
    await first.client.subscribeAsync('queued/#', { qos: 1 });
    await first.client.endAsync();
    const publisher = await connectRecordingClient(broker.url);
    for (const text of ['one', 'two', 'three'])
      await publisher.client.publishAsync('queued/x', text, { qos: 1 });

    // Act
    const again = await connectRecordingClient(broker.url, options);

    // Assess
    await expect(again.waitForMessages(3)).resolves.toEqual(['one', 'two', 'three']);
    await Promise.all([again.client.endAsync(), publisher.client.endAsync()]);
  });

  test('accepts client ids longer than 23 characters from MQTT 3.1 clients', async () => {
    // Act
    const { client } = await connectRecordingClient(broker.url, {
      clientId: 'c'.repeat(128),
      protocolId: 'MQIsdp',
      protocolVersion: 3,
    });

    // Assess
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  test('restart() drops connected clients and keeps persistent sessions with their queued messages', async () => {
    // Prepare
    const options = { clientId: 'restart-subscriber', clean: false };
    const first = await connectRecordingClient(broker.url, options);
    await first.client.subscribeAsync('queued', { qos: 1 });
    await first.client.endAsync();
    const publisher = await connectRecordingClient(broker.url);
    await publisher.client.publishAsync('queued', 'kept across restart', { qos: 1 });
    const publisherClosed = new Promise<void>((resolve) => publisher.client.once('close', () => resolve()));

    // Act
    await broker.restart();

    // Assess
    await publisherClosed;
    const again = await connectRecordingClient(broker.url, options);
    await expect(again.waitForMessages(1)).resolves.toEqual(['kept across restart']);
    await again.client.endAsync();
    publisher.client.end(true);
  });

  test('close() ends every client connection within a second and stops listening', async () => {
    // Prepare
    const clients = await Promise.all([
      connectRecordingClient(broker.url),
      connectRecordingClient(broker.url),
    ]);
    const closed = clients.map(
      ({ client }) => new Promise<void>((resolve) => client.once('close', () => resolve())),
    );
    const started = Date.now();

    // Act
    await broker.close();

    // Assess
    await Promise.all(closed);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(connectRecordingClient(broker.url)).rejects.toThrow('ECONNREFUSED');
  });
});

describe('startEmbeddedBroker on a taken port', () => {
  let blocker: Server;

  beforeEach(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
  });

  afterEach(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  test('rejects with the address-in-use error so a caller can fall back to another port', async () => {
    // Prepare
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : -1;

    // Act
    const starting = startEmbeddedBrokerProcess({ port });

    // Assess
    await expect(starting).rejects.toThrow('EADDRINUSE');
  });
});
