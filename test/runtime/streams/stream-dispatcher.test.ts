import { silentLogger } from '../../../runtime/logger';
import { MemoryBudget } from '../../../runtime/pacing/memory-budget';
import { MemoryRecordStore } from '../../../runtime/store/memory-record-store';
import type { StatusEntry } from '../../../runtime/message/status';
import { StreamDispatcher, type StreamDispatcherOptions } from '../../../runtime/streams/stream-dispatcher';
import { incomingRecord, testStream } from '../../helpers/factories';
import { FakeSender, permanent, quotaResponder, retryable } from '../../helpers/fake-sender';
import { advance, advanceUntil, useFakeTime } from '../../helpers/fake-time';
import { captureLogger, type LogEntry } from '../../helpers/log-capture';

const STREAM = testStream('s1');

// Closed after each test: a dispatcher left retrying against a failing sender re-arms its backoff timer forever
// and keeps the Jest worker from exiting.
const dispatchers: StreamDispatcher[] = [];

beforeEach(() => {
  useFakeTime();
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
  jest.useRealTimers();
});

function setup(overrides: Partial<StreamDispatcherOptions> = {}) {
  const sender = new FakeSender();
  const statuses: StatusEntry[] = [];
  const dispatcher = new StreamDispatcher({
    stream: STREAM,
    store: new MemoryRecordStore(),
    budget: new MemoryBudget(64 * 1024 * 1024),
    sender,
    report: (entries) => statuses.push(...entries),
    logger: silentLogger,
    queueSize: 5000,
    publishIntervalMs: 10_000,
    maxAttempts: 1000,
    maxAgeMs: 3_600_000,
    backoff: { baseMs: 40, maxMs: 200 },
    ...overrides,
  });
  dispatchers.push(dispatcher);
  const enqueue = (count: number, size = 10, prefix = 'r') =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        dispatcher.enqueue(incomingRecord(`${prefix}${index}`, size, STREAM)),
      ),
    );
  return { sender, statuses, dispatcher, enqueue };
}

describe('StreamDispatcher', () => {
  it('holds records until the interval ticks, then sends them in one batch', async () => {
    // Prepare
    const { sender, statuses, dispatcher, enqueue } = setup();
    await enqueue(3);
    await advance(50);
    expect(sender.calls).toHaveLength(0);

    // Act
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 3, '3 statuses');

    // Assess
    expect(sender.calls.map((call) => call.data.length)).toEqual([3]);
    expect(statuses[0]).toEqual({ firehose_record_id: 'id', id: 'r0', status: 'success' });
  });

  it('sends a full batch of 500 at once without waiting for the interval', async () => {
    const { sender, enqueue } = setup();

    await enqueue(1200);
    await advanceUntil(() => sender.calls.length === 2, '2 calls');
    await advance(50);

    expect(sender.calls.map((call) => call.data.length)).toEqual([500, 500]);
  });

  it('never puts more than 4 MiB in one call', async () => {
    const { sender, dispatcher, enqueue } = setup();

    await enqueue(10, 1_000_000);
    dispatcher.flush();
    await advanceUntil(() => sender.recordsSent === 10, '10 records sent');

    expect(sender.calls.map((call) => call.data.length)).toEqual([4, 4, 2]);
    expect(Math.max(...sender.calls.map((call) => call.bytes))).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('sends records as they arrive when PublishInterval is 0', async () => {
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0 });

    await enqueue(1);
    await advanceUntil(() => statuses.length === 1, '1 statuses');

    expect(sender.calls).toHaveLength(1);
  });

  it('batches what accumulates while calls are in flight when PublishInterval is 0', async () => {
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0, maxInFlight: 1 });
    const release = sender.hold();
    await enqueue(1, 10, 'first');
    await advance(20);

    await enqueue(300, 10, 'later');
    release();
    await advanceUntil(() => statuses.length === 301, '301 statuses');

    expect(sender.calls.map((call) => call.data.length)).toEqual([1, 300]);
  });

  it('rejects new records once DeliveryStreamQueueSize records are held', async () => {
    const { enqueue } = setup({ queueSize: 2000 });

    const results = await enqueue(2001);

    expect(results.filter((result) => result === undefined)).toHaveLength(2000);
    expect(results[2000]).toEqual({
      ErrorCode: 'QueueFull',
      ErrorMessage: 'Record rejected: the queue of s1 holds 2000 records (DeliveryStreamQueueSize)',
      id: 'r2000',
      status: 'fail',
    });
  });

  it('rejects records that would take the queues past the memory budget', async () => {
    const { enqueue } = setup({ budget: new MemoryBudget(10_000) });

    const results = await enqueue(3, 4000);

    expect(results.slice(0, 2)).toEqual([undefined, undefined]);
    expect(results[2]).toMatchObject({
      ErrorCode: 'QueueFull',
      ErrorMessage: expect.stringContaining('MemorySize'),
    });
  });

  it('frees queue space as records are delivered', async () => {
    const { dispatcher, statuses, enqueue } = setup({ queueSize: 2000 });
    await enqueue(2000);
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 2000, '2000 statuses');

    const results = await enqueue(1, 10, 'after');

    expect(results).toEqual([undefined]);
  });

  it('retries only the records that failed with a retryable error, in a later call', async () => {
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0 });
    sender.respond = (record, callIndex) =>
      callIndex === 0 && record.requestId === 'r1'
        ? retryable()
        : { ok: true, recordId: `${record.requestId}-${callIndex}` };
    const release = sender.hold();
    await enqueue(3);
    await advance(10);

    release();
    await advanceUntil(() => statuses.length === 3, '3 statuses');

    expect(sender.calls.map((call) => call.data.length)).toEqual([3, 1]);
    expect(sender.calls[1].at - sender.calls[0].at).toBeGreaterThanOrEqual(20);
    expect(statuses).toContainEqual({ firehose_record_id: 'r1-1', id: 'r1', status: 'success' });
  });

  it('reports a non-retryable error as a fail status with the service error code', async () => {
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0 });
    sender.respond = () =>
      permanent('ResourceNotFoundException', 'Firehose s1 not found under account 123456789012.');

    await enqueue(1);
    await advanceUntil(() => statuses.length === 1, '1 statuses');

    expect(statuses).toEqual([
      {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: 'Firehose s1 not found under account 123456789012.',
        id: 'r0',
        status: 'fail',
      },
    ]);
    expect(sender.calls).toHaveLength(1);
  });

  it('gives up after RecordMaxAttempts and says so in the fail status', async () => {
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0, maxAttempts: 3 });
    sender.respond = () => retryable();

    await enqueue(1);
    await advanceUntil(() => statuses.length === 1, '1 statuses');

    expect(sender.calls).toHaveLength(3);
    expect(statuses).toEqual([
      {
        ErrorCode: 'ServiceUnavailableException',
        ErrorMessage: 'Slow down. (gave up after 3 attempts, the RecordMaxAttempts limit)',
        id: 'r0',
        status: 'fail',
      },
    ]);
  });

  it('gives up on a record older than RecordMaxAgeSeconds', async () => {
    let now = 1_000_000;
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0, maxAgeMs: 60_000, now: () => now });
    sender.respond = () => {
      now += 61_000;
      return retryable('InternalFailure', 'boom');
    };

    await enqueue(1);
    await advanceUntil(() => statuses.length === 1, '1 statuses');

    expect(statuses[0]).toMatchObject({
      ErrorCode: 'InternalFailure',
      ErrorMessage: 'boom (gave up after 61 s, the RecordMaxAgeSeconds limit)',
    });
  });

  it('backs off exponentially during a throttling storm instead of retrying in a loop', async () => {
    const { sender, enqueue } = setup({ publishIntervalMs: 0, backoff: { baseMs: 20, maxMs: 160 } });
    sender.respond = () => retryable();

    await enqueue(1);
    await advance(600);

    // With 20 ms doubling to 160 ms, at least half of each step: about 10+20+40+80+80+80... => under ~12 calls in 600 ms.
    expect(sender.calls.length).toBeGreaterThanOrEqual(4);
    expect(sender.calls.length).toBeLessThanOrEqual(12);
    const gaps = sender.calls.slice(1).map((call, index) => call.at - sender.calls[index].at);
    expect(gaps.filter((gap) => gap < 10)).toEqual([]);
  });

  it('drains every queued record on shutdown, ignoring the interval', async () => {
    const { dispatcher, statuses, enqueue } = setup({ publishIntervalMs: 900_000 });
    await enqueue(1234);

    const drained = await dispatcher.drain(Date.now() + 2000);

    expect(drained).toBe(true);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(1234);
  });

  it('reports records still undelivered at the shutdown deadline as failed', async () => {
    const { sender, dispatcher, statuses, enqueue } = setup();
    sender.hold();
    await enqueue(2);

    const draining = dispatcher.drain(Date.now() + 100);
    await advance(100);
    const drained = await draining;
    await dispatcher.close();

    expect(drained).toBe(false);
    expect(statuses).toEqual([
      expect.objectContaining({ ErrorCode: 'ConnectorShuttingDown', id: 'r0', status: 'fail' }),
      expect.objectContaining({ ErrorCode: 'ConnectorShuttingDown', id: 'r1', status: 'fail' }),
    ]);
  });

  it('drops the oldest queued record, with a status, when the queue is full and QueueFullPolicy is dropOldest', async () => {
    const { dispatcher, statuses, enqueue } = setup({ queueSize: 2000, fullPolicy: 'dropOldest' });
    await enqueue(2000);

    const [refusal] = await enqueue(1, 10, 'newest');
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 2001, '2001 statuses');

    expect(refusal).toBeUndefined();
    expect(statuses[0]).toEqual({
      ErrorCode: 'QueueFull',
      ErrorMessage: 'Record dropped: the queue was full and QueueFullPolicy is dropOldest',
      id: 'r0',
      status: 'fail',
    });
    expect(statuses).toContainEqual({ firehose_record_id: 'id', id: 'newest0', status: 'success' });
  });

  it('refuses a record the store cannot write with QueueWriteFailed, and carries on', async () => {
    const store = new MemoryRecordStore();
    store.append = () => Promise.reject(new Error('ENOSPC: no space left on device'));
    const { enqueue } = setup({ store });

    const [refusal] = await enqueue(1);

    expect(refusal).toEqual({
      ErrorCode: 'QueueWriteFailed',
      ErrorMessage: 'Record rejected: the queue could not store it (ENOSPC: no space left on device)',
      id: 'r0',
      status: 'fail',
    });
  });

  it('holds intake while every send slot is busy with a backlog ready, so the broker keeps the burst', async () => {
    // Prepare: three calls that went through (slow start), then four calls in flight and 1,999 records ready
    // behind them.
    const { sender, statuses, enqueue } = setup({ publishIntervalMs: 0 });
    for (let call = 0; call < 3; call++) {
      await enqueue(1, 10, `warm${call}-`);
      await advance(5);
    }
    const release = sender.hold();
    for (let call = 0; call < 4; call++) {
      await enqueue(1, 10, `call${call}-`);
      await advance(5);
    }
    await enqueue(1999, 10, 'backlog');

    // Act
    let accepted = false;
    const held = enqueue(1, 10, 'held').then(() => (accepted = true));
    await advance(100);
    const acceptedWhileBusy = accepted;
    release();
    await held;
    await advanceUntil(() => statuses.length === 2007, '2007 statuses');

    // Assess
    expect(acceptedWhileBusy).toBe(false);
    expect(accepted).toBe(true);
  });

  it('gives records waiting out a backoff one last attempt when draining, rather than failing them unsent', async () => {
    // Prepare: the first call is throttled, and the backoff is a minute long.
    const { sender, dispatcher, statuses, enqueue } = setup({
      publishIntervalMs: 0,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    sender.respond = (_, callIndex) => (callIndex === 0 ? retryable() : { ok: true, recordId: 'later' });
    await enqueue(1);
    await advanceUntil(() => sender.calls.length === 1, '1 calls');

    // Act
    const drained = await dispatcher.drain(Date.now() + 5000);

    // Assess
    expect(drained).toBe(true);
    expect(statuses).toEqual([{ firehose_record_id: 'later', id: 'r0', status: 'success' }]);
  });

  it('shrinks batches and keeps sending at about the rate a stream at its quota accepts', async () => {
    // Prepare: a stream that takes 1,000 records a second, and a backlog of 6,000.
    const { sender, statuses, dispatcher, enqueue } = setup({ queueSize: 10_000 });
    const quota = quotaResponder(1000);
    sender.respond = quota.respond;
    await enqueue(6000);
    const started = Date.now();

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 6000, '6,000 statuses', 30_000);

    // Assess: the quota allows 1,000 at once and 1,000 a second: 5 s for 6,000.
    expect(elapsedMs).toBeLessThanOrEqual(5000 / 0.9);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(6000);
    expect(quota.refused / 6000).toBeLessThanOrEqual(0.25);
    const firstThrottled = sender.calls.findIndex((call) => call.at > started);
    const laterBatches = sender.calls.slice(Math.max(firstThrottled, 4)).map((call) => call.data.length);
    expect(laterBatches.filter((size) => size > 150)).toEqual([]);
  });

  it('sends records refused for throttling with the next sends, not at the next interval tick', async () => {
    // Prepare: a one-minute interval, and a stream that takes 500 records a second.
    const { sender, statuses, dispatcher, enqueue } = setup({ publishIntervalMs: 60_000 });
    sender.respond = quotaResponder(500).respond;
    await enqueue(1500);

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 1500, '1,500 statuses', 60_000);

    // Assess: 1,000 more than the burst at 500 a second take 2 s; the next tick would be after 60 s.
    expect(elapsedMs).toBeLessThanOrEqual(2000 / 0.8);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(1500);
  });

  it('backs off exponentially while calls fail whole, and starts again from the shortest backoff once one gets through', async () => {
    // Prepare: calls 0-3 fail whole (a 500: of a lone record, a 503 "Slow down." would be its throttling), 4 goes
    // through, 5-6 fail whole, then all go through.
    const { sender, statuses, enqueue } = setup({
      publishIntervalMs: 0,
      backoff: { baseMs: 100, maxMs: 10_000 },
    });
    const failing = new Set([0, 1, 2, 3, 5, 6]);
    sender.respond = (record, callIndex) =>
      failing.has(callIndex)
        ? {
            ok: false,
            code: 'InternalFailure',
            message: 'An internal failure occurred.',
            retryable: true,
            wholeCall: true,
          }
        : { ok: true, recordId: `${record.requestId}-${callIndex}` };
    await enqueue(1, 10, 'first');
    await advanceUntil(() => statuses.length === 1, 'the first status', 10_000);

    // Act
    await enqueue(1, 10, 'second');
    await advanceUntil(() => statuses.length === 2, 'the second status', 10_000);

    // Assess: equal jitter keeps each delay between half and all of 100, 200, 400, 800 ms, then 100, 200 again.
    const gaps = sender.calls.slice(1).map((call, index) => call.at - sender.calls[index].at);
    const bounds = [100, 200, 400, 800, undefined, 100, 200];
    const outOfBounds = gaps.flatMap((gap, index) => {
      const ceiling = bounds[index];
      return ceiling === undefined || (gap >= ceiling / 2 && gap <= ceiling + 10)
        ? []
        : [`call ${index + 1}: ${gap} ms`];
    });
    expect(outOfBounds).toEqual([]);
    expect(sender.calls).toHaveLength(8);
  });

  it('does not slow to a crawl when one record in seven is refused however slowly the stream is sent', async () => {
    // Prepare: refusals that are a fault of the service, not its quota.
    const { sender, statuses, dispatcher, enqueue } = setup({ queueSize: 10_000 });
    let answered = 0;
    sender.respond = () => (++answered % 7 === 0 ? retryable() : { ok: true, recordId: `id-${answered}` });
    await enqueue(2600);

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 2600, '2,600 statuses', 600_000, 50);

    // Assess: every record delivered within seconds; a rate lowered at each refusal took over nine minutes.
    expect(statuses.filter((status) => status.status !== 'success')).toEqual([]);
    expect(elapsedMs).toBeLessThanOrEqual(20_000);
  });

  it('slows down a stream whose lone records PutRecord refuses whole for throttling, rather than backing it off', async () => {
    // Prepare: 5 records a second; once throttled the stream is sent one record per call, as PutRecord, which
    // answers a refusal with the call's error (a 503 "Slow down.") rather than per record. Backoff as deployed.
    const logs: LogEntry[] = [];
    const { sender, statuses, dispatcher, enqueue } = setup({
      logger: captureLogger(logs),
      backoff: { baseMs: 1000, maxMs: 30_000 },
    });
    const quota = quotaResponder(5);
    sender.respond = (record, callIndex) => {
      const outcome = quota.respond(record, callIndex);
      const lone = sender.calls[callIndex].data.length === 1;
      return !outcome.ok && lone ? { ...outcome, wholeCall: true } : outcome;
    };
    await enqueue(60);

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 60, '60 statuses', 120_000);

    // Assess: 55 more than the burst at 5 a second take 11 s.
    expect(statuses.filter((status) => status.status !== 'success')).toEqual([]);
    expect(sender.calls.filter((call) => call.data.length === 1).length).toBeGreaterThan(40);
    expect(quota.refused).toBeGreaterThan(55);
    expect(logs.map((line) => line.message)).not.toContain(
      'Firehose call failed or was throttled whole; backing off',
    );
    expect(elapsedMs).toBeLessThanOrEqual(11_000 / 0.8);
  });

  it('counts the records refused one by one for the quota as throttled, and retried', async () => {
    // Prepare: two records refused with "Slow down.", one with another retryable error.
    const { sender, statuses, dispatcher, enqueue } = setup();
    let answered = 0;
    sender.respond = () => {
      answered++;
      if (answered <= 2) return retryable();
      if (answered === 3) return retryable('InternalFailure', 'We encountered an internal error.');
      return { ok: true, recordId: 'id' };
    };
    await enqueue(5);

    // Act
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 5, '5 statuses');

    // Assess
    expect(dispatcher.stats).toMatchObject({ delivered: 5, retried: 3, throttled: 2 });
  });

  it('gives the age of the record at the head of the queue, and 0 once it is empty', async () => {
    // Prepare
    const { dispatcher, statuses, enqueue } = setup();
    await enqueue(1, 10, 'first');
    await advance(3000);
    await enqueue(1, 10, 'second');
    await advance(1000);

    // Act
    const waiting = dispatcher.stats.oldestAgeMs;
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 2, '2 statuses');

    // Assess
    expect(waiting).toBe(4000);
    expect(dispatcher.stats.oldestAgeMs).toBe(0);
  });

  it('counts the records of a call in flight in the oldest age', async () => {
    // Prepare: a call that does not answer yet, then a younger record at the head of the queue.
    const { sender, dispatcher, enqueue } = setup();
    const release = sender.hold();
    await enqueue(1, 10, 'in-flight');
    dispatcher.flush();
    await advance(2000);
    await enqueue(1, 10, 'queued');

    // Act
    await advance(500);
    const age = dispatcher.stats.oldestAgeMs;
    release();

    // Assess
    expect(sender.calls).toHaveLength(1);
    expect(age).toBe(2500);
  });
});

describe('StreamDispatcher with packing (RecordPacking)', () => {
  /** Queues messages whose data is their request id, as text. */
  function enqueueNamed(dispatcher: StreamDispatcher, ids: readonly string[]) {
    return Promise.all(
      ids.map((id) => dispatcher.enqueue({ requestId: id, stream: STREAM, data: Buffer.from(`${id};`) })),
    );
  }

  it('packs what is queued when the call is built into one record, and gives every message its status with that record id', async () => {
    // Prepare
    const { sender, statuses, dispatcher } = setup({ packing: true });
    sender.respond = (_, callIndex) => ({ ok: true, recordId: `record-${callIndex}` });
    await enqueueNamed(dispatcher, ['a', 'b', 'c']);

    // Act
    dispatcher.flush();
    await advanceUntil(() => statuses.length === 3, '3 statuses');

    // Assess
    expect(sender.calls.map((call) => call.data)).toEqual([['a;b;c;']]);
    expect(statuses).toEqual(
      ['a', 'b', 'c'].map((id) => ({ firehose_record_id: 'record-0', id, status: 'success' })),
    );
  });

  it('retries a refused record with all its messages, and reports each message once', async () => {
    // Prepare: the first call's record is refused, the second goes through.
    const { sender, statuses, dispatcher } = setup({ packing: true, publishIntervalMs: 0 });
    sender.respond = (_, callIndex) => (callIndex === 0 ? retryable() : { ok: true, recordId: 'second' });

    // Act
    await enqueueNamed(dispatcher, ['a', 'b', 'c']);
    await advanceUntil(() => statuses.length === 3, '3 statuses');
    await advance(1000);

    // Assess
    expect(sender.calls.map((call) => call.requestIds)).toEqual([[['a', 'b', 'c']], [['a', 'b', 'c']]]);
    expect(statuses).toEqual(
      ['a', 'b', 'c'].map((id) => ({ firehose_record_id: 'second', id, status: 'success' })),
    );
  });

  it('counts attempts per message: a record refused until RecordMaxAttempts fails each of its messages once', async () => {
    // Prepare
    const { sender, statuses, dispatcher } = setup({ packing: true, publishIntervalMs: 0, maxAttempts: 2 });
    sender.respond = () => retryable();

    // Act
    await enqueueNamed(dispatcher, ['a', 'b']);
    await advanceUntil(() => statuses.length === 2, '2 statuses');
    await advance(1000);

    // Assess
    expect(sender.calls.map((call) => call.requestIds)).toEqual([[['a', 'b']], [['a', 'b']]]);
    expect(statuses).toEqual(
      ['a', 'b'].map((id) => ({
        ErrorCode: 'ServiceUnavailableException',
        ErrorMessage: 'Slow down. (gave up after 2 attempts, the RecordMaxAttempts limit)',
        id,
        status: 'fail',
      })),
    );
  });

  it('fails every message of a record Firehose refuses for good, with the service error', async () => {
    const { sender, statuses, dispatcher } = setup({ packing: true, publishIntervalMs: 0 });
    sender.respond = () => permanent('AccessDeniedException', 'Not allowed');

    await enqueueNamed(dispatcher, ['a', 'b']);
    await advanceUntil(() => statuses.length === 2, '2 statuses');

    expect(statuses).toEqual(
      ['a', 'b'].map((id) => ({
        ErrorCode: 'AccessDeniedException',
        ErrorMessage: 'Not allowed',
        id,
        status: 'fail',
      })),
    );
    expect(sender.calls.map((call) => call.requestIds)).toEqual([[['a', 'b']]]);
  });

  it('keeps records within 1,024,000 bytes and calls within 4 MiB of data', async () => {
    // Prepare: 50 messages of 100,000 bytes: 10 fill a record, 41 a call.
    const { sender, dispatcher, enqueue } = setup({ packing: true });
    await enqueue(50, 100_000);

    // Act
    dispatcher.flush();
    await advanceUntil(() => sender.calls.length === 2, '2 calls');

    // Assess
    expect(sender.calls.map((call) => call.requestIds.map((ids) => ids.length))).toEqual([
      [10, 10, 10, 10, 1],
      [9],
    ]);
    expect(sender.calls.flatMap((call) => call.data.map((data) => data.length))).toEqual([
      1_000_000, 1_000_000, 1_000_000, 1_000_000, 100_000, 900_000,
    ]);
  });

  it('still sends 500 queued messages at once, without waiting for the interval', async () => {
    // Prepare: a ten-second interval.
    const { sender, enqueue } = setup({ packing: true });

    // Act
    await enqueue(500);
    await advance(50);

    // Assess
    expect(sender.calls.map((call) => call.requestIds.map((ids) => ids.length))).toEqual([[500]]);
  });

  it('counts Firehose records and their billed bytes in its stats', async () => {
    // Prepare: three 200-byte messages, packed and not.
    const packed = setup({ packing: true });
    const unpacked = setup();
    for (const { dispatcher, enqueue } of [packed, unpacked]) {
      await enqueue(3, 200);
      dispatcher.flush();
    }

    // Act
    await advanceUntil(() => packed.statuses.length === 3 && unpacked.statuses.length === 3, '6 statuses');

    // Assess
    expect(packed.dispatcher.stats).toMatchObject({
      delivered: 3,
      records: 1,
      bytes: 600,
      billedBytes: 5120,
    });
    expect(unpacked.dispatcher.stats).toMatchObject({
      delivered: 3,
      records: 3,
      bytes: 600,
      billedBytes: 15_360,
    });
  });

  it('sends a backlog past a stream at its records quota as fast as its bytes allow', async () => {
    // Prepare: a stream that takes 1,000 records a second, and 6,000 messages (5 s of records one per message).
    const { sender, statuses, dispatcher, enqueue } = setup({ packing: true, queueSize: 10_000 });
    const quota = quotaResponder(1000);
    sender.respond = quota.respond;
    await enqueue(6000, 200);

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 6000, '6,000 statuses', 30_000);

    // Assess: 1.2 MB in three records, well within the quota's first second.
    expect(elapsedMs).toBeLessThanOrEqual(100);
    expect(quota.refused).toBe(0);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(6000);
  });

  it('sends a backlog built during an outage at its bytes quota, measured from when the stream came back', async () => {
    // Prepare: calls fail whole until the outage ends, then the stream takes 1 MB a second; 2 MB wait.
    const { sender, statuses, dispatcher, enqueue } = setup({ packing: true, queueSize: 20_000 });
    const quota = quotaResponder(100_000, 1_000_000);
    let outage = true;
    sender.respond = (record, callIndex) =>
      outage
        ? {
            ok: false,
            code: 'ServiceUnavailableException',
            message: 'down',
            retryable: true,
            wholeCall: true,
          }
        : quota.respond(record, callIndex);
    await enqueue(10_000, 200);
    dispatcher.flush();
    await advance(5000);

    // Act
    outage = false;
    const elapsedMs = await advanceUntil(() => statuses.length === 10_000, '10,000 statuses', 60_000);

    // Assess: a second's burst, then the other 1 MB at 0.9 of the quota: about 2 s. Measured over the outage too,
    // the rate was set to half the quota, and the drain took 2.9 s.
    expect(elapsedMs).toBeLessThanOrEqual(2400);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(10_000);
  });

  it('slows down to the bytes a stream at its bytes quota accepts, counting packed records', async () => {
    // Prepare: a stream that takes 1 MB a second, and a backlog of 20,000 messages of 200 bytes (4 MB).
    const { sender, statuses, dispatcher, enqueue } = setup({ packing: true, queueSize: 20_000 });
    const quota = quotaResponder(100_000, 1_000_000);
    sender.respond = quota.respond;
    await enqueue(20_000, 200);

    // Act
    dispatcher.flush();
    const elapsedMs = await advanceUntil(() => statuses.length === 20_000, '20,000 statuses', 60_000);

    // Assess: the first second's burst, then 1 MB a second: 3 s for the other 3 MB.
    expect(elapsedMs).toBeLessThanOrEqual(3000 / 0.8);
    expect(statuses.filter((status) => status.status === 'success')).toHaveLength(20_000);
    expect(new Set(statuses.map((status) => status.id)).size).toBe(20_000);
    expect(quota.refused / sender.calls.length).toBeLessThanOrEqual(0.5);
  });
});
