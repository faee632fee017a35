import { Match } from 'aws-cdk-lib/assertions';
import { logicalId, synth } from './app-fixture';

const CLEANUP_FUNCTION = 'CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F';
const CLEANUP_ROLE = 'CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092';

describe('teardown', () => {
  test('keeps the buckets and their bucket policies, with the clean-up in place but disarmed, and no parameter', () => {
    // Act
    const { template } = synth();

    // Assess: npm run destroy -- --delete-data arms it in the template it deploys just before the deletion.
    expect(template.toJSON().Parameters.DestroyData).toBeUndefined();
    expect(template.toJSON().Transform).toBeUndefined();
    const kept = (type: string) =>
      Object.values(template.findResources(type)).map((resource) => [
        resource.DeletionPolicy,
        resource.UpdateReplacePolicy,
      ]);
    expect(kept('AWS::S3::Bucket')).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
    expect(kept('AWS::S3::BucketPolicy')).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.Properties.Tags).toContainEqual({ Key: 'aws-cdk:auto-delete-objects', Value: 'false' });
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('deletes the stream before the buckets are emptied, so Firehose cannot write in between', () => {
    // Act
    const { stack, template } = synth();

    // Assess: CloudFormation deletes a resource before the resources it depends on.
    const cleanups = Object.keys(template.findResources('Custom::S3AutoDeleteObjects'));
    expect(cleanups).toHaveLength(2);
    const stream = template.findResources('AWS::KinesisFirehose::DeliveryStream')[
      logicalId(stack, stack.pipeline.deliveryStream)
    ];
    expect(stream.DependsOn).toEqual(expect.arrayContaining(cleanups));
  });

  test('gives the bucket clean-up function a log group with a retention, removed after the last clean-up', () => {
    // Act
    const { template } = synth({ errorLogRetentionDays: '14' });

    // Assess
    const logGroups = template.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/aws/lambda/GreengrassFirehoseConnector-BucketCleanup' },
    });
    expect(Object.values(logGroups)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({ RetentionInDays: 14 }),
        DeletionPolicy: 'Delete',
      }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'GreengrassFirehoseConnector-BucketCleanup',
    });
    for (const cleanup of Object.values(template.findResources('Custom::S3AutoDeleteObjects'))) {
      expect(cleanup.DependsOn).toEqual(expect.arrayContaining(Object.keys(logGroups)));
    }
  });

  test('lets the clean-up function write only to its log group, never create one that would outlive the stack', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const role = template.findResources('AWS::IAM::Role')[CLEANUP_ROLE];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const logGroup = Object.keys(
      template.findResources('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: '/aws/lambda/GreengrassFirehoseConnector-BucketCleanup' },
      }),
    )[0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: CLEANUP_ROLE }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
          },
        ],
      }),
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('logs:CreateLogGroup');
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toEqual([
      stack.getLogicalId(stack.customResources.function.node.defaultChild as never),
      CLEANUP_FUNCTION,
    ]);
  });

  test('with destroyData always deletes the buckets, without the DestroyData parameter', () => {
    // Act
    const { template } = synth({ destroyData: 'true' });

    // Assess
    expect(template.toJSON().Parameters.DestroyData).toBeUndefined();
    expect(
      Object.values(template.findResources('AWS::S3::Bucket')).map((bucket) => bucket.DeletionPolicy),
    ).toEqual(['Delete', 'Delete']);
  });

  test('never touches an existing bucket and has nothing to clean up', () => {
    // Act
    const { stack, template } = synth({ bucketName: 'my-existing-data' });

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toEqual([
      stack.getLogicalId(stack.customResources.function.node.defaultChild as never),
    ]);
    expect(template.toJSON().Parameters.DestroyData).toBeUndefined();
  });
});

describe('in an account without the token exchange role', () => {
  test('the deploy fails on the device policy before any bucket, which a rollback would keep, is created', () => {
    // Act
    const { stack, template } = synth();

    // Assess: the artifact policy attaches to GreengrassV2TokenExchangeRole and depends on nothing in the stack.
    const artifactPolicy = logicalId(stack, stack.component.artifactPolicy);
    const policy = template.findResources('AWS::IAM::Policy')[artifactPolicy];
    expect(policy.Properties.Roles).toEqual(['GreengrassV2TokenExchangeRole']);
    expect(policy.DependsOn).toBeUndefined();
    const references = JSON.stringify(policy.Properties).match(/"(Ref|Fn::GetAtt)":[^}]*/g);
    expect(references).toEqual(['"Ref":"AWS::Partition"', '"Ref":"AWS::Partition"', '"Ref":"AWS::Region"']);
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DependsOn).toEqual(expect.arrayContaining([artifactPolicy]));
    }
  });
});
