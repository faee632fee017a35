import type { MetricPoint } from '../../../runtime/metrics/metric-point';
import {
  OTHER_STREAMS,
  PeriodAggregator,
  type StreamSample,
} from '../../../runtime/metrics/period-aggregator';

const PERIOD_START = Date.UTC(2026, 11, 5, 12, 0, 0);

function sample(name: string, counts: Partial<StreamSample> = {}): StreamSample {
  return {
    arn: `arn:aws:firehose:eu-west-1:123456789012:deliverystream/${name}`,
    name,
    received: 0,
    delivered: 0,
    failed: 0,
    dropped: 0,
    retried: 0,
    throttled: 0,
    calls: 0,
    records: 0,
    billedBytes: 0,
    queued: 0,
    oldestAgeMs: 0,
    ...counts,
  };
}

/** The points of one stream, by metric (and reason), as `name[/reason]: value`. */
function valuesOf(points: readonly MetricPoint[], stream: string): Record<string, MetricPoint['value']> {
  return Object.fromEntries(
    points
      .filter((point) => point.stream === stream)
      .map((point) => [point.reason ? `${point.metric}/${point.reason}` : point.metric, point.value]),
  );
}

describe('PeriodAggregator', () => {
  it('sums what a stream counted during the period, not since it was served', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');
    aggregator.observe([sample('main', { received: 100, delivered: 90, calls: 2 })]);
    aggregator.close(PERIOD_START - 60_000);

    // Act
    aggregator.observe([sample('main', { received: 130, delivered: 125, calls: 3 })]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'main')).toMatchObject({
      MessagesReceived: 30,
      MessagesDelivered: 35,
      FirehoseCalls: 1,
    });
    expect(points.every((point) => point.timestamp === PERIOD_START)).toBe(true);
  });

  it('sums the Firehose records and billed bytes of the period, fewer records than messages when packed', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');
    aggregator.observe([
      sample('main', { received: 1000, delivered: 1000, records: 1, billedBytes: 204_800 }),
    ]);
    aggregator.close(PERIOD_START - 60_000);

    // Act
    aggregator.observe([
      sample('main', { received: 3000, delivered: 3000, records: 2, billedBytes: 409_600 }),
    ]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'main')).toMatchObject({
      MessagesDelivered: 2000,
      FirehoseRecords: 1,
      BilledBytes: 204_800,
    });
  });

  it('sends the counters of trouble only in periods when they are not zero', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');

    // Act
    aggregator.observe([sample('main', { received: 5, delivered: 5, calls: 1 })]);
    const quiet = aggregator.close(PERIOD_START);
    aggregator.observe([
      sample('main', { received: 9, delivered: 6, failed: 1, retried: 2, throttled: 2, calls: 3 }),
    ]);
    const troubled = aggregator.close(PERIOD_START + 60_000);

    // Assess
    expect(Object.keys(valuesOf(quiet, 'main')).sort()).toEqual([
      'BilledBytes',
      'FirehoseCalls',
      'FirehoseRecords',
      'MessagesDelivered',
      'MessagesReceived',
      'OldestRecordAge',
      'QueueDepth',
    ]);
    expect(valuesOf(troubled, 'main')).toMatchObject({
      MessagesFailed: 1,
      MessagesRetried: 2,
      RecordsThrottled: 2,
    });
    expect(valuesOf(troubled, 'main')).not.toHaveProperty('MessagesDropped');
  });

  it('gives the queue depth and the oldest age as the statistics of every sample of the period', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');

    // Act
    aggregator.observe([sample('main', { queued: 10, oldestAgeMs: 1500 })]);
    aggregator.observe([sample('main', { queued: 40, oldestAgeMs: 9000 })]);
    aggregator.observe([sample('main', { queued: 0, oldestAgeMs: 0 })]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'main')).toMatchObject({
      QueueDepth: { sampleCount: 3, sum: 50, minimum: 0, maximum: 40 },
      OldestRecordAge: { sampleCount: 3, sum: 10.5, minimum: 0, maximum: 9 },
    });
  });

  it('counts the last counts of a stream released during the period, and a stream served anew from zero', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');
    aggregator.observe([sample('main'), sample('other', { received: 3, delivered: 1 })]);

    // Act: released after delivering two more, then served again by a new dispatcher.
    aggregator.retire(sample('other', { received: 3, delivered: 3 }));
    aggregator.observe([sample('main'), sample('other', { received: 2, delivered: 2 })]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'other')).toMatchObject({ MessagesReceived: 5, MessagesDelivered: 5 });
  });

  it('takes counts lower than last time as a new dispatcher counting from zero', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');
    aggregator.observe([sample('main', { received: 50 })]);
    aggregator.close(PERIOD_START - 60_000);

    // Act
    aggregator.observe([sample('main', { received: 4 })]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'main')).toMatchObject({ MessagesReceived: 4 });
  });

  it('counts messages refused at intake by stream and reason', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');

    // Act
    aggregator.countRefusal('main', 'InvalidJson');
    aggregator.countRefusal('main', 'InvalidJson');
    aggregator.countRefusal('s2', 'QueueFull');
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect(valuesOf(points, 'main')).toEqual({ 'MessagesRejected/InvalidJson': 2 });
    expect(valuesOf(points, 's2')).toEqual({ 'MessagesRejected/QueueFull': 1 });
  });

  it('puts the streams beyond its limit in a period together, keeping the default stream apart', () => {
    // Prepare
    const aggregator = new PeriodAggregator(2, 'main');

    // Act: refusals for three other streams arrive before the default stream is sampled.
    for (const stream of ['a', 'b', 'c']) aggregator.countRefusal(stream, 'TooManyDeliveryStreams');
    aggregator.observe([sample('main', { received: 1 })]);
    const points = aggregator.close(PERIOD_START);

    // Assess
    expect([...new Set(points.map((point) => point.stream))].sort()).toEqual([
      OTHER_STREAMS,
      'a',
      'b',
      'main',
    ]);
    expect(valuesOf(points, OTHER_STREAMS)).toEqual({ 'MessagesRejected/TooManyDeliveryStreams': 1 });
    expect(valuesOf(points, 'main')).toMatchObject({ MessagesReceived: 1 });
  });

  it('starts each period empty', () => {
    // Prepare
    const aggregator = new PeriodAggregator(16, 'main');
    aggregator.countRefusal('s2', 'QueueFull');
    aggregator.close(PERIOD_START);

    // Act
    const points = aggregator.close(PERIOD_START + 60_000);

    // Assess
    expect(points).toEqual([]);
  });
});
