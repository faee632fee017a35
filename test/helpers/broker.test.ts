import {
  accepts,
  connectRecordingClient,
  findMosquitto,
  startTestBroker,
  type TestBroker,
  type TestBrokerKind,
} from './broker';

// The embedded broker is always available; mosquitto is covered where installed and required where CI asks for it.
const kinds: TestBrokerKind[] =
  findMosquitto() !== undefined || process.env.TEST_BROKER === 'mosquitto'
    ? ['mosquitto', 'embedded']
    : ['embedded'];

describe.each(kinds)('startTestBroker with kind %s', (kind) => {
  let broker: TestBroker;

  beforeEach(async () => {
    broker = await startTestBroker({ kind });
  });

  afterEach(async () => {
    await broker.stop();
  });

  test('reports its kind and a 127.0.0.1 URL with its port', () => {
    // Assess
    expect(broker.kind).toBe(kind);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
  });

  test('round-trips a QoS 1 message', async () => {
    // Prepare
    const subscriber = await connectRecordingClient(broker.url);
    await subscriber.client.subscribeAsync('round/trip', { qos: 1 });
    const publisher = await connectRecordingClient(broker.url);

    // Act
    await publisher.client.publishAsync('round/trip', 'hello', { qos: 1 });

    // Assess
    await expect(subscriber.waitForMessages(1)).resolves.toEqual(['hello']);
    await Promise.all([subscriber.client.endAsync(), publisher.client.endAsync()]);
  });

  test('after restart() a persistent session receives a message queued while it was disconnected', async () => {
    // Prepare
    const options = { clientId: `persistent-${kind}`, clean: false };
    const first = await connectRecordingClient(broker.url, options);
    await first.client.subscribeAsync('queued', { qos: 1 });
    await first.client.endAsync();
    const publisher = await connectRecordingClient(broker.url);
    await publisher.client.publishAsync('queued', 'survives the restart', { qos: 1 });
    await publisher.client.endAsync();

    // Act
    await broker.restart();

    // Assess
    const again = await connectRecordingClient(broker.url, options);
    await expect(again.waitForMessages(1)).resolves.toEqual(['survives the restart']);
    await again.client.endAsync();
  });

  test('queues more than 1000 QoS 1 messages for an offline persistent session without dropping any', async () => {
    // Prepare
    const options = { clientId: `backlog-${kind}`, clean: false };
    const first = await connectRecordingClient(broker.url, options);
    await first.client.subscribeAsync('backlog', { qos: 1 });
    await first.client.endAsync();
    const publisher = await connectRecordingClient(broker.url);
    const sent = Array.from({ length: 1500 }, (_, index) => String(index));
    await Promise.all(sent.map((text) => publisher.client.publishAsync('backlog', text, { qos: 1 })));
    await publisher.client.endAsync();

    // Act
    const again = await connectRecordingClient(broker.url, options);

    // Assess
    await expect(again.waitForMessages(1500, 10_000)).resolves.toHaveLength(1500);
    expect([...again.messages].sort((a, b) => Number(a) - Number(b))).toEqual(sent);
    await again.client.endAsync();
  });

  test('stop() makes its port refuse connections', async () => {
    // Act
    await broker.stop();

    // Assess
    await expect(accepts(broker.port)).resolves.toBe(false);
  });
});

describe('startTestBroker without a kind', () => {
  test('runs the broker TEST_BROKER names, else mosquitto when installed, else the embedded one', async () => {
    // Prepare
    const expected = process.env.TEST_BROKER || (findMosquitto() !== undefined ? 'mosquitto' : 'embedded');

    // Act
    const broker = await startTestBroker();
    await broker.stop();

    // Assess
    expect(broker.kind).toBe(expected);
  });
});
