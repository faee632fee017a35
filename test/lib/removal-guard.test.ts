import { logicalId, synth, THING_GROUP_ARN } from './app-fixture';

describe('removal guard', () => {
  test('names what the stack holds: the deployment target, the created role and alias, the stream', () => {
    // Act
    const { template } = synth({
      targetArn: THING_GROUP_ARN,
      createTokenExchangeRole: 'true',
      deliveryStreamName: 'connector',
    });

    // Assess
    template.hasResourceProperties('Custom::RemovalGuard', {
      StackName: 'GreengrassFirehoseConnector',
      Holds: {
        deployment: THING_GROUP_ARN,
        tokenExchangeRole: '(generated name)',
        tokenExchangeRoleAlias: 'FirehoseConnectorTokenExchangeRoleAlias',
        deliveryStream: 'connector',
      },
      AllowRemoval: [],
    });
  });

  test('holds only the stream of a stack without a deployment or a created role', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('Custom::RemovalGuard', { Holds: { deliveryStream: '(generated name)' } });
  });

  test('passes allowRemoval from the command line to the guard', () => {
    // Act
    const { template } = synth({ allowRemoval: 'deployment,deliveryStream' });

    // Assess
    template.hasResourceProperties('Custom::RemovalGuard', {
      AllowRemoval: ['deployment', 'deliveryStream'],
    });
  });

  test('refuses an allowRemoval it does not know, listing what it takes', () => {
    // Act & Assess
    expect(() => synth({ allowRemoval: 'bucket' })).toThrow(
      '  - allowRemoval: received "bucket"; allowed: comma-separated, each one of deployment, tokenExchangeRole, tokenExchangeRoleAlias, deliveryStream, all',
    );
  });

  test('is updated before the stream, the component version, the deployment, the role and the alias', () => {
    // Act
    const { stack, template } = synth({ targetArn: THING_GROUP_ARN, createTokenExchangeRole: 'true' });

    // Assess: CloudFormation updates a resource after those it depends on, and deletes removed ones at the end.
    const guard = logicalId(stack, stack.removalGuard.resource);
    const resources = template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    const waiting = [
      logicalId(stack, stack.pipeline.deliveryStream),
      logicalId(stack, stack.component.versionAllocation),
      stack.getLogicalId(stack.component.deployment!),
      stack.getLogicalId(stack.roleAlias!),
      logicalId(stack, stack.tokenExchangeRole),
    ];
    expect(waiting.filter((id) => !(resources[id].DependsOn ?? []).includes(guard))).toEqual([]);
  });
});
