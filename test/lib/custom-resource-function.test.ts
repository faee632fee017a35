import { Match } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCustomResources } from '../../lib/custom-resource-function';
import { logicalId, synth, THING_GROUP_ARN } from './app-fixture';

describe('custom resource function', () => {
  test('runs on the latest Node.js runtime with the time an AWS IoT policy deletion may take', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 600,
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, stack.customResources.logGroup) } },
    });
  });

  test('logs to a group the stack deletes, with the error log retention, and may not create another', () => {
    // Act
    const { stack, template } = synth({ errorLogRetentionDays: '14' });

    // Assess
    const logGroup = logicalId(stack, stack.customResources.logGroup);
    expect(template.findResources('AWS::Logs::LogGroup')[logGroup]).toMatchObject({
      Properties: { RetentionInDays: 14 },
      DeletionPolicy: 'Delete',
    });
    const role = template.findResources('AWS::IAM::Role')[logicalId(stack, stack.customResources.role)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack, stack.customResources.role) }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
          },
        ]),
      }),
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('logs:CreateLogGroup');
  });

  test('serves custom resources only once its log group and permissions exist, so they outlast its last request', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' });

    // Assess
    const needed = [
      logicalId(stack, stack.customResources.logGroup),
      logicalId(stack, stack.customResources.role),
      stack.getLogicalId(
        stack.customResources.role.node.findChild('DefaultPolicy').node.defaultChild as never,
      ),
    ];
    const served = ['Custom::ComponentVersion', 'Custom::RemovalGuard', 'Custom::IoTPolicyTargets'].flatMap(
      (type) => Object.values(template.findResources(type)),
    );
    expect(served).toHaveLength(3);
    for (const resource of served) expect(resource.DependsOn).toEqual(expect.arrayContaining(needed));
  });

  test('leaves no log group behind with statuses to AWS IoT Core on a thing group', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' });

    // Assess: the AwsCustomResource this replaced kept a log group for 731 days after the stack.
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.map((group) => [group.DeletionPolicy, group.Properties.RetentionInDays])).toEqual(
      groups.map(() => ['Delete', 30]),
    );
    template.resourceCountIs('Custom::AWS', 0);
  });

  test('is bundled into one small file that leaves the AWS SDK to the Lambda runtime', () => {
    // Prepare
    const outfile = join(mkdtempSync(join(tmpdir(), 'custom-resources-')), 'index.js');

    // Act
    bundleCustomResources(outfile);

    // Assess
    const code = readFileSync(outfile, 'utf8');
    expect(code).toContain('require("@aws-sdk/client-greengrassv2")');
    expect(code.length).toBeLessThan(50_000);
  });
});
