import { createConnection, type Socket } from 'node:net';
import { FrameReader } from '../../runtime/transport/ipc/client/frame-reader';
import { encodeMessage, type RpcMessage } from '../../runtime/transport/ipc/client/protocol';
import { StandInNucleus } from './ipc-nucleus';
import { OfficialIpcClient } from './official-ipc-client';
import { waitFor } from './wait';

/**
 * The stand-in nucleus, driven by the official Greengrass IPC client (aws-iot-device-sdk-v2 on aws-crt, in a child
 * process), so that it speaks the real protocol: handshake, subscribe, publish, a refused authorization and a
 * server-side close.
 */

/** aws-iot-device-sdk-v2's RpcErrorType values. */
const RpcErrorType = { NetworkError: 5, HandshakeError: 2, ServiceError: 8 } as const;
const AT_LEAST_ONCE = '1';

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
const clients: OfficialIpcClient[] = [];

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

async function connect(authToken: string): Promise<OfficialIpcClient> {
  const client = await OfficialIpcClient.connect(nucleus.socketPath, authToken);
  clients.push(client);
  return client;
}

describe('the stand-in nucleus, driven by the official IPC client', () => {
  it('accepts a connection with a component token and gives its environment', async () => {
    // Act
    const connecting = connect('token-1');

    // Assess
    await expect(connecting).resolves.toBeInstanceOf(OfficialIpcClient);
    expect(nucleus.environmentFor('test.Component')).toEqual({
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: nucleus.socketPath,
      SVCUID: 'token-1',
    });
  });

  it('refuses the handshake of an unknown token', async () => {
    // Act
    const error = await connect('not-a-token').then(
      () => undefined,
      (rejection: { type?: number }) => rejection,
    );

    // Assess: the refused ConnectAck and the close right after it race in the client, as with the real nucleus.
    expect([RpcErrorType.HandshakeError, RpcErrorType.NetworkError]).toContain(error?.type);
  });

  it('delivers binary and JSON messages to a wildcard subscriber of another component, with their topic', async () => {
    // Prepare
    const subscriber = await connect('token-1');
    const publisher = await connect('token-2');
    const binary = await subscriber.subscribe('test/binary/#');
    const json = await subscriber.subscribe('test/json');

    // Act
    await publisher.publishToTopic({
      topic: 'test/binary/id-1',
      publishMessage: {
        binaryMessage: { message: { base64: Buffer.from([0, 255, 10]).toString('base64') } },
      },
    });
    await publisher.publishToTopic({
      topic: 'test/json',
      publishMessage: { jsonMessage: { message: { a: 1 } } },
    });
    await waitFor(() => binary.messages.length + json.messages.length === 2, 5000, 'two messages');

    // Assess
    expect(binary.messages).toEqual([
      { binaryMessage: { message: Buffer.from([0, 255, 10]), context: { topic: 'test/binary/id-1' } } },
    ]);
    expect(json.messages).toEqual([{ jsonMessage: { message: { a: 1 }, context: { topic: 'test/json' } } }]);
    expect(nucleus.messagesOn('test/json')).toEqual([
      { topic: 'test/json', from: 'test.Other', kind: 'json', payload: Buffer.from('{"a":1}') },
    ]);
  });

  it("skips a component's own messages on its wildcard subscription, as the nucleus's default receive mode does", async () => {
    // Prepare
    const client = await connect('token-1');
    const subscription = await client.subscribe('test/binary/#');

    // Act
    await client.publishToTopic({
      topic: 'test/binary/own',
      publishMessage: { binaryMessage: { message: { base64: Buffer.from('x').toString('base64') } } },
    });
    nucleus.publish('test/binary/other', { binary: Buffer.from('y') });
    await waitFor(() => subscription.messages.length === 1, 5000, 'one message');

    // Assess
    expect(subscription.messages.map((message) => message.binaryMessage?.context?.topic)).toEqual([
      'test/binary/other',
    ]);
  });

  it('refuses a subscription outside the accessControl with an UnauthorizedError naming the resource', async () => {
    // Prepare
    const client = await connect('token-1');

    // Act
    const subscribing = client.subscribe('elsewhere');

    // Assess
    await expect(subscribing).rejects.toMatchObject({
      type: RpcErrorType.ServiceError,
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
    await client.publishToIoTCore({ topicName: 'test/status', qos: AT_LEAST_ONCE, payload: '{"ok":1}' });
    const refused = client.publishToIoTCore({ topicName: 'test/other', qos: AT_LEAST_ONCE, payload: 'x' });

    // Assess
    await expect(refused).rejects.toMatchObject({ type: RpcErrorType.ServiceError });
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
      publishMessage: { binaryMessage: { message: { base64: '' } } },
    });

    // Assess
    await expect(publishing).rejects.toMatchObject({
      description: "Unexpected response shape received: 'aws.greengrass#InvalidArgumentsError'",
    });
  });

  it('ends a subscription stream from the server side, which the client sees as ended', async () => {
    // Prepare
    const client = await connect('token-1');
    const subscription = await client.subscribe('test/json');

    // Act
    nucleus.endSubscriptions();
    await waitFor(() => subscription.ended, 5000, 'the ended event');

    // Assess
    expect(nucleus.subscribers('test/json')).toEqual([]);
  });

  it('forgets a subscription the client closes', async () => {
    // Prepare
    const client = await connect('token-1');
    const subscription = await client.subscribe('test/json');
    await nucleus.waitForSubscribers('test/json', 1);

    // Act
    await subscription.close();
    await waitFor(() => nucleus.subscribers('test/json').length === 0, 5000, 'no subscriber left');

    // Assess
    expect(nucleus.subscribers('test/json')).toEqual([]);
  });

  it('drops the connection on stop, which the client reports as a disconnection', async () => {
    // Prepare
    const client = await connect('token-1');

    // Act
    await nucleus.stop();
    await client.waitForDisconnection();

    // Assess
    expect(client.disconnected).toBe(true);
  });
});

/** A client that writes raw event stream RPC messages, to break the protocol as the official client never does. */
class RawClient {
  readonly received: RpcMessage[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    const reader = new FrameReader(1024 * 1024);
    socket.on('data', (chunk: Buffer) =>
      this.received.push(...reader.push(chunk).map((frame) => frame.message)),
    );
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async connect(socketPath: string, authToken: string): Promise<RawClient> {
    const socket = createConnection({ path: socketPath });
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = new RawClient(socket);
    client.send({
      type: 4,
      flags: 0,
      streamId: 0,
      headers: { ':version': '0.1.0', ':content-type': 'application/json' },
      payload: Buffer.from(JSON.stringify({ authToken })),
    });
    await waitFor(() => client.received.length === 1, 5000, 'the ConnectAck');
    return client;
  }

  send(message: RpcMessage): void {
    this.socket.write(encodeMessage(message));
  }

  /** A SubscribeToTopic request on `streamId`. */
  subscribe(streamId: number, topic: string): void {
    this.send({
      type: 0,
      flags: 0,
      streamId,
      headers: {
        operation: 'aws.greengrass#SubscribeToTopic',
        'service-model-type': 'aws.greengrass#SubscribeToTopicRequest',
        ':content-type': 'application/json',
      },
      payload: Buffer.from(JSON.stringify({ topic })),
    });
  }

  terminate(streamId: number): void {
    this.send({ type: 0, flags: 2, streamId, headers: {}, payload: Buffer.alloc(0) });
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('the stand-in nucleus, as strict as aws-c-event-stream', () => {
  const raws: RawClient[] = [];

  afterEach(() => {
    for (const raw of raws.splice(0)) raw.close();
  });

  async function connectRaw(): Promise<RawClient> {
    const raw = await RawClient.connect(nucleus.socketPath, 'token-1');
    raws.push(raw);
    return raw;
  }

  it('answers a new stream id that is not the last one plus one with a ProtocolError, and closes the connection', async () => {
    // Prepare
    const raw = await connectRaw();
    raw.subscribe(1, 'test/json');
    await nucleus.waitForSubscribers('test/json', 1);

    // Act
    raw.subscribe(3, 'test/json');
    await waitFor(() => raw.closed, 5000, 'the connection closed');

    // Assess
    expect(raw.received.at(-1)).toMatchObject({ type: 6, streamId: 0 });
    expect(JSON.parse(raw.received.at(-1)!.payload.toString())).toEqual({
      message:
        'stream-id values must be monotonically incrementing. A new stream-id arrived that was incremented by more than 1.',
    });
  });

  it('answers a message on a stream it no longer has with a ProtocolError, and closes the connection', async () => {
    // Prepare: stream 1 ends when the subscription is terminated.
    const raw = await connectRaw();
    raw.subscribe(1, 'test/json');
    await nucleus.waitForSubscribers('test/json', 1);
    raw.terminate(1);
    await waitFor(() => nucleus.subscribers('test/json').length === 0, 5000, 'the subscription ended');

    // Act
    raw.subscribe(1, 'test/json');
    await waitFor(() => raw.closed, 5000, 'the connection closed');

    // Assess
    expect(nucleus.protocolErrors).toEqual([
      'stream-id values must be monotonically incrementing. A stream-id arrived that was lower than the last seen stream-id.',
    ]);
  });

  it("ignores a TerminateStream on a stream it no longer has, which a close crossing the server's can send", async () => {
    // Prepare
    const raw = await connectRaw();
    raw.subscribe(1, 'test/json');
    await nucleus.waitForSubscribers('test/json', 1);
    nucleus.endSubscriptions();

    // Act
    raw.terminate(1);
    raw.subscribe(2, 'test/json');
    await nucleus.waitForSubscribers('test/json', 1);

    // Assess
    expect(raw.closed).toBe(false);
    expect(nucleus.protocolErrors).toEqual([]);
  });
});
