import { Match } from 'aws-cdk-lib/assertions';
import { logicalId, synth } from './app-fixture';

type Synthesized = ReturnType<typeof synth>;

/** What every alarm has: both its transitions go to the stack's topic. */
function notifyingTheTopic({ stack }: Synthesized) {
  const topic = { Ref: stack.getLogicalId(stack.alarms.topic.node.defaultChild as never) };
  return { AlarmActions: [topic], OKActions: [topic] };
}

function streamDimension({ stack }: Synthesized, name: string) {
  return [{ Name: name, Value: { Ref: logicalId(stack, stack.pipeline.deliveryStream) } }];
}

describe('alarms', () => {
  test('fire when the S3 data freshness is over twice the buffering interval', () => {
    // Act
    const synthesized = synth({ bufferingIntervalSeconds: '120' });

    // Assess
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: streamDimension(synthesized, 'DeliveryStreamName'),
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 240,
      ...notifyingTheTopic(synthesized),
    });
  });

  test("fire on any record failed for good on any device, from the connector's namespace", () => {
    // Act
    const synthesized = synth({ metricsNamespace: 'Fleet/Firehose' });

    // Assess
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Fleet/Firehose',
      MetricName: 'MessagesFailed',
      Dimensions: streamDimension(synthesized, 'DeliveryStream'),
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      ...notifyingTheTopic(synthesized),
    });
  });

  test('fire when a device holds a record queued longer than oldestRecordAgeAlarmSeconds', () => {
    // Act
    const synthesized = synth({ oldestRecordAgeAlarmSeconds: '1200' });

    // Assess
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GreengrassFirehoseConnector',
      MetricName: 'OldestRecordAge',
      Dimensions: streamDimension(synthesized, 'DeliveryStream'),
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1200,
      ...notifyingTheTopic(synthesized),
    });
  });

  test('fire when Firehose throttles the stream in three five-minute periods in a row', () => {
    // Act
    const synthesized = synth();

    // Assess
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Firehose',
      MetricName: 'ThrottledRecords',
      Dimensions: streamDimension(synthesized, 'DeliveryStreamName'),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      ...notifyingTheTopic(synthesized),
    });
  });

  test("are only the stream's own, data freshness and throttling, when the devices send no metrics", () => {
    // Act
    const { template } = synth({ metrics: 'false' });

    // Assess
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((alarm) => alarm.Properties.MetricName as string).sort()).toEqual([
      'DeliveryToS3.DataFreshness',
      'ThrottledRecords',
    ]);
  });

  test('go to an SNS topic that takes SSL only, encrypted with a rotated key of its own that CloudWatch may use', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const key = stack.getLogicalId(stack.alarms.topicKey.node.defaultChild as never);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
          },
        ]),
      },
    });
  });

  test('reach the address given with alarmEmail', () => {
    // Act
    const { template } = synth({ alarmEmail: 'ops@example.com' });

    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('subscribe no one without alarmEmail', () => {
    // Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
