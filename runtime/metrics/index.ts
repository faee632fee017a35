/**
 * The connector's CloudWatch metrics: the streams' counts summed per period and their queues sampled
 * (period-aggregator), points kept in a bounded buffer while CloudWatch cannot be reached (point-buffer), and sent
 * with PutMetricData (cloudwatch-sender) by the publisher, apart from the records' path.
 */
export { CloudWatchSender, MAX_DATA_PER_CALL } from './cloudwatch-sender';
export type { CloudWatchSenderOptions, MetricsSender } from './cloudwatch-sender';
export type { MetricPoint, StatisticSet } from './metric-point';
export { MetricsPublisher } from './metrics-publisher';
export type { MetricsPublisherOptions } from './metrics-publisher';
export { OTHER_STREAMS } from './period-aggregator';
export type { StreamSample } from './period-aggregator';
