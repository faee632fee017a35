import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryStreamTarget } from '../../../runtime/firehose/delivery-stream';
import { silentLogger } from '../../../runtime/logger';
import type { StatusEntry } from '../../../runtime/message/status';
import { MemoryBudget } from '../../../runtime/pacing/memory-budget';
import { DiskRecordStore } from '../../../runtime/store/disk/disk-record-store';
import { MemoryRecordStore } from '../../../runtime/store/memory-record-store';
import type { RecordStore } from '../../../runtime/store/record-store';
import type { StreamSnapshot } from '../../../runtime/streams/stream-counts';
import { StreamDispatcher } from '../../../runtime/streams/stream-dispatcher';
import {
  StreamRegistry,
  type StreamRegistryOptions,
  TooManyStreamsError,
} from '../../../runtime/streams/stream-registry';
import { incomingRecord, streamArn, testStream } from '../../helpers/factories';
import { FakeSender } from '../../helpers/fake-sender';
import { advance, settle, useFakeTime } from '../../helpers/fake-time';
import { captureLogger, type LogEntry, logged } from '../../helpers/log-capture';

const registries: StreamRegistry[] = [];
const folders: string[] = [];

beforeEach(() => {
  useFakeTime();
});

afterEach(async () => {
  for (const registry of registries.splice(0)) {
    await registry.close();
    await Promise.all(registry.dispatchers().map((dispatcher) => dispatcher.close()));
  }
  jest.useRealTimers();
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

/** A disk queue in a folder of its own, removed after the test. */
function diskStore(stream: DeliveryStreamTarget): RecordStore {
  const directory = fs.mkdtempSync(join(tmpdir(), 'registry-'));
  folders.push(directory);
  return DiskRecordStore.open({ directory, streamArn: stream.arn, logger: silentLogger });
}

/**
 * A registry of real dispatchers over the queues `storeFor` opens (memory queues unless told), the default stream
 * `main` served from the start; records go out as they arrive (PublishInterval 0) to a fake sender.
 */
function setup(
  overrides: Partial<StreamRegistryOptions> = {},
  storeFor: (stream: DeliveryStreamTarget) => RecordStore = () => new MemoryRecordStore(),
) {
  const sender = new FakeSender();
  const statuses: StatusEntry[] = [];
  const released: string[][] = [];
  const made: string[] = [];
  const logs: LogEntry[] = [];
  const budget = new MemoryBudget(64 * 1024 * 1024);
  const registry = new StreamRegistry({
    maxStreams: 3,
    pinnedArn: streamArn('main'),
    create: (stream, onIdle) => {
      made.push(stream.name);
      return new StreamDispatcher({
        stream,
        store: storeFor(stream),
        budget,
        sender,
        report: (entries) => statuses.push(...entries),
        logger: silentLogger,
        onIdle,
        queueSize: 5000,
        publishIntervalMs: 0,
        maxAttempts: 10,
        maxAgeMs: 3_600_000,
      });
    },
    onReleased: (served) => released.push(served.map((stream) => stream.name)),
    logger: captureLogger(logs),
    ...overrides,
  });
  registries.push(registry);
  registry.open(testStream('main'));
  /** Sends one record to stream `name`, acquiring it. */
  const send = async (name: string): Promise<StreamDispatcher> => {
    const dispatcher = await registry.acquire(testStream(name));
    await dispatcher.enqueue(incomingRecord(`to-${name}`, 10, testStream(name)));
    return dispatcher;
  };
  const servedNames = () => registry.dispatchers().map((dispatcher) => dispatcher.stats.stream);
  return { registry, sender, statuses, released, made, logs, send, servedNames };
}

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((resolved) => (resolve = resolved));
  return { promise, resolve };
}

describe('StreamRegistry', () => {
  it('serves each stream with one dispatcher, made the first time the stream is named', async () => {
    // Prepare
    const { registry, made } = setup();

    // Act
    const first = await registry.acquire(testStream('s1'));
    const second = await registry.acquire(testStream('s1'));

    // Assess
    expect(second).toBe(first);
    expect(registry.served(streamArn('s1'))).toBe(first);
    expect(made).toEqual(['main', 's1']);
  });

  it('gives the place of the override stream idle longest to a new stream when every place is taken', async () => {
    // Prepare: main, s1 and s2 served, all idle; s1 was used before s2.
    const { registry, released, statuses, send, servedNames } = setup();
    await send('s1');
    await advance(100);
    await send('s2');
    await settle();
    expect(statuses).toHaveLength(2);

    // Act
    await registry.acquire(testStream('s3'));

    // Assess
    expect(servedNames()).toEqual([streamArn('main'), streamArn('s2'), streamArn('s3')]);
    expect(released).toEqual([['main', 's2']]);
  });

  it('never gives away the place of the default stream, idle longest though it is', async () => {
    // Prepare
    const { registry, send, servedNames } = setup({ maxStreams: 2 });
    await advance(100);
    await send('s1');
    await settle();

    // Act
    await registry.acquire(testStream('s2'));

    // Assess
    expect(servedNames()).toEqual([streamArn('main'), streamArn('s2')]);
  });

  it('refuses a new stream with TooManyStreamsError while every other stream served holds records', async () => {
    // Prepare: calls never end, so s1 keeps its record.
    const { registry, sender, send } = setup({ maxStreams: 2 });
    sender.hold();
    await send('s1');

    // Act
    const acquiring = registry.acquire(testStream('s2'));

    // Assess
    await expect(acquiring).rejects.toThrow(TooManyStreamsError);
    await expect(acquiring).rejects.toThrow(
      'The connector already serves 2 delivery streams, each with records queued (MaxDeliveryStreams)',
    );
  });

  it('releases an idle override stream after ten seconds, and never the default stream', async () => {
    // Prepare
    const { released, send, servedNames } = setup();
    await send('s1');
    await advance(9_900);
    const servedBefore = servedNames();

    // Act
    await advance(5_100);

    // Assess
    expect(servedBefore).toEqual([streamArn('main'), streamArn('s1')]);
    expect(servedNames()).toEqual([streamArn('main')]);
    expect(released).toEqual([['main']]);
  });

  it('keeps serving a stream that holds records, however long it waits', async () => {
    // Prepare
    const { sender, send, servedNames } = setup();
    sender.hold();
    await send('s1');

    // Act
    await advance(60_000);

    // Assess
    expect(servedNames()).toEqual([streamArn('main'), streamArn('s1')]);
  });

  it('releases an override stream with a disk queue as soon as it is idle, giving back its files', async () => {
    // Prepare
    const { released, statuses, send, servedNames } = setup({}, (stream) =>
      stream.name === 's1' ? diskStore(stream) : new MemoryRecordStore(),
    );

    // Act
    await send('s1');
    await settle();

    // Assess
    expect(statuses).toEqual([{ firehose_record_id: 'id', id: 'to-s1', status: 'success' }]);
    expect(servedNames()).toEqual([streamArn('main')]);
    expect(released).toEqual([['main']]);
  });

  it('opens a released stream again only once its old dispatcher has closed, since a disk queue opens once', async () => {
    // Prepare: s1's dispatcher takes its time to close once released.
    const { registry, made, send } = setup();
    const s1 = await send('s1');
    const closing = deferred();
    jest.spyOn(s1, 'close').mockReturnValue(closing.promise);
    await advance(15_000);

    // Act
    let reopened = false;
    const acquiring = registry.acquire(testStream('s1')).then(() => (reopened = true));
    await settle();
    const madeWhileClosing = [...made];
    closing.resolve();
    await acquiring;

    // Assess
    expect([madeWhileClosing, reopened]).toEqual([['main', 's1'], true]);
    expect(made).toEqual(['main', 's1', 's1']);
  });

  it('keeps the counts of the streams it released in its totals', async () => {
    // Prepare
    const { registry, send } = setup();
    await send('s1');

    // Act
    await advance(15_000);

    // Assess
    expect(registry.releasedTotals).toEqual({
      received: 1,
      rejected: 0,
      dropped: 0,
      delivered: 1,
      failed: 0,
      retried: 0,
      throttled: 0,
      calls: 1,
      records: 1,
      bytes: 10,
      billedBytes: 5120,
    });
  });

  it('hands over the last counts of the streams it releases, for the metrics', async () => {
    // Prepare
    const lastCounts: StreamSnapshot[] = [];
    const { send } = setup({
      onReleased: (_served, released) => lastCounts.push(...released),
    });
    await send('s1');

    // Act
    await advance(15_000);

    // Assess
    expect(lastCounts).toEqual([
      expect.objectContaining({ stream: streamArn('s1'), received: 1, delivered: 1, queued: 0 }),
    ]);
  });

  it('throws the error of a stream whose dispatcher cannot be made, and serves nothing for it', async () => {
    // Prepare
    const { registry } = setup({}, (stream) => {
      if (stream.name === 'broken') throw new Error('EMFILE: too many open files');
      return new MemoryRecordStore();
    });

    // Act
    const acquiring = registry.acquire(testStream('broken'));

    // Assess
    await expect(acquiring).rejects.toThrow('EMFILE: too many open files');
    expect(registry.size).toBe(1);
  });

  it('logs a released stream whose queue cannot close, and serves the stream again when it is named', async () => {
    // Prepare
    const { registry, logs, made, send } = setup();
    const s1 = await send('s1');
    jest.spyOn(s1, 'close').mockRejectedValue(new Error('EIO: i/o error, fsync'));

    // Act
    await advance(15_000);
    await registry.acquire(testStream('s1'));

    // Assess
    expect(logs).toContainEqual(
      logged('error', 'Could not close the queue of a released delivery stream', {
        stream: 's1',
        errorName: 'Error',
        errorMessage: 'EIO: i/o error, fsync',
      }),
    );
    expect(made).toEqual(['main', 's1', 's1']);
  });

  it('waits, on close, for the queues of released streams to close, and sweeps no more', async () => {
    // Prepare
    const { registry, send } = setup();
    const s1 = await send('s1');
    const closing = deferred();
    jest.spyOn(s1, 'close').mockReturnValue(closing.promise);
    await advance(15_000);

    // Act
    let closed = false;
    const registryClosed = registry.close().then(() => (closed = true));
    await settle();
    const closedEarly = closed;
    closing.resolve();
    await registryClosed;

    // Assess
    expect([closedEarly, closed]).toEqual([false, true]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
