import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Match } from 'aws-cdk-lib/assertions';
import { staticPrefix } from '../../lib/delivery-pipeline';
import { logicalId, synth } from './app-fixture';

describe('data bucket', () => {
  test('is encrypted with S3-managed keys, blocks all public access, and is versioned', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    });
  });

  test('denies requests that do not use TLS', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack, stack.pipeline.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('is retained by cdk destroy by default with its bucket policy, its clean-up disarmed until a teardown arms it', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        Tags: [{ Key: 'aws-cdk:auto-delete-objects', Value: 'false' }],
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResource('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: logicalId(stack, stack.pipeline.bucket as never) } },
      DeletionPolicy: 'Retain',
    });
    expect(stack.pipeline.bucketRetained).toBe('true');
  });

  test('is deleted with its objects by cdk destroy when destroyData is true', () => {
    // Act
    const { stack, template } = synth({ destroyData: 'true' });

    // Assess
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }),
      DeletionPolicy: 'Delete',
    });
    template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
      BucketName: { Ref: logicalId(stack, stack.pipeline.bucket) },
    });
    expect(stack.pipeline.bucketRetained).toBe('false');
  });

  test('aborts incomplete uploads and keeps data forever unless an expiration is set', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'AbortIncompleteUploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  test('expires objects and their old versions when dataExpirationDays is set', () => {
    // Act
    const { template } = synth({ dataExpirationDays: '365' });

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'ExpireData',
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            Status: 'Enabled',
          },
        ]),
      },
    });
  });

  test('logs requests into a separate, equally protected access-log bucket', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const logs = stack.pipeline.accessLogsBucket;
    expect(logs).toBeInstanceOf(Bucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalId(stack, logs!) },
        LogFilePrefix: 'data-bucket/',
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: [{ Id: 'ExpireAccessLogs', ExpirationInDays: 90, Status: 'Enabled' }],
      },
    });
  });

  test('lets S3 log delivery write access logs through the bucket policy, not ACLs', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack, stack.pipeline.accessLogsBucket!) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  test('has no access-log bucket when serverAccessLogs is false', () => {
    // Act
    const { template } = synth({ serverAccessLogs: 'false' });

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: Match.absent() });
  });

  test('is not created when bucketName names an existing bucket', () => {
    // Act
    const { template } = synth({ bucketName: 'my-existing-data' });

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-existing-data']] },
      }),
    });
  });
});

describe('delivery stream', () => {
  test('is a DirectPut stream encrypted at rest with an AWS owned key', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    });
  });

  test('buffers 300 s or 5 MiB, compresses with GZIP, and partitions by hour by default', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.bucket), 'Arn'] },
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 5 },
        CompressionFormat: 'GZIP',
        Prefix: 'data/!{timestamp:yyyy/MM/dd/HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
      }),
    });
  });

  test('takes buffering, compression and prefixes from context', () => {
    // Act
    const { template } = synth({
      bufferingIntervalSeconds: '60',
      bufferingSizeMiB: '64',
      compression: 'UNCOMPRESSED',
      dataOutputPrefix: 'sensors/!{timestamp:yyyy-MM-dd}/',
      errorOutputPrefix: 'failed/!{firehose:error-output-type}/',
      deliveryStreamName: 'sensor-data',
    });

    // Assess
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'sensor-data',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        CompressionFormat: 'UNCOMPRESSED',
        Prefix: 'sensors/!{timestamp:yyyy-MM-dd}/',
        ErrorOutputPrefix: 'failed/!{firehose:error-output-type}/',
      }),
    });
  });

  test('logs delivery errors to a log group kept for 30 days and removed with the stack', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const logGroup = logicalId(stack, stack.pipeline.errorLogGroup!);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        CloudWatchLoggingOptions: {
          Enabled: true,
          LogGroupName: { Ref: logGroup },
          LogStreamName: Match.anyValue(),
        },
      }),
    });
  });

  test('takes the error log retention from context', () => {
    // Act
    const { template } = synth({ errorLogRetentionDays: '7' });

    // Assess
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('has no error log group when errorLogging is false', () => {
    // Act
    const { stack, template } = synth({ errorLogging: 'false' });

    // Assess: the only log groups left are the bucket clean-up function's and the custom resource function's.
    expect(stack.pipeline.errorLogGroup).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup')).sort()).toEqual(
      ['BucketCleanupLogs82F8B26D', logicalId(stack, stack.customResources.logGroup)].sort(),
    );
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({ CloudWatchLoggingOptions: Match.absent() }),
    });
  });
});

describe('delivery role', () => {
  test('can be assumed only by Firehose for this account', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'firehose.amazonaws.com' },
            Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });

  test('may write objects only under the output prefixes, and PutLogEvents on its one log stream', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.bucket), 'Arn'] };
    const logGroup = logicalId(stack, stack.pipeline.errorLogGroup!);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack, stack.pipeline.deliveryRole) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
            Resource: bucketArn,
          },
          {
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
            Resource: [
              { 'Fn::Join': ['', [bucketArn, '/data/*']] },
              { 'Fn::Join': ['', [bucketArn, '/errors/*']] },
            ],
          },
          {
            Effect: 'Allow',
            Action: 'logs:PutLogEvents',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:',
                  { Ref: logGroup },
                  ':log-stream:',
                  { Ref: Match.stringLikeRegexp('^PipelineErrorLogsS3Destination') },
                ],
              ],
            },
          },
        ],
      }),
    });
  });

  test('is the only role that may write to the bucket, and grants no delete', () => {
    // Act
    const { stack, template } = synth();

    // Assess: the L2 destination would otherwise add bucket.grantReadWrite (s3:DeleteObject*) to its own role. The
    // other roles are the bucket clean-up function's, allowed to delete by the bucket policies only, and the custom
    // resource function's, which has no S3 permission.
    const roles = Object.keys(template.findResources('AWS::IAM::Role'));
    expect(roles.sort()).toEqual(
      [
        logicalId(stack, stack.pipeline.deliveryRole),
        'CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092',
        logicalId(stack, stack.customResources.role),
      ].sort(),
    );
    const identityPolicies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(identityPolicies).not.toContain('s3:DeleteObject');
  });

  test('creates the stream after its permissions exist', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const stream = template.findResources('AWS::KinesisFirehose::DeliveryStream');
    const policy = stack.pipeline.deliveryRole.node.findChild('DefaultPolicy').node.defaultChild;
    expect(Object.values(stream)[0].DependsOn).toContain(stack.getLogicalId(policy as never));
  });
});

describe('staticPrefix', () => {
  test('returns the literal start of a prefix before its first expression', () => {
    // Act & Assess
    expect(staticPrefix('data/!{timestamp:yyyy}/x/')).toBe('data/');
    expect(staticPrefix('!{timestamp:yyyy}/')).toBe('');
    expect(staticPrefix('plain/')).toBe('plain/');
  });
});
