import { describeError, type Logger } from '../logger';
import type { MetricsSender } from './cloudwatch-sender';
import { PeriodAggregator, type StreamSample } from './period-aggregator';
import { PointBuffer } from './point-buffer';

/**
 * CloudWatch refuses a whole call with a point older than two weeks; an hour's margin keeps a call made at the edge
 * from carrying one.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
const MAX_POINT_AGE_MS = 14 * 24 * 3_600_000 - 3_600_000;

/** Error names of a call CloudWatch refused for what it carried: sending it again would fail again. */
const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set([
  'InvalidParameterValueException',
  'InvalidParameterCombinationException',
  'MissingRequiredParameterException',
]);

export interface MetricsPublisherOptions {
  /** Length of a period (`MetricsIntervalSeconds`); periods start on multiples of it, in wall-clock time. */
  readonly periodMs: number;
  /** How often the queues are sampled within a period. @default 10000, or the period when shorter */
  readonly sampleIntervalMs?: number;
  /** The streams served now, with their counts since they were served. */
  readonly sample: () => readonly StreamSample[];
  /** The default stream's name: it always has points of its own. */
  readonly defaultStream: string;
  /** Streams with points of their own per period (`MaxDeliveryStreams`); the others share one. */
  readonly maxStreams: number;
  readonly sender: MetricsSender;
  readonly logger: Logger;
  /**
   * Points kept while CloudWatch cannot be reached: at a minute's period, about a day of one stream, or two hours
   * of sixteen busy ones (a point takes about 100 bytes).
   * @default 10000
   */
  readonly bufferCapacity?: number;
  readonly now?: () => number;
}

/** What is known of the calls failing since the last one that went through. */
interface Outage {
  readonly since: number;
  dropped: number;
}

/**
 * Publishes the connector's metrics: samples the streams through each period, closes it into points, and sends
 * them with one call per period (more after an outage, each with up to `sender.pointsPerCall` points). It stands
 * apart from the records' path: nothing waits for it, a failing call is logged once per outage and its points kept
 * (bounded) to be sent later with their own timestamps, and nothing it does throws.
 */
export class MetricsPublisher {
  private readonly aggregator: PeriodAggregator;
  private readonly buffer: PointBuffer;
  private readonly now: () => number;
  private readonly sampleIntervalMs: number;
  private periodStart = 0;
  private timer?: NodeJS.Timeout;
  private sending?: Promise<void>;
  /** Points came while a run was sending: it goes round once more. */
  private sendAgain = false;
  private outage?: Outage;
  private stopped = false;

  constructor(private readonly options: MetricsPublisherOptions) {
    this.now = options.now ?? Date.now;
    this.sampleIntervalMs = Math.min(options.sampleIntervalMs ?? 10_000, options.periodMs);
    this.aggregator = new PeriodAggregator(options.maxStreams, options.defaultStream);
    this.buffer = new PointBuffer(options.bufferCapacity ?? 10_000);
  }

  start(): void {
    this.periodStart = this.periodStartOf(this.now());
    this.schedule();
  }

  /** Counts a message refused at intake, for the stream it named (or the default stream). */
  countRefusal(streamName: string, reason: string): void {
    this.aggregator.countRefusal(streamName, reason);
  }

  /** Takes the last counts of a stream the connector stopped serving. */
  streamReleased(sample: StreamSample): void {
    this.aggregator.retire(sample);
  }

  /** Closes the open period and sends what is kept, once; the caller bounds how long it waits. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.closePeriod(this.now());
    try {
      await this.send();
    } finally {
      this.options.sender.destroy();
    }
  }

  private schedule(): void {
    const now = this.now();
    const next = Math.min(this.periodStart + this.options.periodMs, now + this.sampleIntervalMs);
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - now));
    this.timer.unref();
  }

  private tick(): void {
    try {
      const now = this.now();
      if (now >= this.periodStart + this.options.periodMs) {
        this.closePeriod(now);
        void this.send();
      } else {
        this.aggregator.observe(this.options.sample());
      }
    } catch (error) {
      this.options.logger.error('Could not sample the metrics', describeError(error));
    }
    if (!this.stopped) this.schedule();
  }

  /** Samples once more, turns the period into points kept for sending, and opens the period `now` is in. */
  private closePeriod(now: number): void {
    this.aggregator.observe(this.options.sample());
    const dropped = this.buffer.push(this.aggregator.close(this.periodStart));
    if (this.outage) this.outage.dropped += dropped;
    this.periodStart = this.periodStartOf(now);
  }

  private periodStartOf(time: number): number {
    return Math.floor(time / this.options.periodMs) * this.options.periodMs;
  }

  /**
   * Sends what is kept, one call after the other, until done or a call fails. One run at a time: a request made
   * during a run makes it go round again, so the caller's points are sent when the promise it gets resolves.
   */
  private send(): Promise<void> {
    if (this.sending) {
      this.sendAgain = true;
      return this.sending;
    }
    this.sending = (async () => {
      try {
        do {
          this.sendAgain = false;
          await this.sendKept();
        } while (this.sendAgain && !this.outage);
      } finally {
        this.sending = undefined;
      }
    })();
    return this.sending;
  }

  private async sendKept(): Promise<void> {
    const { sender, logger } = this.options;
    const expired = this.buffer.dropBefore(this.now() - MAX_POINT_AGE_MS);
    if (this.outage) this.outage.dropped += expired;
    let sent = 0;
    while (this.buffer.size > 0) {
      const points = this.buffer.take(sender.pointsPerCall);
      try {
        await sender.send(points);
        sent += points.length;
      } catch (error) {
        const details = describeError(error);
        if (REFUSED_FOR_GOOD.has(details.errorName)) {
          // A fault of the connector's own: keeping the points would block every point behind them.
          logger.error('CloudWatch refused metric points; dropped them', {
            points: points.length,
            ...details,
          });
          continue;
        }
        const dropped = this.buffer.restore(points);
        if (this.outage) {
          this.outage.dropped += dropped;
        } else {
          this.outage = { since: this.now(), dropped };
          logger.warn('Could not send metrics to CloudWatch; keeping them to send later', {
            ...details,
            keptPoints: this.buffer.size,
            mostKept: this.buffer.capacity,
          });
        }
        return;
      }
    }
    if (this.outage) {
      logger.info('Metrics reach CloudWatch again; sent the points kept meanwhile', {
        sentPoints: sent,
        droppedPoints: this.outage.dropped,
        outageSeconds: Math.round((this.now() - this.outage.since) / 1000),
      });
      this.outage = undefined;
    }
  }
}
