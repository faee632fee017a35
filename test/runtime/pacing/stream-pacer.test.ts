import { StreamPacer } from '../../../runtime/pacing/stream-pacer';
import { advance, useFakeTime } from '../../helpers/fake-time';
import { captureLogger, type LogEntry, logged } from '../../helpers/log-capture';

const MAX_BYTES = 4 * 1024 * 1024;

/** `records` records of 100 bytes, delivered whole or not. */
function call(records: number, throttled = 0) {
  return { accepted: { records, bytes: records * 100 }, throttled, wholeDelivered: throttled === 0 };
}

const pacers: StreamPacer[] = [];

beforeEach(() => {
  useFakeTime();
});

afterEach(() => {
  for (const pacer of pacers.splice(0)) pacer.stop();
  jest.useRealTimers();
});

function setup() {
  const logs: LogEntry[] = [];
  const onReady = jest.fn<void, []>();
  const pacer = new StreamPacer({
    streamName: 's1',
    maxInFlight: 4,
    logger: captureLogger(logs),
    now: () => Date.now(),
    onReady,
  });
  pacers.push(pacer);
  return { pacer, onReady, logs };
}

/**
 * Throttles the stream as `adaptive-rate.test.ts` does: 1,700 records of 100 bytes accepted in its first second
 * with 200 refused at the end, which slows it to 900 records (90,000 bytes) a second with an empty bucket.
 */
async function throttle(pacer: StreamPacer): Promise<void> {
  const start = Date.now();
  pacer.settle(start, call(100));
  await advance(500);
  pacer.settle(start + 400, call(700));
  await advance(700);
  pacer.settle(start + 1100, call(1000, 200));
}

describe('StreamPacer', () => {
  it('starts with one call in flight and opens one more for each call delivered whole, up to maxInFlight', () => {
    // Prepare
    const { pacer } = setup();
    const windows = [pacer.callWindow];

    // Act
    for (let settled = 0; settled < 4; settled++) {
      pacer.settle(Date.now(), call(10));
      windows.push(pacer.callWindow);
    }

    // Assess
    expect(windows).toEqual([1, 2, 3, 4, 4]);
  });

  it('opens no more calls while calls are not delivered whole', () => {
    // Prepare
    const { pacer } = setup();

    // Act
    pacer.settle(Date.now(), { accepted: { records: 9, bytes: 900 }, throttled: 0, wholeDelivered: false });
    pacer.settle(Date.now(), call(9, 1));

    // Assess
    expect(pacer.callWindow).toBe(1);
  });

  it('gives a full batch to a stream that was never throttled', () => {
    // Prepare
    const { pacer } = setup();
    pacer.settle(Date.now(), call(500));

    // Act
    const batch = pacer.nextBatch(5000, 500_000, MAX_BYTES);

    // Assess
    expect(batch).toEqual({ records: 500, bytes: MAX_BYTES });
  });

  it("holds a throttled stream's next batch until its rate allows it, then calls onReady once", async () => {
    // Prepare
    const { pacer, onReady } = setup();
    await throttle(pacer);

    // Act
    const held = pacer.nextBatch(5000, 500_000, MAX_BYTES);
    const waiting = pacer.waiting;
    await advance(99);
    const readyEarly = onReady.mock.calls.length;
    await advance(1);

    // Assess
    expect([held, waiting, readyEarly]).toEqual([undefined, true, 0]);
    expect(onReady).toHaveBeenCalledTimes(1);
    expect(pacer.waiting).toBe(false);
  });

  it('gives a throttled stream a tenth of a second of its rate per call', async () => {
    // Prepare
    const { pacer } = setup();
    await throttle(pacer);
    await advance(100);

    // Act
    const batch = pacer.nextBatch(5000, 500_000, MAX_BYTES);

    // Assess
    expect(batch).toEqual({ records: 90, bytes: 9000 });
  });

  it('sizes the batches of a stream throttled by bytes from its byte rate', async () => {
    // Prepare: records of 9,000 bytes against 90,000 bytes a second.
    const { pacer } = setup();
    await throttle(pacer);
    await advance(1000);

    // Act
    const batch = pacer.nextBatch(100, 900_000, MAX_BYTES);

    // Assess
    expect(batch).toEqual({ records: 1, bytes: 90_000 });
  });

  it('gives no batch more than the bytes it is offered', async () => {
    // Prepare
    const { pacer } = setup();
    await throttle(pacer);
    await advance(1000);

    // Act
    const batch = pacer.nextBatch(5000, 500_000, 5000);

    // Assess
    expect(batch).toEqual({ records: 90, bytes: 5000 });
  });

  it('counts what a call carries against the rate', async () => {
    // Prepare
    const { pacer } = setup();
    await throttle(pacer);
    await advance(100);
    pacer.spend(90, 9000);

    // Act
    const batch = pacer.nextBatch(5000, 500_000, MAX_BYTES);

    // Assess
    expect([batch, pacer.waiting]).toEqual([undefined, true]);
  });

  it('logs the throttling at most once every ten seconds, with the stream and its new rate', async () => {
    // Prepare
    const { pacer, logs } = setup();
    await throttle(pacer);
    await advance(5000);
    pacer.settle(Date.now() - 100, call(450, 50));
    await advance(5000);

    // Act
    pacer.settle(Date.now() - 100, call(450, 70));

    // Assess
    const throttling = logs.filter((entry) => entry.message.includes('throttling'));
    expect(throttling).toEqual([
      logged('warn', 'Firehose is throttling the stream', {
        stream: 's1',
        refusedRecords: 200,
        recordsPerSecond: 900,
        bytesPerSecond: 90_000,
      }),
      logged('warn', 'Firehose is throttling the stream', {
        stream: 's1',
        refusedRecords: 70,
        recordsPerSecond: expect.any(Number) as number,
        bytesPerSecond: expect.any(Number) as number,
      }),
    ]);
  });

  it('calls onReady no more once stopped', async () => {
    // Prepare
    const { pacer, onReady } = setup();
    await throttle(pacer);
    pacer.nextBatch(5000, 500_000, MAX_BYTES);

    // Act
    pacer.stop();
    await advance(1000);

    // Assess
    expect(onReady).not.toHaveBeenCalled();
    expect(pacer.waiting).toBe(false);
  });
});
