import type { MetricsSender } from '../../../runtime/metrics/cloudwatch-sender';
import type { MetricPoint } from '../../../runtime/metrics/metric-point';
import { MetricsPublisher, type MetricsPublisherOptions } from '../../../runtime/metrics/metrics-publisher';
import type { StreamSample } from '../../../runtime/metrics/period-aggregator';
import { captureLogger, type LogEntry } from '../../helpers/log-capture';
import { advance, settle, useFakeTime } from '../../helpers/fake-time';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Five seconds into a minute: the first period ends 55 s after the publisher starts. */
const START = Date.UTC(2026, 11, 5, 12, 0, 5);
const FIRST_PERIOD = Date.UTC(2026, 11, 5, 12, 0, 0);

/** A sender that records every call; it fails while `failure` is set. */
class FakeMetricsSender implements MetricsSender {
  pointsPerCall = 1000;
  readonly calls: MetricPoint[][] = [];
  failure?: Error;
  destroyed = false;

  send(points: readonly MetricPoint[]): Promise<void> {
    this.calls.push([...points]);
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Timestamps of the points of every call, by call. */
  get timestamps(): number[][] {
    return this.calls.map((call) => [...new Set(call.map((point) => point.timestamp))]);
  }
}

function networkError(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4582'), {
    name: 'Error',
    code: 'ECONNREFUSED',
  });
}

/** The main stream, having received `received` messages in all. */
function main(received: number, queued = 0): StreamSample {
  return {
    arn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/main',
    name: 'main',
    received,
    delivered: received - queued,
    failed: 0,
    dropped: 0,
    retried: 0,
    throttled: 0,
    calls: 0,
    records: received - queued,
    billedBytes: (received - queued) * 5120,
    queued,
    oldestAgeMs: 0,
  };
}

const publishers: MetricsPublisher[] = [];

function setup(overrides: Partial<MetricsPublisherOptions> = {}) {
  const sender = new FakeMetricsSender();
  const logs: LogEntry[] = [];
  const source = { samples: [main(0)] };
  const publisher = new MetricsPublisher({
    periodMs: MINUTE,
    sample: () => source.samples,
    defaultStream: 'main',
    maxStreams: 16,
    sender,
    logger: captureLogger(logs),
    ...overrides,
  });
  publishers.push(publisher);
  publisher.start();
  return { publisher, sender, logs, source };
}

beforeEach(() => {
  useFakeTime();
  jest.setSystemTime(START);
});

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((publisher) => publisher.stop()));
  jest.useRealTimers();
});

describe('MetricsPublisher', () => {
  it("sends a period's points in one call at its end, stamped with its start", async () => {
    // Prepare
    const { sender, source } = setup();
    source.samples = [main(7)];

    // Act
    await advance(55_000);

    // Assess
    expect(sender.timestamps).toEqual([[FIRST_PERIOD]]);
    expect(sender.calls[0]).toContainEqual({
      metric: 'MessagesReceived',
      stream: 'main',
      timestamp: FIRST_PERIOD,
      value: 7,
    });
  });

  it('samples the queue every 10 seconds of a period', async () => {
    // Prepare
    const { sender } = setup();
    await advance(55_000);

    // Act
    await advance(MINUTE);

    // Assess
    const depth = sender.calls[1].find((point) => point.metric === 'QueueDepth');
    expect(depth?.value).toMatchObject({ sampleCount: 6 });
  });

  it('keeps the points of periods whose calls fail, and sends them later with their own timestamps', async () => {
    // Prepare
    const { sender } = setup();
    sender.failure = networkError();
    await advance(55_000 + 2 * MINUTE);

    // Act
    sender.failure = undefined;
    await advance(MINUTE);

    // Assess: three failed calls, then one call with the four periods.
    expect(sender.calls).toHaveLength(4);
    expect(sender.timestamps[3]).toEqual([0, 1, 2, 3].map((period) => FIRST_PERIOD + period * MINUTE));
  });

  it('logs a failing call once per outage, and once when the points go again', async () => {
    // Prepare
    const { sender, logs } = setup();

    // Act
    sender.failure = networkError();
    await advance(55_000 + 4 * MINUTE);
    sender.failure = undefined;
    await advance(MINUTE);

    // Assess
    expect(logs).toEqual([
      {
        level: 'warn',
        message: 'Could not send metrics to CloudWatch; keeping them to send later',
        fields: {
          errorName: 'Error',
          errorMessage: 'connect ECONNREFUSED 127.0.0.1:4582',
          keptPoints: 7,
          mostKept: 10_000,
        },
      },
      {
        level: 'info',
        message: 'Metrics reach CloudWatch again; sent the points kept meanwhile',
        fields: { sentPoints: 42, droppedPoints: 0, outageSeconds: 300 },
      },
    ]);
  });

  it('keeps at most its capacity while calls fail, dropping the oldest points', async () => {
    // Prepare: seven points per period.
    const { sender } = setup({ bufferCapacity: 16 });
    sender.failure = networkError();
    await advance(55_000 + 3 * MINUTE);

    // Act
    sender.failure = undefined;
    await advance(MINUTE);

    // Assess: the last call carries the newest 16 of the 35 points.
    expect(sender.calls.at(-1)).toHaveLength(16);
    expect(sender.timestamps.at(-1)).toEqual([2, 3, 4].map((period) => FIRST_PERIOD + period * MINUTE));
  });

  it('sends what it kept in calls of at most the points a call may carry', async () => {
    // Prepare
    const { sender } = setup();
    sender.pointsPerCall = 4;
    sender.failure = networkError();
    await advance(55_000);

    // Act
    sender.failure = undefined;
    await advance(MINUTE);

    // Assess: one failed call of 4, then the 14 points in calls of 4, 4, 4 and 2.
    expect(sender.calls.map((call) => call.length)).toEqual([4, 4, 4, 4, 2]);
  });

  it('drops the points of a call CloudWatch refused for what it carried, and sends the next ones', async () => {
    // Prepare
    const { sender, logs } = setup();
    sender.failure = Object.assign(new Error('The value for parameter MetricData is invalid.'), {
      name: 'InvalidParameterValueException',
    });
    await advance(55_000);

    // Act
    sender.failure = undefined;
    await advance(MINUTE);

    // Assess
    expect(sender.timestamps).toEqual([[FIRST_PERIOD], [FIRST_PERIOD + MINUTE]]);
    expect(logs.map((entry) => entry.message)).toEqual(['CloudWatch refused metric points; dropped them']);
  });

  it('drops points older than two weeks before a call, which CloudWatch would refuse whole', async () => {
    // Prepare: daily periods, fifteen of them without CloudWatch.
    const { sender } = setup({ periodMs: DAY, sampleIntervalMs: DAY, bufferCapacity: 1000 });
    sender.failure = networkError();
    await advance(15 * DAY);

    // Act
    sender.failure = undefined;
    await advance(DAY);

    // Assess
    const oldest = Math.min(...sender.calls.at(-1)!.map((point) => point.timestamp));
    expect(Date.now() - oldest).toBeLessThan(14 * DAY);
    expect(Date.now() - oldest).toBeGreaterThan(13 * DAY);
  });

  it('sends the open period when stopped, then lets go of its client', async () => {
    // Prepare
    const { publisher, sender, source } = setup();
    await advance(55_000 + 20_000);
    source.samples = [main(3)];

    // Act
    await publisher.stop();

    // Assess
    expect(sender.timestamps.at(-1)).toEqual([FIRST_PERIOD + MINUTE]);
    expect(sender.calls.at(-1)).toContainEqual(
      expect.objectContaining({ metric: 'MessagesReceived', value: 3 }),
    );
    expect(sender.destroyed).toBe(true);
  });

  it('goes on with the next periods when sampling the connector throws', async () => {
    // Prepare
    const samples = jest.fn<readonly StreamSample[], []>().mockImplementationOnce(() => {
      throw new Error('stats failed');
    });
    samples.mockImplementation(() => [main(2)]);
    const { sender, logs } = setup({ sample: samples });

    // Act
    await advance(55_000);
    await settle();

    // Assess
    expect(logs.map((entry) => entry.message)).toEqual(['Could not sample the metrics']);
    expect(sender.calls).toHaveLength(1);
  });
});
