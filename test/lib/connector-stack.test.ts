import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinText, logicalId, synth, THING_GROUP_ARN } from './app-fixture';

const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/connector';

function outputs(
  template: ReturnType<typeof synth>['template'],
): Record<string, { Value: unknown; Description?: string }> {
  return template.toJSON().Outputs;
}

describe('stack outputs', () => {
  test('name the stream, its ARN, the bucket, the component and the role the policy is attached to', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const stream = logicalId(stack, stack.pipeline.deliveryStream);
    expect(outputs(template)).toMatchObject({
      DeliveryStreamName: { Value: { Ref: stream } },
      DeliveryStreamArn: { Value: { 'Fn::GetAtt': [stream, 'Arn'] } },
      BucketName: { Value: { Ref: logicalId(stack, stack.pipeline.bucket) } },
      ComponentName: { Value: 'community.greengrass.FirehoseConnector' },
      ComponentVersion: {
        Value: { 'Fn::GetAtt': [logicalId(stack, stack.component.versionAllocation), 'Version'] },
      },
      ComponentVersionArn: {
        Value: { 'Fn::GetAtt': [stack.getLogicalId(stack.component.componentVersion), 'Arn'] },
      },
      TokenExchangeRoleName: { Value: 'GreengrassV2TokenExchangeRole' },
      DeliveryErrorLogGroupName: { Value: { Ref: logicalId(stack, stack.pipeline.errorLogGroup!) } },
    });
  });

  test('say that cdk destroy keeps the buckets by default', () => {
    // Act
    const { template } = synth();

    // Assess
    expect(outputs(template).BucketKeptOnDestroy).toEqual({
      Value: 'true',
      Description:
        'cdk destroy keeps the data and access-log buckets with their policies; npm run destroy -- --delete-data deletes them too',
    });
  });

  test('say that cdk destroy deletes the buckets with destroyData', () => {
    // Act
    const { template } = synth({ destroyData: 'true' });

    // Assess
    expect(outputs(template).BucketKeptOnDestroy.Value).toBe('false');
  });

  test('say that an existing bucket is never touched', () => {
    // Act
    const { template } = synth({ bucketName: 'my-existing-data' });

    // Assess
    expect(outputs(template).BucketKeptOnDestroy).toEqual({
      Value: 'true',
      Description: 'Existing bucket: cdk destroy never touches it',
    });
  });

  test('give a create-deployment command with the stream, the memory settings and a reset as the next step when there is no deployment', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const stream = logicalId(stack, stack.pipeline.deliveryStream);
    const allocation = logicalId(stack, stack.component.versionAllocation);
    const components = {
      'community.greengrass.FirehoseConnector': {
        componentVersion: `<GetAtt:${allocation}.Version>`,
        configurationUpdate: {
          reset: [''],
          merge: JSON.stringify({ DefaultDeliveryStreamArn: `<GetAtt:${stream}.Arn>`, MemorySize: '131072' }),
        },
        runWith: { systemResourceLimits: { memory: 131072 } },
      },
    };
    expect(joinText(outputs(template).NextStep.Value)).toBe(
      'aws greengrassv2 create-deployment --target-arn "${TARGET_ARN:?set TARGET_ARN to a thing or thing group ARN}" ' +
        `--deployment-name community.greengrass.FirehoseConnector --components '${JSON.stringify(components)}'`,
    );
  });

  test('give a next step that a POSIX shell runs as one create-deployment command', () => {
    // Prepare
    const { template } = synth();
    const command = joinText(outputs(template).NextStep.Value)
      .replace(/<GetAtt:[^>]+\.Version>/, '0.1.2')
      .replace(/<GetAtt:[^>]+\.Arn>/, STREAM_ARN);
    const bin = mkdtempSync(join(tmpdir(), 'fake-aws-'));
    writeFileSync(join(bin, 'aws'), '#!/bin/sh\nfor argument in "$@"; do printf "%s\\n" "$argument"; done\n');
    chmodSync(join(bin, 'aws'), 0o755);

    // Act
    const result = spawnSync('/bin/sh', ['-c', command], {
      env: { PATH: `${bin}:/usr/bin:/bin`, TARGET_ARN: THING_GROUP_ARN },
      encoding: 'utf8',
    });

    // Assess
    const [service, operation, , targetArn, , deploymentName, , components] = result.stdout.split('\n');
    expect([service, operation, targetArn, deploymentName]).toEqual([
      'greengrassv2',
      'create-deployment',
      THING_GROUP_ARN,
      'community.greengrass.FirehoseConnector',
    ]);
    const component = JSON.parse(components)['community.greengrass.FirehoseConnector'];
    expect(JSON.parse(component.configurationUpdate.merge)).toEqual({
      DefaultDeliveryStreamArn: STREAM_ARN,
      MemorySize: '131072',
    });
  });

  test('give the get-deployment command as the next step when the stack deploys', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    const deployment = stack.getLogicalId(stack.component.deployment!);
    expect(joinText(outputs(template).NextStep.Value)).toBe(
      `aws greengrassv2 get-deployment --deployment-id <GetAtt:${deployment}.DeploymentId>`,
    );
  });

  test('name the created role and its alias when createTokenExchangeRole is true', () => {
    // Act
    const { stack, template } = synth({ createTokenExchangeRole: 'true' });

    // Assess
    expect(outputs(template)).toMatchObject({
      TokenExchangeRoleName: { Value: { Ref: logicalId(stack, stack.tokenExchangeRole) } },
      TokenExchangeRoleAliasName: { Value: 'FirehoseConnectorTokenExchangeRoleAlias' },
    });
  });
});

describe('stack', () => {
  test('is environment-agnostic: no account, region or lookups', () => {
    // Act
    const { app, stack } = synth();

    // Assess
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    expect(app.synth().manifest.missing).toBeUndefined();
  });

  test('is named by stackName', () => {
    // Act
    const { stack } = synth({ stackName: 'FirehoseConnectorTest' });

    // Assess
    expect(stack.stackName).toBe('FirehoseConnectorTest');
  });
});
