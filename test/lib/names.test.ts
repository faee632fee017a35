import { defaultComponentName } from '../../lib/names';
import { joinText, synth, THING_GROUP_ARN } from './app-fixture';

/** Every name the stack gives to an account-wide or region-wide resource it creates or writes. */
function scopedNames(stackName: string): string[] {
  const { template } = synth({ stackName, targetArn: THING_GROUP_ARN });
  const resources = Object.values(template.toJSON().Resources) as {
    Type: string;
    Properties: Record<string, unknown>;
  }[];
  const ofType = (type: string) => resources.filter((resource) => resource.Type === type);
  const deployment = ofType('AWS::GreengrassV2::Deployment')[0].Properties;
  // Inline policies of the roles the stack creates are named within their role; the token exchange role is shared.
  const devicePolicies = ofType('AWS::IAM::Policy').filter(
    (policy) => JSON.stringify(policy.Properties.Roles) === '["GreengrassV2TokenExchangeRole"]',
  );
  const { template: withRole } = synth({ stackName, createTokenExchangeRole: 'true' });
  const aliases = Object.values(withRole.findResources('AWS::IoT::RoleAlias'));
  return [
    ...devicePolicies.map((policy) => joinText(policy.Properties.PolicyName)),
    ...aliases.map((alias) => joinText(alias.Properties.RoleAlias)),
    ...ofType('AWS::Lambda::Function')
      .filter((lambda) => lambda.Properties.FunctionName !== undefined)
      .map((lambda) => joinText(lambda.Properties.FunctionName)),
    // The component versions' high-water mark, an SSM parameter that outlives the stack.
    ...ofType('Custom::ComponentVersion').map((allocation) =>
      joinText(allocation.Properties.HighWaterMarkParameter),
    ),
    ...ofType('AWS::Logs::LogGroup')
      .filter((group) => group.Properties.LogGroupName !== undefined)
      .map((group) => joinText(group.Properties.LogGroupName)),
    joinText(deployment.DeploymentName),
    ...Object.keys(deployment.Components as object),
  ];
}

describe('names of account-wide and region-wide resources', () => {
  test('are disjoint for two stack names', () => {
    // Act
    const first = scopedNames('GreengrassFirehoseConnector');
    const second = scopedNames('FirehoseConnectorStaging');

    // Assess
    expect(first.filter((name) => second.includes(name))).toEqual([]);
  });

  test('of the device policies on the shared token exchange role name the stack and the region', () => {
    // Act
    const { template } = synth({ stackName: 'FirehoseConnectorStaging' });

    // Assess
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: ['GreengrassV2TokenExchangeRole'] },
    });
    expect(Object.values(policies).map((policy) => joinText(policy.Properties.PolicyName))).toEqual([
      'FirehoseConnectorDevices-FirehoseConnectorStaging-<Ref:AWS::Region>-artifact',
      'FirehoseConnectorDevices-FirehoseConnectorStaging-<Ref:AWS::Region>',
      'FirehoseConnectorDevices-FirehoseConnectorStaging-<Ref:AWS::Region>-metrics',
    ]);
  });

  test('keep the names of the default stack, so that an existing installation is not renamed', () => {
    // Act
    const { stack } = synth({ createTokenExchangeRole: 'true' });

    // Assess
    expect([stack.component.recipe.ComponentName, stack.roleAlias?.roleAlias]).toEqual([
      'community.greengrass.FirehoseConnector',
      'FirehoseConnectorTokenExchangeRoleAlias',
    ]);
  });

  test('fit the limits of each service for the longest stack name', () => {
    // Prepare
    const stackName = `S${'x'.repeat(127)}`;

    // Act
    const names = scopedNames(stackName);

    // Assess: component names and role aliases up to 128 characters, policy names 128 with the region, function
    // names 64; SSM parameter names 1011 with their ARN.
    const limit = (name: string) => (name.startsWith('/greengrass-component-versions/') ? 900 : 128);
    const tooLong = names.filter(
      (name) => name.replace('<Ref:AWS::Region>', 'ap-southeast-3').length > limit(name),
    );
    expect(tooLong).toEqual([]);
    expect(defaultComponentName(stackName)).toMatch(
      /^community\.greengrass\.FirehoseConnector\.Sx+-[0-9a-f]{8}$/,
    );
  });
});
