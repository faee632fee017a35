import { joinText, logicalId, synth, THING_GROUP_ARN } from './app-fixture';

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
      ComponentVersion: { Value: '0.1.0' },
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
        'cdk destroy keeps the data and access-log buckets; delete them yourself or redeploy with -c destroyData=true first',
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

  test('give the create-deployment command as the next step when there is no deployment', () => {
    // Act
    const { template } = synth();

    // Assess
    expect(outputs(template).NextStep.Value).toBe(
      `aws greengrassv2 create-deployment --target-arn <thing or thing group ARN> --components '{"community.greengrass.FirehoseConnector":{"componentVersion":"0.1.0"}}' (this replaces the target's current components: add them too)`,
    );
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
