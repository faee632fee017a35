import { type CfnResource, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IConstruct } from 'constructs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectorStack } from '../../lib/connector-stack';
import { templateViolations } from '../../lib/nag';
import { synth } from './app-fixture';
import { STACK_VARIANTS as CONFIGURATIONS } from './fixtures/stack-variants';

/**
 * AwsSolutions findings (errors and warnings) in the synthesized template that were not acknowledged, as "rule at
 * path": the check `cdk synth` runs (bin/app.ts), without failing the synthesis.
 */
function unacknowledgedFindings(stack: ConnectorStack): string[] {
  const templatePath = join(mkdtempSync(join(tmpdir(), 'nag-')), 'template.json');
  writeFileSync(templatePath, JSON.stringify(Template.fromStack(stack).toJSON()));
  return templateViolations(templatePath, stack).flatMap((violation) =>
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

function addUnacknowledgedWildcard(stack: ConnectorStack): void {
  stack.pipeline.deliveryRole.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
  );
}

describe('cdk-nag AwsSolutions', () => {
  test.each(Object.entries(CONFIGURATIONS))('finds nothing unacknowledged with %s', (_name, context) => {
    // Act
    const { stack } = synth(context);

    // Assess
    expect(unacknowledgedFindings(stack)).toEqual([]);
  });

  test('sees the resources the CDK writes without a typed class, such as the bucket clean-up role', () => {
    // Prepare: give the clean-up function's role back the managed policy that lib/ removes from it.
    const restoreManagedPolicy = (stack: ConnectorStack) => {
      const provider = stack.node.findChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
      (provider.node.findChild('Role') as CfnResource).addPropertyOverride('ManagedPolicyArns', [
        'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    };

    // Act & Assess: synthesis fails and names the finding and the resource.
    expect(() => synth({}, { modify: restoreManagedPolicy })).toThrow(
      /GreengrassFirehoseConnector\/Custom::S3AutoDeleteObjectsCustomResourceProvider\/Role[^]*AwsSolutions-IAM4\[Policy::arn:aws:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]/,
    );
  });

  test("acknowledges only the wildcards on the two output prefixes, the component's versions and PutMetricData, and the unused Firehose CIDR mapping", () => {
    // Act
    const { app } = synth();

    // Assess
    expect(Object.keys(acknowledgments(app)).sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::<PipelineBucket5BC3F8EA.Arn>/data/*]',
      'Annotation::AwsSolutions-IAM5[Resource::<PipelineBucket5BC3F8EA.Arn>/errors/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:greengrass:<AWS::Region>:<AWS::AccountId>:components:community.greengrass.FirehoseConnector:versions:*]',
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

  test('fails synthesis on a finding that is not acknowledged, naming it and the resource', () => {
    // Act & Assess
    expect(() => synth({}, { modify: addUnacknowledgedWildcard })).toThrow(
      /GreengrassFirehoseConnector\/Pipeline\/DeliveryRole\/DefaultPolicy\/Resource[^]*AwsSolutions-IAM5\[Action::s3:\*\]/,
    );
  });
});

describe('cdk synth', () => {
  test.each(['every option on', 'the defaults'])(
    'passes CloudFormation template validation and the AwsSolutions checks with %s',
    (name) => {
      // Act
      const { app } = synth(CONFIGURATIONS[name], { cloudFormationValidation: true });

      // Assess: synthesis throws when a validation plugin reports an unacknowledged violation.
      expect(app.synth().stacks).toHaveLength(1);
    },
  );
});
