/**
 * The connector's CloudWatch metrics: the streams' counts summed per period and their queues sampled
 * (period-aggregator), points kept in a bounded buffer while CloudWatch cannot be reached (point-buffer), and sent
 * with PutMetricData (cloudwatch-sender) by the publisher, apart from the records' path.
 */
export { CloudWatchSender } from './cloudwatch-sender';
export { MetricsPublisher } from './metrics-publisher';
export type { StreamSample } from './period-aggregator';
