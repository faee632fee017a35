import {
  CloudWatchClient,
  type CloudWatchClientConfig,
  type Dimension,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { ConnectorMetrics, MetricDimension } from '../contract';
import type { MetricPoint } from './metric-point';

/** Sends points to CloudWatch, one call at a time. */
export interface MetricsSender {
  /** Most points one call may carry. */
  readonly pointsPerCall: number;
  /** Sends the points in one call; rejects with the call's error. */
  send(points: readonly MetricPoint[]): Promise<void>;
  destroy(): void;
}

/**
 * `MetricData` entries one PutMetricData call may carry. The call's other limit, 1 MB, is far off: an entry with
 * the longest names the connector can give (a 64-character stream, a 128-character thing name) is under 400 bytes
 * of JSON.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
const MAX_DATA_PER_CALL = 1000;

export interface CloudWatchSenderOptions {
  readonly namespace: string;
  /** Region of the default stream, where the CDK app puts the dashboard and alarms. */
  readonly region: string;
  /** The core device's thing name: each point is then also sent with it as a dimension. @default - no device dimension */
  readonly coreDevice?: string;
  /** Time allowed for one call, the SDK's own attempts included. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Fixed credentials (the local mode); the default credential chain otherwise, as for Firehose. */
  readonly credentials?: CloudWatchClientConfig['credentials'];
}

/**
 * PutMetricData with the AWS SDK. The endpoint comes from `AWS_ENDPOINT_URL_CLOUDWATCH` when set, which is how the
 * local mode and the tests reach the local endpoint.
 */
export class CloudWatchSender implements MetricsSender {
  readonly pointsPerCall: number;
  private readonly client: CloudWatchClient;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: CloudWatchSenderOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.client = new CloudWatchClient({
      region: options.region,
      credentials: options.credentials,
      requestHandler: {
        requestTimeout: this.requestTimeoutMs,
        connectionTimeout: Math.min(this.requestTimeoutMs, 5_000),
        throwOnRequestTimeout: true,
      },
    });
    // With a device, every point is sent twice: for the fleet and for the device.
    this.pointsPerCall = Math.floor(MAX_DATA_PER_CALL / (options.coreDevice === undefined ? 1 : 2));
  }

  async send(points: readonly MetricPoint[]): Promise<void> {
    await this.client.send(
      new PutMetricDataCommand({
        Namespace: this.options.namespace,
        MetricData: points.flatMap((point) => this.data(point)),
      }),
      { abortSignal: AbortSignal.timeout(this.requestTimeoutMs) },
    );
  }

  destroy(): void {
    this.client.destroy();
  }

  /**
   * The point as CloudWatch takes it: per stream and, with a device, per stream and device too, since CloudWatch
   * does not add up metrics across dimension sets and the dashboard and alarms read the per-stream ones.
   */
  private data(point: MetricPoint): MetricDatum[] {
    const dimensions: Dimension[] = [{ Name: MetricDimension.deliveryStream, Value: point.stream }];
    if (point.reason !== undefined) dimensions.push({ Name: MetricDimension.reason, Value: point.reason });
    const datum: MetricDatum = {
      MetricName: point.metric,
      Dimensions: dimensions,
      Timestamp: new Date(point.timestamp),
      Unit: ConnectorMetrics[point.metric].unit,
      StorageResolution: 60,
      ...(typeof point.value === 'number'
        ? { Value: point.value }
        : {
            StatisticValues: {
              SampleCount: point.value.sampleCount,
              Sum: point.value.sum,
              Minimum: point.value.minimum,
              Maximum: point.value.maximum,
            },
          }),
    };
    const { coreDevice } = this.options;
    if (coreDevice === undefined) return [datum];
    return [
      datum,
      { ...datum, Dimensions: [...dimensions, { Name: MetricDimension.coreDevice, Value: coreDevice }] },
    ];
  }
}
