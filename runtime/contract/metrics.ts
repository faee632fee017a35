/**
 * The connector's CloudWatch metrics: the names, units and dimensions the runtime publishes and the CDK app's
 * dashboard and alarms read, so that the two cannot drift.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */

/** The namespace the CDK deployment turns metrics on with, and the local mode uses. */
export const DEFAULT_METRICS_NAMESPACE = 'GreengrassFirehoseConnector';

/** Dimension names. Every metric has `deliveryStream`; `reason` only `MessagesRejected`. */
export const MetricDimension = {
  /** The delivery stream's name. */
  deliveryStream: 'DeliveryStream',
  /** The core device's thing name (`AWS_IOT_THING_NAME`), with `MetricsPerDevice` only. */
  coreDevice: 'CoreDevice',
  /** The status `ErrorCode` that refused a message at intake. */
  reason: 'Reason',
} as const;

export type MetricUnitName = 'Count' | 'Seconds' | 'Bytes';

export interface MetricDefinition {
  readonly unit: MetricUnitName;
  /**
   * `counter`: a sum over the period, sent only when not zero unless `everyPeriod`. `gauge`: sampled through the
   * period and sent as a statistic set (count, sum, minimum, maximum) every period.
   */
  readonly kind: 'counter' | 'gauge';
  /** Sent for every period of a stream served, zero included, so that the stream's graphs have no gaps. */
  readonly everyPeriod: boolean;
  readonly description: string;
}

/**
 * The connector's metrics, per delivery stream. Counters of trouble (rejections, failures, retries, throttling) are
 * sent only in periods when they are not zero, since CloudWatch bills a metric for the hours it receives data.
 */
export const ConnectorMetrics = {
  MessagesReceived: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: true,
    description: "Messages taken into the stream's queue (refused ones count in MessagesRejected).",
  },
  MessagesRejected: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: false,
    description:
      'Messages refused at intake, by Reason (the ErrorCode of their status). A message whose stream is unknown (invalid JSON, a bad ARN) counts for the default stream.',
  },
  MessagesDelivered: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: true,
    description: 'Messages Firehose accepted (in their Firehose records).',
  },
  MessagesFailed: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: false,
    description:
      'Messages reported failed for good after intake: refused by Firehose, retries exhausted, or left at shutdown.',
  },
  MessagesDropped: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: false,
    description: 'Queued messages dropped to make room for new ones (QueueFullPolicy dropOldest).',
  },
  MessagesRetried: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: false,
    description: 'Message sends that failed for a retryable reason and went back to the queue.',
  },
  RecordsThrottled: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: false,
    description:
      'Firehose records refused one by one because the stream was at its quota (sent again later, with their messages).',
  },
  FirehoseCalls: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: true,
    description: 'PutRecordBatch and PutRecord calls made.',
  },
  FirehoseRecords: {
    unit: 'Count',
    kind: 'counter',
    everyPeriod: true,
    description:
      'Firehose records accepted: one per message, or fewer where RecordPacking packs several into one.',
  },
  BilledBytes: {
    unit: 'Bytes',
    kind: 'counter',
    everyPeriod: true,
    description: 'Bytes Firehose bills for the records accepted (each record rounded up to 5 KB).',
  },
  QueueDepth: {
    unit: 'Count',
    kind: 'gauge',
    everyPeriod: true,
    description: 'Records held in the queue, in calls included.',
  },
  OldestRecordAge: {
    unit: 'Seconds',
    kind: 'gauge',
    everyPeriod: true,
    description:
      'Age of the oldest record at the head of the queue or in a call: it grows while the queue does not move.',
  },
} as const satisfies Record<string, MetricDefinition>;

export type ConnectorMetricName = keyof typeof ConnectorMetrics;
