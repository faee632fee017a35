import { ArnFormat, type CustomResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { Ipc } from '../runtime/contract';
import { type CustomResourceFunction } from './custom-resource-function';
import { RESOURCE_TYPES } from './custom-resources/handler';
import { statusPolicyName } from './names';
import { acknowledge, wildcardResourceFinding } from './nag';

export interface StatusToIoTCorePolicyProps {
  /** The stack's custom resource function, which attaches the policy and, on deletion, detaches and deletes it. */
  readonly customResources: CustomResourceFunction;
  /**
   * Thing group of the core devices. The policy is attached to it, so every core device in the group (now or later)
   * may publish the statuses.
   * @default - the policy is not attached; attach it to the core devices' certificates or thing group yourself
   */
  readonly thingGroupArn?: string;
}

/**
 * The AWS IoT policy core devices need for the connector's statuses to reach AWS IoT Core. The nucleus publishes
 * them (PublishToIoTCore) on its own MQTT connection, with the core device's certificate, so the certificate's
 * policies must allow `iot:Publish` on the status topic; otherwise AWS IoT Core refuses the publish and closes the
 * core device's connection. Exactly that permission, nothing else.
 *
 * Its targets are a custom resource (lib/custom-resources/iot-policy-targets.ts): CloudFormation attaches policies to
 * certificates only, and cannot delete a policy that is still attached (to a certificate, by hand) or was detached
 * less than five minutes before. On deletion the custom resource detaches the policy from every target and deletes
 * it, retrying until AWS IoT allows it.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/device-auth.html
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-iot-core-mqtt.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html
 */
export class StatusToIoTCorePolicy extends Construct {
  readonly policy: iot.CfnPolicy;
  /** Attaches the policy to the thing group, if any, and detaches it from everything before it is deleted. */
  readonly targets: CustomResource;
  readonly thingGroupArn?: string;

  constructor(scope: Construct, id: string, props: StatusToIoTCorePolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const topicArn = stack.formatArn({
      service: 'iot',
      resource: 'topic',
      resourceName: Ipc.statusTopic,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyName: statusPolicyName(stack.stackName),
      policyDocument: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['iot:Publish'], resources: [topicArn] })],
      }),
    });
    this.thingGroupArn = props.thingGroupArn;
    this.targets = props.customResources.resource(this, 'Targets', RESOURCE_TYPES.iotPolicyTargets, {
      PolicyName: this.policy.ref,
      ThingGroupArn: props.thingGroupArn,
    });
    this.grant(props.customResources, props.thingGroupArn);
  }

  get policyName(): string {
    return this.policy.ref;
  }

  /**
   * Attach to the thing group; list, detach from any target, and delete this one policy (and its older versions).
   * The targets of DetachPolicy are the resource in IAM, and certificates or thing groups it was attached to by hand
   * are not known at synth.
   * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html
   */
  private grant(customResources: CustomResourceFunction, thingGroupArn?: string): void {
    const stack = Stack.of(this);
    const iotArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'iot', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const policyArn = iotArn('policy', this.policy.ref);
    const anyTarget = [iotArn('cert', '*'), iotArn('thinggroup', '*')];
    if (thingGroupArn !== undefined) {
      customResources.grant(
        new iam.PolicyStatement({ actions: ['iot:AttachPolicy'], resources: [thingGroupArn] }),
      );
    }
    customResources.grant(new iam.PolicyStatement({ actions: ['iot:DetachPolicy'], resources: anyTarget }));
    customResources.grant(
      new iam.PolicyStatement({
        actions: [
          'iot:ListTargetsForPolicy',
          'iot:ListPolicyVersions',
          'iot:DeletePolicyVersion',
          'iot:DeletePolicy',
        ],
        resources: [policyArn],
      }),
    );
    for (const target of anyTarget) {
      acknowledge(
        customResources.role,
        wildcardResourceFinding(this, target),
        'Deleting the status policy needs it detached from every target, including certificates and thing groups ' +
          'it was attached to by hand, which are not known at synth; the role may only detach, not attach, there.',
      );
    }
  }
}
