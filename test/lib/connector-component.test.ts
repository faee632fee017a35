import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildAccessControl } from '../../lib/access-control';
import { DEFAULT_COMPONENT_NAME } from '../../lib/recipe';
import { PARAMETER_NAMES, defaultParameterValues } from '../../runtime/contract/parameters';
import { joinText, logicalId, OTHER_STREAM_ARN, recipeOf, synth, THING_GROUP_ARN } from './app-fixture';

const ASSET_BUCKET = '<Sub:cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}>';

function streamArnMarker(synthesized: ReturnType<typeof synth>): string {
  return `<GetAtt:${logicalId(synthesized.stack, synthesized.stack.pipeline.deliveryStream)}.Arn>`;
}

describe('device permissions', () => {
  test('attach to the existing GreengrassV2TokenExchangeRole by default', () => {
    // Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::IoT::RoleAlias', 0);
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: ['GreengrassV2TokenExchangeRole'] });
  });

  test('are exactly PutRecord and PutRecordBatch on the stream, reading the one artifact object, and PutMetricData in the metrics namespace', () => {
    // Act
    const synthesized = synth();

    // Assess
    const { stack, template } = synthesized;
    const objectKey = stack.component.artifact.s3ObjectKey;
    const bucketArn = [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':s3:::',
      { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' },
    ];
    const devicePolicies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: ['GreengrassV2TokenExchangeRole'] },
    });
    expect(Object.values(devicePolicies).map((policy) => policy.Properties.PolicyDocument)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [...bucketArn, `/${objectKey}`]] },
          },
          { Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: { 'Fn::Join': ['', bucketArn] } },
        ],
      },
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Resource: { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.deliveryStream), 'Arn'] },
          },
        ],
      },
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'GreengrassFirehoseConnector' } },
          },
        ],
      },
    ]);
  });

  test('allow PutMetricData only in the namespace set with metricsNamespace', () => {
    // Act
    const { template } = synth({ metricsNamespace: 'Fleet/Firehose' });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['GreengrassV2TokenExchangeRole'],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'Fleet/Firehose' } },
          },
        ],
      },
    });
  });

  test('grant no PutMetricData when metrics is false', () => {
    // Act
    const { template } = synth({ metrics: 'false' });

    // Assess
    const devicePolicies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: ['GreengrassV2TokenExchangeRole'] },
    });
    expect(JSON.stringify(devicePolicies)).not.toContain('cloudwatch:');
    expect(Object.keys(devicePolicies)).toHaveLength(2);
  });

  test('cover the extra streams a message may name', () => {
    // Act
    const { stack, template } = synth({ extraDeliveryStreamArns: OTHER_STREAM_ARN });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['GreengrassV2TokenExchangeRole'],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Resource: [
              OTHER_STREAM_ARN,
              { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.deliveryStream), 'Arn'] },
            ],
          },
        ]),
      },
    });
  });

  test('attach to the role named by tokenExchangeRoleName', () => {
    // Act
    const { template } = synth({ tokenExchangeRoleName: 'MyCoreDevicesRole' });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: ['MyCoreDevicesRole'] });
  });

  test("go to a new role that only this account's IoT credentials provider can assume, for the stack's role alias, when createTokenExchangeRole is true", () => {
    // Act
    const { stack, template } = synth({
      createTokenExchangeRole: 'true',
      tokenExchangeRoleName: 'FirehoseCoreRole',
    });

    // Assess
    const role = logicalId(stack, stack.tokenExchangeRole);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'FirehoseCoreRole',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'credentials.iot.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                // The role alias, named here rather than referenced: the alias refers to the role already.
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':iot:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':rolealias/FirehoseConnectorTokenExchangeRoleAlias',
                    ],
                  ],
                },
              },
            },
          },
        ],
      },
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: role }] });
  });

  test('come with an IoT role alias for the new role', () => {
    // Act
    const { stack, template } = synth({
      createTokenExchangeRole: 'true',
      tokenExchangeRoleAlias: 'FirehoseCoreAlias',
    });

    // Assess
    template.hasResourceProperties('AWS::IoT::RoleAlias', {
      RoleAlias: 'FirehoseCoreAlias',
      RoleArn: { 'Fn::GetAtt': [logicalId(stack, stack.tokenExchangeRole), 'Arn'] },
    });
  });
});

describe('component version', () => {
  test('has a recipe whose DefaultConfiguration is the shared defaults with IPC input, packing and metrics on, plus the deployed stream ARN', () => {
    // Act
    const synthesized = synth();

    // Assess
    const recipe = recipeOf(synthesized.template);
    expect(recipe.ComponentConfiguration.DefaultConfiguration).toEqual({
      ...defaultParameterValues(),
      MetricsNamespace: 'GreengrassFirehoseConnector',
      InputSource: 'ipc',
      RecordPacking: 'default-stream',
      RecordSeparator: '\\n',
      StatusToIoTCore: 'false',
      DefaultDeliveryStreamArn: streamArnMarker(synthesized),
      accessControl: buildAccessControl({ componentName: DEFAULT_COMPONENT_NAME }),
    });
  });

  test('turns metrics on with the namespace the devices may publish to', () => {
    // Act
    const { template } = synth({ metricsNamespace: 'Fleet/Firehose' });

    // Assess
    expect(recipeOf(template).ComponentConfiguration.DefaultConfiguration.MetricsNamespace).toBe(
      'Fleet/Firehose',
    );
  });

  test('keeps metrics off, its namespace empty, when metrics is false', () => {
    // Act
    const { template } = synth({ metrics: 'false', metricsNamespace: 'Fleet/Firehose' });

    // Assess
    expect(recipeOf(template).ComponentConfiguration.DefaultConfiguration.MetricsNamespace).toBe('');
  });

  test('is named and versioned from context', () => {
    // Act
    const { template } = synth({ componentName: 'com.example.Firehose', componentVersion: '2.0.1' });

    // Assess: the allocation checks the pinned version in the account and returns it.
    expect(recipeOf(template).ComponentName).toBe('com.example.Firehose');
    template.hasResourceProperties('Custom::ComponentVersion', {
      ComponentName: 'com.example.Firehose',
      PinnedVersion: '2.0.1',
    });
  });

  test('downloads the artifact from the CDK asset bucket and runs that file', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const objectKey = stack.component.artifact.s3ObjectKey;
    expect(objectKey).toMatch(/^[0-9a-f]{64}\.js$/);
    const manifest = recipeOf(template).Manifests[0];
    expect(manifest.Artifacts[0].URI).toBe(`s3://${ASSET_BUCKET}/${objectKey}`);
    expect(manifest.Lifecycle.Run.Script).toContain(`"{artifacts:path}/${objectKey}"`);
  });

  test('passes every parameter to the runtime through Setenv and checks Node.js first', () => {
    // Act
    const { template } = synth();

    // Assess
    const lifecycle = recipeOf(template).Manifests[0].Lifecycle;
    for (const name of PARAMETER_NAMES) expect(lifecycle.Setenv[name]).toBe(`{configuration:/${name}}`);
    expect(lifecycle.Setenv.FIREHOSE_CONNECTOR_WORK_DIR).toBe('{work:path}');
    expect(lifecycle.Run.Script.indexOf('command -v node')).toBeLessThan(
      lifecycle.Run.Script.indexOf('exec node'),
    );
  });

  test('depends on the token exchange service, and on a nucleus from 2.6.0 below 3.0.0', () => {
    // Act
    const { template } = synth();

    // Assess
    expect(recipeOf(template).ComponentDependencies).toEqual({
      'aws.greengrass.TokenExchangeService': { VersionRequirement: '^2.0.0', DependencyType: 'HARD' },
      'aws.greengrass.Nucleus': { VersionRequirement: '>=2.6.0 <3.0.0', DependencyType: 'SOFT' },
    });
  });
});

describe('artifact', () => {
  test('is the runtime bundled by esbuild into one .js file with its imports inlined', () => {
    // Act
    const { app, stack } = synth({}, { bundle: true });

    // Assess
    const artifact = stack.component.artifact;
    expect(artifact.s3ObjectKey).toMatch(/^[0-9a-f]{64}\.js$/);
    const staged = join(app.outdir, artifact.assetPath);
    expect(statSync(staged).isFile()).toBe(true);
    const code = readFileSync(staged, 'utf8');
    expect(code).toContain('stub connector with parameters:');
    expect(code).toContain('DeliveryStreamQueueSize');
    expect(code).not.toMatch(/require\("\.\.?\//);
  });
});

describe('deployment', () => {
  test('is not created without targetArn', () => {
    // Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::GreengrassV2::Deployment', 0);
  });

  test('installs the component version on the target with a 128 MiB memory limit and MemorySize to match', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    template.hasResourceProperties('AWS::GreengrassV2::Deployment', {
      TargetArn: THING_GROUP_ARN,
      DeploymentName: 'community.greengrass.FirehoseConnector',
      Components: {
        'community.greengrass.FirehoseConnector': Match.objectLike({
          ComponentVersion: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^ComponentVersionAllocation'), 'Version'],
          },
          RunWith: { SystemResourceLimits: { Memory: 131072 } },
          ConfigurationUpdate: {
            Merge: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"MemorySize":"131072"')])] },
          },
        }),
      },
      DeploymentPolicies: Match.objectLike({ FailureHandlingPolicy: 'ROLLBACK' }),
    });
  });

  test('resets the configuration to the recipe defaults before merging, so a parameter dropped from context goes back to its default', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const update =
      deployment.Properties.Components['community.greengrass.FirehoseConnector'].ConfigurationUpdate;
    expect(update.Reset).toEqual(['']);
  });

  test('refuses a memory limit below what the connector needs, naming MemorySize', () => {
    // Act & Assess
    expect(() => synth({ targetArn: THING_GROUP_ARN, MemorySize: '65535' })).toThrow(
      '  - MemorySize: received "65535"; allowed: at least 128342 KB with targetArn: it is also the deployment\'s memory limit, and the connector needs about 76 MiB idle plus its queues (the default 131072 fits)',
    );
  });

  test('takes the memory limit from the MemorySize context value', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN, MemorySize: '262144' });

    // Assess
    template.hasResourceProperties('AWS::GreengrassV2::Deployment', {
      Components: {
        'community.greengrass.FirehoseConnector': Match.objectLike({
          RunWith: { SystemResourceLimits: { Memory: 262144 } },
        }),
      },
    });
  });

  test('merges the stream ARN, MemorySize and the context parameters into the configuration', () => {
    // Act
    const synthesized = synth({ targetArn: THING_GROUP_ARN, MemorySize: '131072', PublishInterval: '5' });

    // Assess
    const deployment = Object.values(synthesized.template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const merge =
      deployment.Properties.Components['community.greengrass.FirehoseConnector'].ConfigurationUpdate.Merge;
    expect(JSON.parse(joinText(merge))).toEqual({
      DefaultDeliveryStreamArn: streamArnMarker(synthesized),
      MemorySize: '131072',
      PublishInterval: '5',
    });
  });

  test("puts a record separator given in context in place of the recipe's newline, and packing can be turned off", () => {
    // Act
    const synthesized = synth({ targetArn: THING_GROUP_ARN, RecordSeparator: ',', RecordPacking: 'off' });

    // Assess
    const deployment = Object.values(synthesized.template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const merge =
      deployment.Properties.Components['community.greengrass.FirehoseConnector'].ConfigurationUpdate.Merge;
    expect(JSON.parse(joinText(merge))).toMatchObject({ RecordSeparator: ',', RecordPacking: 'off' });
  });

  test('takes an empty RecordSeparator in context as no separator, not as the recipe default', () => {
    // Act
    const synthesized = synth({ targetArn: THING_GROUP_ARN, RecordSeparator: '' });

    // Assess
    const deployment = Object.values(synthesized.template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const merge =
      deployment.Properties.Components['community.greengrass.FirehoseConnector'].ConfigurationUpdate.Merge;
    expect(JSON.parse(joinText(merge))).toMatchObject({ RecordSeparator: '' });
  });

  test('waits for the component version and the device policy', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const policy = Object.keys(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: ['GreengrassV2TokenExchangeRole'] },
      }),
    );
    expect(deployment.DependsOn).toEqual(
      expect.arrayContaining([stack.getLogicalId(stack.component.componentVersion), ...policy]),
    );
  });

  test('adds the MQTT bridge relaying the status topic to AWS IoT Core when statusBridge is true', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN, statusBridge: 'true', InputSource: 'mqtt' });

    // Assess
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    const bridge = deployment.Properties.Components['aws.greengrass.clientdevices.mqtt.Bridge'];
    expect(bridge.ComponentVersion).toBe('2.3.2');
    expect(JSON.parse(bridge.ConfigurationUpdate.Merge)).toEqual({
      brokerUri: 'tcp://127.0.0.1:1883',
      mqttTopicMapping: {
        FirehoseConnectorStatusToIotCore: {
          topic: 'kinesisfirehose/message/status',
          source: 'LocalMqtt',
          target: 'IotCore',
        },
      },
    });
  });

  test('has no bridge unless statusBridge is true', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    expect(Object.keys(deployment.Properties.Components)).toEqual(['community.greengrass.FirehoseConnector']);
  });
});
