import { eventstream_rpc, greengrasscoreipc, io } from 'aws-iot-device-sdk-v2';
import { StandInNucleus } from './ipc-nucleus';
import { waitFor } from './wait';

/**
 * The stand-in nucleus, driven by the official Greengrass IPC client (aws-iot-device-sdk-v2 on aws-crt), so that it
 * speaks the real protocol: handshake, subscribe, publish, a refused authorization and a server-side close.
 */

const { model } = greengrasscoreipc;
type Client = greengrasscoreipc.Client;
type SubscriptionMessage = greengrasscoreipc.model.SubscriptionResponseMessage;

const accessControl = {
  'aws.greengrass.ipc.pubsub': {
    'test:pubsub:1': {
      policyDescription: 'Publish and subscribe under test/',
      operations: ['aws.greengrass#PublishToTopic', 'aws.greengrass#SubscribeToTopic'],
      resources: ['test/json', 'test/binary/#'],
    },
  },
  'aws.greengrass.ipc.mqttproxy': {
    'test:mqttproxy:1': {
      operations: ['aws.greengrass#PublishToIoTCore'],
      resources: ['test/status'],
    },
  },
};

let nucleus: StandInNucleus;
const clients: Client[] = [];

beforeEach(async () => {
  nucleus = await StandInNucleus.start({
    'test.Component': { authToken: 'token-1', accessControl },
    'test.Other': { authToken: 'token-2', accessControl },
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await nucleus.dispose();
});

/** The official client, configured as createDefaultClientConfig does from the nucleus's environment. */
async function connect(authToken: string): Promise<Client> {
  const client = greengrasscoreipc.createClient({
    hostName: nucleus.socketPath,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: ({ message }) =>
      Promise.resolve({ ...message, payload: JSON.stringify({ authToken }) }),
  });
  clients.push(client);
  await client.connect();
  return client;
}

async function subscribe(client: Client, topic: string, received: SubscriptionMessage[]) {
  const operation = client.subscribeToTopic({ topic });
  operation.on('message', (message) => received.push(message));
  await operation.activate();
  return operation;
}

describe('the stand-in nucleus, driven by the official IPC client', () => {
  it('accepts a connection with a component token and gives its environment', async () => {
    // Act
    const client = await connect('token-1');

    // Assess
    expect(client).toBeInstanceOf(greengrasscoreipc.Client);
    expect(nucleus.environmentFor('test.Component')).toEqual({
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: nucleus.socketPath,
      SVCUID: 'token-1',
    });
  });

  it('refuses the handshake of an unknown token', async () => {
    // Act
    const connecting = connect('not-a-token');

    // Assess: the refused ConnectAck and the close right after it race in the client, as with the real nucleus.
    const error = await connecting.then(
      () => undefined,
      (rejection: eventstream_rpc.RpcError) => rejection,
    );
    expect([
      eventstream_rpc.RpcErrorType.HandshakeError,
      eventstream_rpc.RpcErrorType.NetworkError,
    ]).toContain(error?.type);
  });

  it('delivers binary and JSON messages to a wildcard subscriber of another component, with their topic', async () => {
    // Prepare
    const subscriber = await connect('token-1');
    const publisher = await connect('token-2');
    const received: SubscriptionMessage[] = [];
    await subscribe(subscriber, 'test/binary/#', received);
    await subscribe(subscriber, 'test/json', received);

    // Act
    await publisher.publishToTopic({
      topic: 'test/binary/id-1',
      publishMessage: { binaryMessage: { message: Buffer.from([0, 255, 10]) } },
    });
    await publisher.publishToTopic({
      topic: 'test/json',
      publishMessage: { jsonMessage: { message: { a: 1 } } },
    });
    await waitFor(() => received.length === 2, 5000, 'two messages');

    // Assess
    expect(Buffer.from(received[0].binaryMessage!.message as Buffer)).toEqual(Buffer.from([0, 255, 10]));
    expect(received[0].binaryMessage!.context).toEqual({ topic: 'test/binary/id-1' });
    expect(received[1].jsonMessage).toEqual({ message: { a: 1 }, context: { topic: 'test/json' } });
    expect(nucleus.messagesOn('test/json')).toEqual([
      { topic: 'test/json', from: 'test.Other', kind: 'json', payload: Buffer.from('{"a":1}') },
    ]);
  });

  it("skips a component's own messages on its wildcard subscription, as the nucleus's default receive mode does", async () => {
    // Prepare
    const client = await connect('token-1');
    const received: SubscriptionMessage[] = [];
    await subscribe(client, 'test/binary/#', received);

    // Act
    await client.publishToTopic({
      topic: 'test/binary/own',
      publishMessage: { binaryMessage: { message: 'x' } },
    });
    nucleus.publish('test/binary/other', { binary: Buffer.from('y') });
    await waitFor(() => received.length === 1, 5000, 'one message');

    // Assess
    expect(received.map((message) => message.binaryMessage!.context!.topic)).toEqual(['test/binary/other']);
  });

  it('refuses a subscription outside the accessControl with an UnauthorizedError naming the resource', async () => {
    // Prepare
    const client = await connect('token-1');

    // Act
    const subscribing = client.subscribeToTopic({ topic: 'elsewhere' }).activate();

    // Assess
    await expect(subscribing).rejects.toMatchObject({
      type: eventstream_rpc.RpcErrorType.ServiceError,
      serviceError: {
        message:
          'Principal test.Component is not authorized to perform aws.greengrass.ipc.pubsub:' +
          'aws.greengrass#SubscribeToTopic on resource elsewhere',
      },
    });
  });

  it('records PublishToIoTCore on an allowed topic and refuses it on another', async () => {
    // Prepare
    const client = await connect('token-1');

    // Act
    await client.publishToIoTCore({
      topicName: 'test/status',
      qos: model.QOS.AT_LEAST_ONCE,
      payload: '{"ok":1}',
    });
    const refused = client.publishToIoTCore({
      topicName: 'test/other',
      qos: model.QOS.AT_LEAST_ONCE,
      payload: 'x',
    });

    // Assess
    await expect(refused).rejects.toMatchObject({ type: eventstream_rpc.RpcErrorType.ServiceError });
    expect(nucleus.iotCore).toEqual([
      { topicName: 'test/status', qos: '1', payload: Buffer.from('{"ok":1}'), from: 'test.Component' },
    ]);
  });

  it('refuses a publish to a wildcard topic with an InvalidArgumentsError, a shape the client does not model', async () => {
    // Prepare
    const client = await connect('token-1');

    // Act
    const publishing = client.publishToTopic({
      topic: 'test/binary/#',
      publishMessage: { binaryMessage: { message: 'x' } },
    });

    // Assess
    await expect(publishing).rejects.toMatchObject({
      description: "Unexpected response shape received: 'aws.greengrass#InvalidArgumentsError'",
    });
  });

  it('ends a subscription stream from the server side, which the client sees as ended', async () => {
    // Prepare
    const client = await connect('token-1');
    const operation = client.subscribeToTopic({ topic: 'test/json' });
    let ended = false;
    operation.on('ended', () => (ended = true));
    await operation.activate();

    // Act
    nucleus.endSubscriptions();
    await waitFor(() => ended, 5000, 'the ended event');

    // Assess
    expect(nucleus.subscribers('test/json')).toEqual([]);
  });

  it('forgets a subscription the client closes', async () => {
    // Prepare
    const client = await connect('token-1');
    const operation = await subscribe(client, 'test/json', []);
    await nucleus.waitForSubscribers('test/json', 1);

    // Act
    await operation.close();
    await waitFor(() => nucleus.subscribers('test/json').length === 0, 5000, 'no subscriber left');

    // Assess
    expect(nucleus.subscribers('test/json')).toEqual([]);
  });

  it('drops the connection on stop, which the client reports as a disconnection', async () => {
    // Prepare
    const client = await connect('token-1');
    let disconnected = false;
    client.on('disconnection', () => (disconnected = true));

    // Act
    await nucleus.stop();
    await waitFor(() => disconnected, 5000, 'the disconnection event');

    // Assess
    expect(disconnected).toBe(true);
  });
});
