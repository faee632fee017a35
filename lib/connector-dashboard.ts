import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { StreamMetrics } from './stream-metrics';

export interface ConnectorDashboardProps {
  /** Dashboards are global to an account: the stack's name and region keep two stacks apart. */
  readonly dashboardName: string;
  /** The stream's metrics, Firehose's and the connector's. */
  readonly metrics: StreamMetrics;
  /** Alarms shown at the top. @default - none */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * One view of a delivery stream and the fleet of core devices that send to it: the stream's own Firehose metrics
 * (what arrived, what was throttled, delivery to S3) above the connector's, added up over every device (what the
 * devices took in, sent and refused, and how far behind their queues are), when the devices send metrics.
 */
export class ConnectorDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ConnectorDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
    });
    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 3 * WIDTH }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Firehose: incoming records and bytes',
        left: [metrics.firehose('IncomingRecords', 'Sum', 'Records')],
        right: [metrics.firehose('IncomingBytes', 'Sum', 'Bytes')],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Firehose: throttled records',
        left: [metrics.firehose('ThrottledRecords', 'Sum', 'Throttled')],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Firehose: delivery to S3',
        left: [metrics.firehose('DeliveryToS3.Success', 'Average', 'Success (share of calls)')],
        right: [metrics.firehose('DeliveryToS3.DataFreshness', 'Maximum', 'Data freshness (s)')],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    if (metrics.hasConnectorMetrics) this.addConnectorWidgets(metrics);
  }

  private addConnectorWidgets(metrics: StreamMetrics): void {
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Core devices: messages in and delivered',
        left: [
          metrics.connector('MessagesReceived', 'Sum', 'Received'),
          metrics.connector('MessagesDelivered', 'Sum', 'Delivered'),
        ],
        right: [metrics.connector('FirehoseCalls', 'Sum', 'Firehose calls')],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        // With RecordPacking, many messages to a Firehose record: what the stream is billed for.
        title: 'Core devices: Firehose records and billed bytes',
        left: [metrics.connector('FirehoseRecords', 'Sum', 'Firehose records')],
        right: [metrics.connector('BilledBytes', 'Sum', 'Billed bytes')],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Core devices: refused, failed, retried',
        left: [
          metrics.rejectedByReason(),
          metrics.connector('MessagesFailed', 'Sum', 'Failed'),
          metrics.connector('MessagesDropped', 'Sum', 'Dropped'),
          metrics.connector('MessagesRetried', 'Sum', 'Retried'),
          metrics.connector('RecordsThrottled', 'Sum', 'Throttled'),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Core devices: queues (the deepest, the oldest)',
        left: [metrics.connector('QueueDepth', 'Maximum', 'Queue depth (records)')],
        right: [metrics.connector('OldestRecordAge', 'Maximum', 'Oldest record (s)')],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
  }
}
