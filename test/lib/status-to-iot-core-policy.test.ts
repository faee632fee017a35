import { Match } from 'aws-cdk-lib/assertions';
import { joinText, logicalId, recipeOf, synth, THING_GROUP_ARN } from './app-fixture';

const THING_ARN = 'arn:aws:iot:eu-west-1:123456789012:thing/core-1';
const COMPONENT = 'community.greengrass.FirehoseConnector';

function connectorDeployment(template: ReturnType<typeof synth>['template']) {
  const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
  return { deployment, update: deployment.Properties.Components[COMPONENT].ConfigurationUpdate };
}

describe('statuses to AWS IoT Core (statusToIoTCore)', () => {
  test('are off by default: no AWS IoT policy, no PublishToIoTCore in the recipe, StatusToIoTCore false', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    template.resourceCountIs('AWS::IoT::Policy', 0);
    const configuration = recipeOf(template).ComponentConfiguration.DefaultConfiguration;
    expect(Object.keys(configuration.accessControl)).toEqual(['aws.greengrass.ipc.pubsub']);
    expect(configuration.StatusToIoTCore).toBe('false');
    expect(JSON.parse(joinText(connectorDeployment(template).update.Merge))).not.toHaveProperty(
      'StatusToIoTCore',
    );
  });

  test('create an AWS IoT policy allowing exactly iot:Publish on the status topic', () => {
    // Act
    const { template } = synth({ statusToIoTCore: 'true' });

    // Assess
    template.resourceCountIs('AWS::IoT::Policy', 1);
    template.hasResourceProperties('AWS::IoT::Policy', {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':iot:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':topic/kinesisfirehose/message/status',
                ],
              ],
            },
          },
        ],
      },
    });
  });

  test('grant PublishToIoTCore on the status topic in the recipe and turn StatusToIoTCore on', () => {
    // Act
    const { template } = synth({ statusToIoTCore: 'true' });

    // Assess
    const configuration = recipeOf(template).ComponentConfiguration.DefaultConfiguration;
    expect(configuration.StatusToIoTCore).toBe('true');
    expect(Object.values(configuration.accessControl['aws.greengrass.ipc.mqttproxy'])).toEqual([
      expect.objectContaining({
        operations: ['aws.greengrass#PublishToIoTCore'],
        resources: ['kinesisfirehose/message/status'],
      }),
    ]);
  });

  test('attach the policy to a thing group target through the custom resource function, before the deployment', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' });

    // Assess
    const policy = stack.getLogicalId(stack.statusToIoTCorePolicy!.policy);
    const targets = Object.entries(template.findResources('Custom::IoTPolicyTargets'));
    expect(targets).toHaveLength(1);
    const [targetsId, resource] = targets[0];
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [logicalId(stack, stack.customResources.function), 'Arn'] },
      PolicyName: { Ref: policy },
      ThingGroupArn: THING_GROUP_ARN,
    });
    expect(connectorDeployment(template).deployment.DependsOn).toEqual(expect.arrayContaining([targetsId]));
    template.resourceCountIs('Custom::AWS', 0);
  });

  test('let the function attach to the thing group only, and detach and delete this one policy', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' });

    // Assess
    const iotArn = (resource: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':iot:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ...(typeof resource === 'string' ? [`:${resource}`] : [resource]),
        ],
      ],
    });
    const policy = stack.getLogicalId(stack.statusToIoTCorePolicy!.policy);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack, stack.customResources.role) }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 'iot:AttachPolicy', Resource: THING_GROUP_ARN },
          {
            Effect: 'Allow',
            Action: 'iot:DetachPolicy',
            Resource: [iotArn('cert/*'), iotArn('thinggroup/*')],
          },
          {
            Effect: 'Allow',
            Action: [
              'iot:DeletePolicy',
              'iot:DeletePolicyVersion',
              'iot:ListPolicyVersions',
              'iot:ListTargetsForPolicy',
            ],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':iot:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':policy/',
                  { Ref: policy },
                ],
              ],
            },
          },
        ]),
      }),
    });
  });

  test('name the policy after the stack, so that a stack upgraded from the AwsCustomResource attachment gets a new one', () => {
    // Act
    const { template } = synth({ stackName: 'FirehoseConnectorStaging', statusToIoTCore: 'true' });

    // Assess
    template.hasResourceProperties('AWS::IoT::Policy', {
      PolicyName: 'FirehoseConnectorStatus-FirehoseConnectorStaging',
    });
  });

  test('are deleted before the policy, which their deletion detaches from everything and deletes', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_ARN, statusToIoTCore: 'true' });

    // Assess: CloudFormation deletes a resource before those it refers to.
    const policy = stack.getLogicalId(stack.statusToIoTCorePolicy!.policy);
    const [resource] = Object.values(template.findResources('Custom::IoTPolicyTargets'));
    expect(resource.Properties.PolicyName).toEqual({ Ref: policy });
  });

  test('leave the policy unattached for a single thing target, and say how to attach it', () => {
    // Act
    const { template } = synth({ targetArn: THING_ARN, statusToIoTCore: 'true' });

    // Assess
    const [resource] = Object.values(template.findResources('Custom::IoTPolicyTargets'));
    expect(resource.Properties.ThingGroupArn).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('iot:AttachPolicy');
    template.hasOutput('StatusToIoTCorePolicyName', {
      Description: Match.stringLikeRegexp('attach it to the core devices \\(aws iot attach-policy'),
    });
  });

  test("reach the devices through the recipe's defaults, which the deployment resets the configuration to", () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN, statusToIoTCore: 'true' });

    // Assess
    const { update } = connectorDeployment(template);
    expect(update.Reset).toEqual(['']);
    expect(JSON.parse(joinText(update.Merge))).not.toHaveProperty('StatusToIoTCore');
    expect(recipeOf(template).ComponentConfiguration.DefaultConfiguration.StatusToIoTCore).toBe('true');
  });
});
