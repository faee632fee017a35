import { loadConfig } from '../../runtime/config';
import { Connector } from '../../runtime/connector';
import { Topics } from '../../runtime/contract/topics';
import type { DeliveryStreamTarget } from '../../runtime/firehose/delivery-stream';
import { silentLogger } from '../../runtime/logger';
import type { StatusEntry } from '../../runtime/message/status';
import { MemoryRecordStore } from '../../runtime/store/memory-record-store';
import type { StreamSnapshot } from '../../runtime/streams/stream-counts';
import { streamArn } from '../helpers/factories';
import { FakeSender, permanent } from '../helpers/fake-sender';
import { settle, useFakeTime } from '../helpers/fake-time';
import { waitFor } from '../helpers/wait';

const connectors: Connector[] = [];

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(connectors.splice(0).map((connector) => connector.stop(Date.now())));
});

function setup(
  parameters: Record<string, string | number> = {},
  options: { createStore?: (stream: DeliveryStreamTarget) => MemoryRecordStore } = {},
) {
  const sender = new FakeSender();
  const statuses: StatusEntry[] = [];
  const released: string[][] = [];
  const releasedCounts: StreamSnapshot[] = [];
  const refused: [string, string][] = [];
  const config = loadConfig({
    env: {},
    overrides: { DefaultDeliveryStreamArn: streamArn('main'), PublishInterval: 0, ...parameters },
  });
  const connector = new Connector({
    config,
    sender,
    logger: silentLogger,
    publishStatus: (entries) => statuses.push(...entries),
    onStreamsReleased: (served, counts) => {
      released.push(served.map((stream) => stream.name));
      releasedCounts.push(...counts);
    },
    onIntakeRefused: (stream, errorCode) => refused.push([stream, errorCode]),
    createStore: options.createStore,
  });
  connectors.push(connector);
  connector.start();
  const publish = (data: string, id: string, streamArn?: string) =>
    connector.handleMessage(
      Topics.json,
      Buffer.from(JSON.stringify({ request: { data, delivery_stream_arn: streamArn }, id })),
    );
  return { connector, sender, statuses, released, releasedCounts, refused, publish };
}

describe('Connector', () => {
  it('answers a message whose stream queue cannot open with QueueWriteFailed, and carries on', async () => {
    // Prepare
    const { statuses, publish } = setup(
      {},
      {
        createStore: (stream) => {
          if (stream.name === 'broken') throw new Error('EMFILE: too many open files');
          return new MemoryRecordStore();
        },
      },
    );

    // Act
    await publish('x', 'to-broken', streamArn('broken'));
    await publish('y', 'to-main');
    await waitFor(() => statuses.length === 2);

    // Assess
    expect(statuses).toEqual([
      {
        ErrorCode: 'QueueWriteFailed',
        ErrorMessage:
          'Record rejected: the queue of broken could not be opened (EMFILE: too many open files)',
        id: 'to-broken',
        status: 'fail',
      },
      { firehose_record_id: 'id', id: 'to-main', status: 'success' },
    ]);
  });

  it('answers a message that meets a fault of its own with InternalError, and never rejects', async () => {
    // Prepare: a store that throws where it should reject, as a bug would.
    const { statuses, publish } = setup(
      {},
      {
        createStore: (stream) => {
          const store = new MemoryRecordStore();
          if (stream.name === 'buggy') {
            store.append = () => {
              throw new TypeError("Cannot read properties of undefined (reading 'length')");
            };
          }
          return store;
        },
      },
    );

    // Act
    const handled = publish('x', 'to-buggy', streamArn('buggy'));

    // Assess
    await expect(handled).resolves.toBeUndefined();
    expect(statuses).toEqual([
      {
        ErrorCode: 'InternalError',
        ErrorMessage:
          "The connector failed to take in this message (Cannot read properties of undefined (reading 'length'))",
        id: 'to-buggy',
        status: 'fail',
      },
    ]);
  });

  it('refuses a stream beyond MaxDeliveryStreams with TooManyDeliveryStreams while every stream served holds records', async () => {
    // Prepare: calls never end, so every stream keeps its record.
    const { sender, statuses, publish } = setup({ MaxDeliveryStreams: 3 });
    sender.hold();
    await publish('a', 'a', streamArn('s1'));
    await publish('b', 'b', streamArn('s2'));

    // Act
    await publish('c', 'c', streamArn('s3'));

    // Assess
    expect(statuses).toEqual([
      {
        ErrorCode: 'TooManyDeliveryStreams',
        ErrorMessage:
          'Record rejected for s3: The connector already serves 3 delivery streams, each with records queued (MaxDeliveryStreams)',
        id: 'c',
        status: 'fail',
      },
    ]);
  });

  it('gives the place of an idle stream to a new one, and counts what the idle one did', async () => {
    // Prepare
    const { connector, statuses, released, publish } = setup({ MaxDeliveryStreams: 2 });
    await publish('a', 'a', streamArn('s1', 'eu-west-1'));
    await waitFor(() => statuses.length === 1);

    // Act
    await publish('b', 'b', streamArn('s2'));
    await waitFor(() => statuses.length === 2);

    // Assess
    expect(statuses.map((status) => [status.id, status.status])).toEqual([
      ['a', 'success'],
      ['b', 'success'],
    ]);
    expect(connector.stats().streams.map((stream) => stream.stream)).toEqual([
      streamArn('main'),
      streamArn('s2'),
    ]);
    expect(connector.stats()).toMatchObject({ received: 2, delivered: 2 });
    expect(released).toEqual([['main']]);
  });

  it('hands over the last counts of a stream it releases', async () => {
    // Prepare
    const { statuses, releasedCounts, publish } = setup({ MaxDeliveryStreams: 2 });
    await publish('a', 'a', streamArn('s1'));
    await publish('b', 'b', streamArn('s1'));
    await waitFor(() => statuses.length === 2);

    // Act
    await publish('c', 'c', streamArn('s2'));
    await waitFor(() => statuses.length === 3);

    // Assess
    expect(releasedCounts).toEqual([
      expect.objectContaining({ stream: streamArn('s1'), received: 2, delivered: 2, queued: 0 }),
    ]);
  });

  it('tells the stream and error code of each message refused at intake, the default stream when none is named', async () => {
    // Prepare: the default stream holds a record in a call that does not answer yet.
    const { connector, sender, statuses, refused, publish } = setup({ MaxDeliveryStreams: 1 });
    const release = sender.hold();
    await publish('held', 'held');

    // Act
    await connector.handleMessage(Topics.json, Buffer.from('not json'));
    await publish('x', 'elsewhere', streamArn('s2'));
    await publish('y', 'bad-arn', 'arn:aws:firehose:nowhere');
    release();
    await waitFor(() => statuses.length === 4);

    // Assess
    expect(refused).toEqual([
      ['main', 'InvalidJson'],
      ['s2', 'TooManyDeliveryStreams'],
      ['main', 'InvalidDeliveryStreamArn'],
    ]);
  });

  it('tells the stream of a message its full queue refused', async () => {
    // Prepare: a call that does not answer keeps the records of s2 in its queue.
    const { sender, refused, publish } = setup({ DeliveryStreamQueueSize: 2000 });
    const release = sender.hold();
    for (let index = 0; index < 2000; index++) await publish('x', `r${index}`, streamArn('s2'));

    // Act
    await publish('x', 'one too many', streamArn('s2'));
    release();

    // Assess
    expect(refused).toEqual([['s2', 'QueueFull']]);
  });

  it('releases an idle override stream after ten seconds, and keeps the default stream', async () => {
    // Prepare
    useFakeTime();
    const { connector, statuses, released, publish } = setup();
    await publish('a', 'a', streamArn('s1', 'eu-west-1'));
    await settle();
    expect(statuses).toHaveLength(1);

    // Act
    jest.advanceTimersByTime(9000);
    const servedBefore = connector.stats().streams.length;
    jest.advanceTimersByTime(6000);

    // Assess
    expect(servedBefore).toBe(2);
    expect(connector.stats().streams.map((stream) => stream.stream)).toEqual([streamArn('main')]);
    expect(released).toEqual([['main']]);
  });

  it('answers each of 3,000 messages to distinct unknown streams exactly once and serves at most MaxDeliveryStreams', async () => {
    // Prepare: the service does not know these streams.
    const { connector, sender, statuses, publish } = setup({ MaxDeliveryStreams: 16 });
    sender.respond = () => permanent('ResourceNotFoundException', 'Firehose not found');
    let mostServed = 0;

    // Act
    for (let index = 0; index < 3000; index++) {
      await publish('x', `m${index}`, streamArn(`unknown-${index}`));
      mostServed = Math.max(mostServed, connector.stats().streams.length);
    }
    await waitFor(() => statuses.length === 3000);

    // Assess
    const answered = new Map<string, number>();
    for (const status of statuses) answered.set(status.id, (answered.get(status.id) ?? 0) + 1);
    const notOnce = [...answered].filter(([, count]) => count !== 1);
    expect(notOnce).toEqual([]);
    expect(answered.size).toBe(3000);
    expect(mostServed).toBeLessThanOrEqual(16);
  });

  it('keeps at most 16 calls in flight across all streams, and sends the rest as calls end', async () => {
    // Prepare: eight streams, each warmed up to four calls in flight by three calls that went through, then three
    // records each, sent one call per record (PublishInterval 0) while calls are held.
    const { sender, statuses, publish } = setup({ MaxDeliveryStreams: 9 });
    for (let stream = 0; stream < 8; stream++) {
      for (let record = 0; record < 3; record++) {
        await publish('x', `s${stream}-warm${record}`, streamArn(`s${stream}`));
        await settle();
      }
    }
    const release = sender.hold();
    const callsBefore = sender.calls.length;
    for (let stream = 0; stream < 8; stream++) {
      for (let record = 0; record < 3; record++) {
        await publish('x', `s${stream}-r${record}`, streamArn(`s${stream}`));
        await settle();
      }
    }
    const callsWhileHeld = sender.calls.length - callsBefore;

    // Act
    release();
    await waitFor(() => statuses.length === 48);

    // Assess
    expect(callsWhileHeld).toBe(16);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(48);
  });
});

describe('Connector with RecordPacking', () => {
  /** Publishes a JSON and a binary message to the default stream, and a JSON one to `other`, then flushes. */
  async function publishMix(setupResult: ReturnType<typeof setup>): Promise<void> {
    const { connector, publish, statuses } = setupResult;
    await publish('{"t":1}', 'json-1');
    await connector.handleMessage(`${Topics.binary.slice(0, -1)}bin-1`, Buffer.from([0x00, 0xff, 0x0a]));
    await publish('to other', 'other-1', streamArn('other'));
    await publish('{"t":2}', 'json-2');
    connector.flush();
    await waitFor(() => statuses.length === 4);
  }

  /** The data of every record sent to `stream`, in order. */
  function recordsOf(sender: FakeSender, stream: string): Buffer[] {
    return sender.calls
      .filter((call) => call.stream === stream)
      .flatMap((call) => call.data.map((data) => Buffer.from(data, 'latin1')));
  }

  it('packs JSON and binary messages of the default stream into one record, each with its separator, in order', async () => {
    // Prepare
    const mixed = setup({ PublishInterval: 60, RecordPacking: 'default-stream', RecordSeparator: '\\n' });
    const sent: Buffer[] = [];
    mixed.sender.respond = (record) => {
      sent.push(record.data);
      return { ok: true, recordId: `record-of-${record.requestId}` };
    };

    // Act
    await publishMix(mixed);

    // Assess
    expect(
      mixed.sender.calls.filter((call) => call.stream === 'main').map((call) => call.requestIds),
    ).toEqual([[['json-1', 'bin-1', 'json-2']]]);
    expect(sent.find((data) => data.length > 9)).toEqual(
      Buffer.concat([
        Buffer.from('{"t":1}\n'),
        Buffer.from([0x00, 0xff, 0x0a, 0x0a]),
        Buffer.from('{"t":2}\n'),
      ]),
    );
    expect(mixed.statuses.filter((status) => status.id !== 'other-1')).toEqual(
      ['json-1', 'bin-1', 'json-2'].map((id) => ({
        firehose_record_id: 'record-of-json-1',
        id,
        status: 'success',
      })),
    );
  });

  it('packs the messages of each stream apart, and only the default stream with default-stream', async () => {
    // Prepare
    const defaultOnly = setup({ PublishInterval: 60, RecordPacking: 'default-stream' });
    const allStreams = setup({ PublishInterval: 60, RecordPacking: 'all-streams' });

    // Act
    await publishMix(defaultOnly);
    await publish3ToOther(defaultOnly);
    await publishMix(allStreams);
    await publish3ToOther(allStreams);

    // Assess
    const idsBy = (sender: FakeSender, stream: string) =>
      sender.calls.filter((call) => call.stream === stream).flatMap((call) => call.requestIds);
    expect(idsBy(defaultOnly.sender, 'main')).toEqual([['json-1', 'bin-1', 'json-2']]);
    expect(idsBy(defaultOnly.sender, 'other')).toEqual([['other-1'], ['other-2'], ['other-3']]);
    expect(idsBy(allStreams.sender, 'main')).toEqual([['json-1', 'bin-1', 'json-2']]);
    expect(idsBy(allStreams.sender, 'other')).toEqual([['other-1'], ['other-2', 'other-3']]);
  });

  it('sends one record per message when RecordPacking is off, the default', async () => {
    const unpacked = setup({ PublishInterval: 60 });

    await publishMix(unpacked);

    expect(recordsOf(unpacked.sender, 'main').map((data) => data.length)).toEqual([7, 3, 7]);
  });

  /** Two more messages for `other`, sent in one call. */
  async function publish3ToOther({ connector, publish, statuses }: ReturnType<typeof setup>): Promise<void> {
    const before = statuses.length;
    await publish('two', 'other-2', streamArn('other'));
    await publish('three', 'other-3', streamArn('other'));
    connector.flush();
    await waitFor(() => statuses.length === before + 2);
  }
});
