import type { ConnectorMetricName } from '../contract';

/** Samples of a gauge over a period, as CloudWatch's `StatisticValues` takes them. */
export interface StatisticSet {
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
}

/** One metric of one stream for one period: what becomes a `MetricDatum`. */
export interface MetricPoint {
  readonly metric: ConnectorMetricName;
  /** The delivery stream's name. */
  readonly stream: string;
  /** The status error code, for `MessagesRejected`. */
  readonly reason?: string;
  /** Start of the period, epoch milliseconds: the point keeps it however late it is sent. */
  readonly timestamp: number;
  /** A counter's sum over the period, or a gauge's samples. */
  readonly value: number | StatisticSet;
}
