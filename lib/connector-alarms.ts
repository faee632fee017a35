import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_PERIOD, type StreamMetrics } from './stream-metrics';

export interface ConnectorAlarmsProps {
  /** The stream's metrics, Firehose's and the connector's. */
  readonly metrics: StreamMetrics;
  /** The stream's buffering interval: S3 data older than twice this is late. */
  readonly bufferingInterval: Duration;
  /** Age of the oldest record queued on any core device beyond which the queue is not keeping up. */
  readonly oldestRecordAge: Duration;
  /**
   * An e-mail address subscribed to the alarm topic; AWS sends it a confirmation message first.
   * @default - no subscription: subscribe to the topic yourself
   */
  readonly email?: string;
}

/**
 * Alarms that page before data is lost, on an SNS topic: S3 data freshness, records failed for good, records waiting
 * too long on the devices (these two from the devices' metrics, when they send them), and a stream throttled for a
 * quarter of an hour. Each alarm notifies when it fires and
 * when it clears.
 *
 * The topic is encrypted with a key of its own (cdk-nag AwsSolutions-SNS2): CloudWatch cannot publish to a topic
 * encrypted with the AWS managed key, whose policy cannot be changed to let it.
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 */
export class ConnectorAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  /** S3 data freshness over twice the buffering interval (at least two minutes). */
  readonly dataFreshness: cloudwatch.Alarm;
  /** Any record failed for good, on any device; only when the devices send metrics. */
  readonly recordsFailed?: cloudwatch.Alarm;
  /** The oldest record queued on any device older than `oldestRecordAge`; only when the devices send metrics. */
  readonly oldestRecordAge?: cloudwatch.Alarm;
  /** Firehose throttled records of the stream in each of three five-minute periods in a row. */
  readonly throttling: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ConnectorAlarmsProps) {
    super(scope, id);
    const { metrics } = props;
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Firehose connector alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Firehose connector alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    if (props.email !== undefined)
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const freshnessSeconds = Math.max(2 * props.bufferingInterval.toSeconds(), 120);
    this.dataFreshness = metrics
      .firehose('DeliveryToS3.DataFreshness', 'Maximum')
      .createAlarm(this, 'DataFreshness', {
        alarmDescription:
          `The oldest record in Firehose is over ${freshnessSeconds} s old, twice the buffering interval: ` +
          'delivery to S3 is late (see DeliveryToS3.Success and the delivery error log).',
        threshold: freshnessSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (metrics.hasConnectorMetrics) {
      this.recordsFailed = metrics.connector('MessagesFailed', 'Sum').createAlarm(this, 'MessagesFailed', {
        alarmDescription:
          'Core devices reported records failed for good (refused by Firehose, retries exhausted, or left at ' +
          'shutdown); their statuses and the component log say why.',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Sent only in periods when records fail.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const ageSeconds = props.oldestRecordAge.toSeconds();
      this.oldestRecordAge = metrics
        .connector('OldestRecordAge', 'Maximum')
        .createAlarm(this, 'OldestRecordAge', {
          alarmDescription:
            `A core device holds a record queued for over ${ageSeconds} s: its queue is not keeping up ` +
            '(Firehose unreachable, the stream at its quota, or more input than it can send).',
          threshold: ageSeconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
    }
    this.throttling = metrics.firehose('ThrottledRecords', 'Sum').createAlarm(this, 'Throttling', {
      alarmDescription:
        `Firehose throttled records of the stream in each of the last three ${METRICS_PERIOD.toMinutes()}-minute ` +
        'periods: it is at its quota for good; ask for a higher one.',
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const notify = new actions.SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }

  get alarms(): cloudwatch.Alarm[] {
    return [this.dataFreshness, this.recordsFailed, this.oldestRecordAge, this.throttling].filter(
      (alarm): alarm is cloudwatch.Alarm => alarm !== undefined,
    );
  }
}
