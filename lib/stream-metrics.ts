import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import { type ConnectorMetricName, MetricDimension } from '../runtime/contract';

/** The period of the dashboard's graphs and of the alarms: five of the connector's default one-minute periods. */
export const METRICS_PERIOD = Duration.minutes(5);

/**
 * The metrics of one delivery stream that the dashboard and the alarms read: the stream's own, which Firehose
 * publishes in `AWS/Firehose`, and the connector's fleet-wide ones (every core device adds to them), whose names and
 * dimensions are the runtime's contract.
 * @see https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
 */
export class StreamMetrics {
  constructor(
    private readonly stream: firehose.IDeliveryStream,
    /** The connector's namespace; undefined when the devices send no metrics. */
    readonly namespace: string | undefined,
  ) {}

  /** Whether the devices send the connector's metrics, so that graphs and alarms of them mean something. */
  get hasConnectorMetrics(): boolean {
    return this.namespace !== undefined;
  }

  /** A metric Firehose publishes for the stream, such as `IncomingRecords`. */
  firehose(metricName: string, statistic: string, label?: string): cloudwatch.Metric {
    return this.stream.metric(metricName, { statistic, label, period: METRICS_PERIOD });
  }

  /** One of the connector's metrics, added up over the fleet. */
  connector(metricName: ConnectorMetricName, statistic: string, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.connectorNamespace(),
      metricName,
      dimensionsMap: { [MetricDimension.deliveryStream]: this.stream.deliveryStreamName },
      statistic,
      label,
      period: METRICS_PERIOD,
    });
  }

  /** `MessagesRejected`, one line per reason that occurred (a metric per reason exists once one is sent). */
  rejectedByReason(): cloudwatch.SearchExpression {
    const { deliveryStream, reason } = MetricDimension;
    const metric: ConnectorMetricName = 'MessagesRejected';
    const namespace = this.connectorNamespace();
    return new cloudwatch.SearchExpression({
      expression:
        `SEARCH('{"${namespace}",${deliveryStream},${reason}} MetricName="${metric}" ` +
        `${deliveryStream}="${this.stream.deliveryStreamName}"', 'Sum', ${METRICS_PERIOD.toSeconds()})`,
      label: 'Rejected',
      period: METRICS_PERIOD,
    });
  }

  private connectorNamespace(): string {
    if (this.namespace === undefined) throw new Error('The devices send no metrics (metrics=false)');
    return this.namespace;
  }
}
