import { type ConnectorMetricName, ConnectorMetrics, type MetricDefinition } from '../contract';
import type { MetricPoint, StatisticSet } from './metric-point';

/** The counts a stream's dispatcher has kept since it was made, and its queue now: what the connector reports. */
export interface StreamSample {
  /** The stream's ARN: one dispatcher's counts at a time, from zero each time the stream is served anew. */
  readonly arn: string;
  /** The stream's name, the metrics' `DeliveryStream` dimension. */
  readonly name: string;
  readonly received: number;
  readonly delivered: number;
  readonly failed: number;
  readonly dropped: number;
  readonly retried: number;
  readonly throttled: number;
  readonly calls: number;
  /** Firehose records accepted, and the bytes Firehose bills for them: fewer than messages with RecordPacking. */
  readonly records: number;
  readonly billedBytes: number;
  readonly queued: number;
  readonly oldestAgeMs: number;
}

/** The contract's metrics of one kind. */
type MetricOfKind<Kind extends MetricDefinition['kind']> = {
  [Name in ConnectorMetricName]: (typeof ConnectorMetrics)[Name]['kind'] extends Kind ? Name : never;
}[ConnectorMetricName];

/** The metric each cumulative count of a stream becomes. */
const COUNTERS = {
  received: 'MessagesReceived',
  delivered: 'MessagesDelivered',
  failed: 'MessagesFailed',
  dropped: 'MessagesDropped',
  retried: 'MessagesRetried',
  throttled: 'RecordsThrottled',
  calls: 'FirehoseCalls',
  records: 'FirehoseRecords',
  billedBytes: 'BilledBytes',
} as const satisfies { readonly [Count in keyof StreamSample]?: MetricOfKind<'counter'> };
type CountName = keyof typeof COUNTERS;
const COUNT_NAMES = Object.keys(COUNTERS) as CountName[];

/** What each gauge of the contract samples of a stream. */
const GAUGES: Readonly<Record<MetricOfKind<'gauge'>, (sample: StreamSample) => number>> = {
  QueueDepth: (sample) => sample.queued,
  OldestRecordAge: (sample) => sample.oldestAgeMs / 1000,
};
const GAUGE_NAMES = Object.keys(GAUGES) as MetricOfKind<'gauge'>[];

/**
 * Where the counts of streams beyond `maxStreams` in one period go. Parentheses and spaces are not allowed in
 * stream names, so no stream can be mistaken for it.
 */
export const OTHER_STREAMS = '(other streams)';

class Samples {
  private count = 0;
  private sum = 0;
  private minimum = Number.POSITIVE_INFINITY;
  private maximum = Number.NEGATIVE_INFINITY;

  add(value: number): void {
    this.count++;
    this.sum += value;
    this.minimum = Math.min(this.minimum, value);
    this.maximum = Math.max(this.maximum, value);
  }

  get statistics(): StatisticSet | undefined {
    if (this.count === 0) return undefined;
    return { sampleCount: this.count, sum: this.sum, minimum: this.minimum, maximum: this.maximum };
  }
}

/** What one stream did in the open period. */
class StreamPeriod {
  /** Sampled in this period: its counters that go every period are sent even when zero. */
  served = false;
  readonly counts = zeroCounts();
  readonly rejected = new Map<string, number>();
  readonly gauges = new Map(GAUGE_NAMES.map((metric) => [metric, new Samples()]));
}

function zeroCounts(): Record<CountName, number> {
  return Object.fromEntries(COUNT_NAMES.map((name) => [name, 0])) as Record<CountName, number>;
}

/**
 * Turns the connector's cumulative counts into sums per period, and its queue readings into statistic sets, one
 * point per metric and stream. It holds the open period and the last counts of each stream served, so its memory is
 * bounded by `maxStreams` whatever streams publishers name: the streams beyond it in a period share the
 * `OTHER_STREAMS` points, which also bounds the metrics CloudWatch bills.
 */
export class PeriodAggregator {
  private streams = new Map<string, StreamPeriod>();
  /** Each served stream when last observed, by ARN: its counts then. */
  private readonly last = new Map<string, StreamSample>();

  /**
   * `maxStreams`: streams with points of their own per period; `pinnedStream`, the default stream, always has its
   * own, whatever came first.
   */
  constructor(
    private readonly maxStreams: number,
    private readonly pinnedStream: string,
  ) {}

  /** Adds what the streams served counted since they were last observed, and samples their queues. */
  observe(samples: readonly StreamSample[]): void {
    const seen = new Set<string>();
    for (const sample of samples) {
      seen.add(sample.arn);
      const period = this.add(sample);
      for (const [metric, gauge] of period.gauges) gauge.add(GAUGES[metric](sample));
    }
    // A stream released without its last counts reported: forget it, so that `last` stays bounded.
    for (const arn of this.last.keys()) if (!seen.has(arn)) this.last.delete(arn);
  }

  /** Adds the last counts of a stream no longer served; its next dispatcher counts from zero. */
  retire(sample: StreamSample): void {
    this.add(sample);
    this.last.delete(sample.arn);
  }

  /** Counts a message refused at intake. */
  countRefusal(streamName: string, reason: string): void {
    const { rejected } = this.periodOf(streamName);
    rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
  }

  /** Ends the open period: its points, stamped with `timestamp` (the period's start), and a new period. */
  close(timestamp: number): MetricPoint[] {
    const points: MetricPoint[] = [];
    for (const [stream, period] of this.streams) {
      for (const name of COUNT_NAMES) {
        const metric = COUNTERS[name];
        const value = period.counts[name];
        const definition = ConnectorMetrics[metric];
        if (value > 0 || (period.served && definition.everyPeriod)) {
          points.push({ metric, stream, timestamp, value });
        }
      }
      for (const [reason, value] of period.rejected) {
        points.push({ metric: 'MessagesRejected', stream, reason, timestamp, value });
      }
      for (const [metric, samples] of period.gauges) {
        const value = samples.statistics;
        if (value) points.push({ metric, stream, timestamp, value });
      }
    }
    this.streams = new Map();
    return points;
  }

  private add(sample: StreamSample): StreamPeriod {
    const period = this.periodOf(sample.name);
    period.served = true;
    const previous = this.last.get(sample.arn);
    // Counts lower than last time belong to a new dispatcher of the same stream, counting from zero.
    const restarted = previous !== undefined && COUNT_NAMES.some((name) => sample[name] < previous[name]);
    for (const name of COUNT_NAMES) {
      period.counts[name] += sample[name] - (previous && !restarted ? previous[name] : 0);
    }
    // Kept as it came: a sample is read-only, made afresh each time (run.ts).
    this.last.set(sample.arn, sample);
    return period;
  }

  private periodOf(streamName: string): StreamPeriod {
    const existing = this.streams.get(streamName);
    if (existing) return existing;
    const key =
      streamName === this.pinnedStream || this.streams.size < this.maxStreams ? streamName : OTHER_STREAMS;
    let period = this.streams.get(key);
    if (!period) {
      period = new StreamPeriod();
      this.streams.set(key, period);
    }
    return period;
  }
}
