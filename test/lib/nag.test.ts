import { App, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { OTHER_STREAM_ARN, synth, THING_GROUP_ARN } from './app-fixture';

/** AwsSolutions findings (errors and warnings) that were not acknowledged, as "rule at path". */
function unacknowledgedFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
  );
}

/** Every acknowledgment in the app: rule id and reason. */
function acknowledgments(root: IConstruct): Record<string, string> {
  const found: Record<string, string> = {};
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found[id] = reason;
    }
  }
  return found;
}

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'the defaults': {},
  'every option on': {
    destroyData: 'true',
    dataExpirationDays: '30',
    createTokenExchangeRole: 'true',
    extraDeliveryStreamArns: OTHER_STREAM_ARN,
    targetArn: THING_GROUP_ARN,
    statusBridge: 'true',
    InputSource: 'mqtt',
    MemorySize: '131072',
  },
  'statuses to AWS IoT Core on a thing group': { targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' },
  'an existing bucket': { bucketName: 'my-existing-data' },
  'no access logs and no error logs': { serverAccessLogs: 'false', errorLogging: 'false' },
  'prefixes starting with an expression': {
    dataOutputPrefix: '!{timestamp:yyyy/MM/dd}/',
    errorOutputPrefix: '!{firehose:error-output-type}/',
  },
};

describe('cdk-nag AwsSolutions', () => {
  test.each(Object.entries(CONFIGURATIONS))('finds nothing unacknowledged with %s', (_name, context) => {
    // Act
    const { app } = synth(context);

    // Assess
    expect(unacknowledgedFindings(app)).toEqual([]);
  });

  test('acknowledges only the wildcards on the two output prefixes and the unused Firehose CIDR mapping', () => {
    // Act
    const { app } = synth();

    // Assess
    expect(Object.keys(acknowledgments(app)).sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::<PipelineBucket5BC3F8EA.Arn>/data/*]',
      'Annotation::AwsSolutions-IAM5[Resource::<PipelineBucket5BC3F8EA.Arn>/errors/*]',
      'CloudFormation-Validate::W7001',
    ]);
  });

  test('acknowledges missing access logs only when they were turned off', () => {
    // Act
    const { app } = synth({ serverAccessLogs: 'false' });

    // Assess
    expect(acknowledgments(app)['Annotation::AwsSolutions-S1']).toMatch(/turned off explicitly/);
  });

  test('gives every acknowledgment a reason a reviewer can check', () => {
    // Act
    const { app } = synth({ serverAccessLogs: 'false' });

    // Assess
    for (const reason of Object.values(acknowledgments(app))) expect(reason.length).toBeGreaterThan(80);
  });

  test('reports a finding that is not acknowledged', () => {
    // Prepare: a wildcard nobody acknowledged.
    const { app, stack } = synth();
    stack.pipeline.deliveryRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );

    // Act
    const findings = unacknowledgedFindings(app);

    // Assess
    expect(findings).toContain(
      'AwsSolutions-IAM5[Action::s3:*] at GreengrassFirehoseConnector/Pipeline/DeliveryRole/DefaultPolicy/Resource',
    );
  });
});

describe('cdk synth', () => {
  test('passes CloudFormation template validation and the AwsSolutions checks with every option on', () => {
    // Act
    const { app } = synth(CONFIGURATIONS['every option on'], { cloudFormationValidation: true });

    // Assess: synthesis throws when a validation plugin reports an unacknowledged violation.
    expect(app.synth().stacks).toHaveLength(1);
  });
});
