import { createServer, type Socket } from 'node:net';
import {
  GreengrassIpcClient,
  type IpcClientOptions,
} from '../../../../../runtime/transport/ipc/client/client';
import { FrameReader } from '../../../../../runtime/transport/ipc/client/frame-reader';
import {
  encodeMessage,
  MessageFlags,
  MessageType,
} from '../../../../../runtime/transport/ipc/client/protocol';
import { Qos } from '../../../../../runtime/transport/ipc/client/model';
import type { SubscriptionEvent } from '../../../../../runtime/transport/ipc/client/subscription';
import { createLogger } from '../../../../../runtime/logger';
import { StandInNucleus } from '../../../../helpers/ipc-nucleus';
import { waitFor } from '../../../../helpers/wait';

/**
 * The connector's IPC client against the stand-in nucleus (real Unix socket, real protocol). Backoff is shortened so
 * that reconnections happen quickly; nothing asserts on how long they take.
 */

const accessControl = {
  'aws.greengrass.ipc.pubsub': {
    'connector:pubsub:1': {
      operations: ['aws.greengrass#SubscribeToTopic', 'aws.greengrass#PublishToTopic'],
      resources: ['in/json', 'in/binary/#', 'out/status'],
    },
  },
  'aws.greengrass.ipc.mqttproxy': {
    'connector:mqttproxy:1': { operations: ['aws.greengrass#PublishToIoTCore'], resources: ['out/status'] },
  },
};

let nucleus: StandInNucleus;
let client: GreengrassIpcClient | undefined;
let logs: { level: string; message: string; [field: string]: unknown }[];

beforeEach(async () => {
  logs = [];
  nucleus = await StandInNucleus.start({
    'test.Connector': { authToken: 'connector-token', accessControl },
    'test.Unauthorized': { authToken: 'other-token' },
  });
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  await nucleus.dispose();
});

function connect(options: Partial<IpcClientOptions> = {}): GreengrassIpcClient {
  client = GreengrassIpcClient.connect({
    socketPath: nucleus.socketPath,
    authToken: 'connector-token',
    logger: createLogger('debug', (line) => logs.push(JSON.parse(line))),
    backoff: { baseMs: 10, maxMs: 40 },
    maxFrameBytes: 1024 * 1024,
    ...options,
  });
  return client;
}

/**
 * A nucleus that accepts the handshake and then neither answers nor, with `stopReading`, reads: what the client does
 * when the real one hangs. `close` also destroys the connections it accepted: a socket that stopped reading never
 * sees the client's end, so it would stay open after the test, until the worker exits.
 */
async function unresponsiveNucleus(socketPath: string, stopReading: boolean): Promise<{ close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const reader = new FrameReader(16 * 1024 * 1024);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const frame of reader.push(chunk)) {
        if (frame.message.type !== MessageType.Connect) continue;
        const ack = { type: MessageType.ConnectAck, flags: MessageFlags.ConnectionAccepted, streamId: 0 };
        socket.write(encodeMessage({ ...ack, headers: {}, payload: Buffer.alloc(0) }));
        if (stopReading) socket.pause();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Collects events in order. */
function collector() {
  const events: SubscriptionEvent[] = [];
  const handler = (event: SubscriptionEvent): Promise<void> => {
    events.push(event);
    return Promise.resolve();
  };
  return { events, handler };
}

const messageLog = () => logs.map((line) => line.message);

describe('GreengrassIpcClient', () => {
  it('receives what is published on its subscriptions, binary and JSON, with the topic of each', async () => {
    // Prepare
    const ipc = connect();
    const { events, handler } = collector();
    await Promise.all([ipc.subscribe('in/json', handler).ready, ipc.subscribe('in/binary/#', handler).ready]);

    // Act
    nucleus.publish('in/binary/req-7', { binary: Buffer.from([0, 0xff, 0x0a]) });
    nucleus.publish('in/json', { json: { request: { data: 'x' }, id: 'j' } });
    await waitFor(() => events.length === 2, 5000, 'two events');

    // Assess
    expect(events).toEqual([
      { kind: 'message', message: { topic: 'in/binary/req-7', payload: Buffer.from([0, 0xff, 0x0a]) } },
      {
        kind: 'message',
        message: { topic: 'in/json', payload: Buffer.from('{"request":{"data":"x"},"id":"j"}') },
      },
    ]);
  });

  it('publishes on local publish/subscribe and to AWS IoT Core', async () => {
    // Prepare
    const ipc = connect();
    await ipc.connected();

    // Act
    await ipc.publishToTopic('out/status', '{"response":[]}');
    await ipc.publishToIoTCore('out/status', '{"response":[1]}', Qos.atLeastOnce);

    // Assess
    expect(nucleus.messagesOn('out/status')).toEqual([
      {
        topic: 'out/status',
        from: 'test.Connector',
        kind: 'binary',
        payload: Buffer.from('{"response":[]}'),
      },
    ]);
    expect(nucleus.iotCore).toEqual([
      { topicName: 'out/status', qos: '1', payload: Buffer.from('{"response":[1]}'), from: 'test.Connector' },
    ]);
  });

  it('hands messages to its handler one at a time and in order, reading on only when the handler returns', async () => {
    // Prepare
    const ipc = connect();
    let busy = 0;
    let mostBusy = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    await ipc.subscribe('in/json', async (event) => {
      busy++;
      mostBusy = Math.max(mostBusy, busy);
      if (event.kind === 'message') seen.push(event.message.payload.toString());
      if (seen.length === 1) await gate;
      busy--;
    }).ready;

    // Act
    for (const n of [1, 2, 3]) nucleus.publish('in/json', { json: n });
    await waitFor(() => seen.length === 1, 5000, 'the first message');
    const seenWhileHeld = [...seen];
    release();
    await waitFor(() => seen.length === 3, 5000, 'all three messages');

    // Assess
    expect(seenWhileHeld).toEqual(['1']);
    expect(seen).toEqual(['1', '2', '3']);
    expect(mostBusy).toBe(1);
  });

  it('hands over a message larger than it reads as oversized, and keeps reading after it', async () => {
    // Prepare
    const ipc = connect({ maxFrameBytes: 64 * 1024 });
    const { events, handler } = collector();
    await ipc.subscribe('in/binary/#', handler).ready;

    // Act
    nucleus.publish('in/binary/big', { binary: Buffer.alloc(100_000, 1) });
    nucleus.publish('in/binary/small', { binary: Buffer.from('ok') });
    await waitFor(() => events.length === 2, 5000, 'two events');

    // Assess
    expect(events[0]).toEqual({ kind: 'oversized', bytes: expect.any(Number) });
    expect((events[0] as { bytes: number }).bytes).toBeGreaterThan(100_000 * (4 / 3));
    expect(events[1]).toEqual({
      kind: 'message',
      message: { topic: 'in/binary/small', payload: Buffer.from('ok') },
    });
  });

  it('reconnects after the nucleus restarts and subscribes again, logging each step', async () => {
    // Prepare
    const ipc = connect();
    const { events, handler } = collector();
    await ipc.subscribe('in/json', handler).ready;

    // Act
    await nucleus.restart();
    await nucleus.waitForSubscribers('in/json', 1);
    nucleus.publish('in/json', { json: 'after restart' });
    await waitFor(() => events.length === 1, 5000, 'a message after the restart');

    // Assess
    expect(events).toEqual([
      { kind: 'message', message: { topic: 'in/json', payload: Buffer.from('"after restart"') } },
    ]);
    expect(messageLog()).toEqual([
      'Connecting to the Greengrass nucleus over IPC',
      'Connected to the Greengrass nucleus over IPC',
      'Subscribed over IPC',
      'IPC connection to the nucleus lost',
      'Reconnecting to the nucleus',
      'Connecting to the Greengrass nucleus over IPC',
      'Connected to the Greengrass nucleus over IPC',
      'Subscribed over IPC',
    ]);
  });

  it('keeps trying while the nucleus is away, and connects once it is back', async () => {
    // Prepare
    await nucleus.stop();
    const ipc = connect();

    // Act
    await waitFor(
      () =>
        messageLog().filter((m) => m === 'Could not connect to the Greengrass nucleus over IPC').length >= 2,
    );
    await nucleus.restart();
    await ipc.connected();

    // Assess
    expect(logs.find((line) => line.message === 'Reconnecting to the nucleus')).toMatchObject({
      level: 'info',
      attempt: 1,
      retryInMs: expect.any(Number),
    });
  });

  it('subscribes again when the nucleus ends the subscription stream', async () => {
    // Prepare
    const ipc = connect();
    const { events, handler } = collector();
    await ipc.subscribe('in/json', handler).ready;

    // Act
    nucleus.endSubscriptions();
    await nucleus.waitForSubscribers('in/json', 1);
    nucleus.publish('in/json', { json: 1 });
    await waitFor(() => events.length === 1, 5000, 'a message on the new subscription');

    // Assess
    expect(messageLog()).toContain('The nucleus ended the IPC subscription; subscribing again');
  });

  it('logs a refused subscription with the accessControl it needs, and keeps trying', async () => {
    // Prepare
    const ipc = connect({ authToken: 'other-token' });

    // Act
    ipc.subscribe('in/json', collector().handler);
    await waitFor(() => logs.filter((line) => line.level === 'error').length >= 2, 5000, 'two refusals');

    // Assess
    expect(logs.find((line) => line.level === 'error')).toMatchObject({
      message:
        "The nucleus refused the subscription: the component's accessControl must allow " +
        'aws.greengrass#SubscribeToTopic on in/json (aws.greengrass.ipc.pubsub)',
      topic: 'in/json',
    });
  });

  it('logs a refused token as an error and never logs the token', async () => {
    // Prepare & Act
    connect({ authToken: 'wrong-token' });
    await waitFor(() => messageLog().includes('The nucleus refused the IPC connection'), 5000, 'the refusal');

    // Assess
    expect(logs.find((line) => line.message === 'The nucleus refused the IPC connection')).toMatchObject({
      level: 'error',
      errorMessage: 'The nucleus refused the IPC connection: SVCUID was not accepted',
    });
    expect(JSON.stringify(logs)).not.toContain('wrong-token');
  });

  it('gives up on a request the nucleus does not answer, naming the operation', async () => {
    // Prepare
    await nucleus.stop();
    const server = await unresponsiveNucleus(nucleus.socketPath, false);
    const ipc = connect({ requestTimeoutMs: 100 });
    await ipc.connected();

    // Act
    const publishing = ipc.publishToTopic('out/status', '{}');

    // Assess
    await expect(publishing).rejects.toThrow(
      'The nucleus did not answer aws.greengrass#PublishToTopic within 100 ms',
    );
    server.close();
  });

  it('refuses to buffer more than 8 MiB for a nucleus that stopped reading', async () => {
    // Prepare
    await nucleus.stop();
    const server = await unresponsiveNucleus(nucleus.socketPath, true);
    try {
      const ipc = connect({ requestTimeoutMs: 60_000 });
      await ipc.connected();
      const megabyte = 'x'.repeat(1024 * 1024);
      const refusals: string[] = [];

      // Act
      for (let index = 0; index < 24; index++) {
        ipc.publishToTopic('out/status', megabyte).catch((error: Error) => refusals.push(error.message));
      }
      await waitFor(() => refusals.length > 0, 5000, 'a refused publish');

      // Assess
      expect(refusals[0]).toMatch(/^The nucleus is not reading: \d+ bytes are still waiting to be written$/);
    } finally {
      await client?.close();
      client = undefined;
      server.close();
    }
  });

  it('refuses a publish at once while disconnected', async () => {
    // Prepare
    await nucleus.stop();
    const ipc = connect();

    // Act
    const publishing = ipc.publishToTopic('out/status', '{}');

    // Assess
    await expect(publishing).rejects.toThrow('Not connected to the Greengrass nucleus (IPC); reconnecting');
  });
});
