import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { Ipc } from '../runtime/contract';
import { acknowledge } from './nag';

export interface StatusToIoTCorePolicyProps {
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
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/device-auth.html
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-iot-core-mqtt.html
 */
export class StatusToIoTCorePolicy extends Construct {
  readonly policy: iot.CfnPolicy;
  /** The attachment to the thing group, when one was given. */
  readonly attachment?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: StatusToIoTCorePolicyProps = {}) {
    super(scope, id);
    const topicArn = Stack.of(this).formatArn({
      service: 'iot',
      resource: 'topic',
      resourceName: Ipc.statusTopic,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyDocument: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['iot:Publish'], resources: [topicArn] })],
      }),
    });
    if (props.thingGroupArn !== undefined) this.attachment = this.attachTo(props.thingGroupArn);
  }

  get policyName(): string {
    return this.policy.ref;
  }

  /**
   * CloudFormation attaches AWS IoT policies to certificates only (AWS::IoT::PolicyPrincipalAttachment), so the
   * attachment to a thing group is an AttachPolicy call, undone with DetachPolicy on delete.
   * @see https://github.com/aws/aws-cdk/issues/26166
   */
  private attachTo(thingGroupArn: string): cr.AwsCustomResource {
    const parameters = { policyName: this.policy.ref, target: thingGroupArn };
    const call = (action: string): cr.AwsSdkCall => ({
      service: 'Iot',
      action,
      parameters,
      physicalResourceId: cr.PhysicalResourceId.of(`${this.policy.ref}|${thingGroupArn}`),
    });
    const attachment = new cr.AwsCustomResource(this, 'ThingGroupAttachment', {
      onCreate: call('attachPolicy'),
      onUpdate: call('attachPolicy'),
      onDelete: call('detachPolicy'),
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html: the resource is the target.
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['iot:AttachPolicy', 'iot:DetachPolicy'],
          resources: [thingGroupArn],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    // The provider function is a singleton at the stack's root, hence the acknowledgment's scope.
    acknowledge(
      Stack.of(this),
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AwsCustomResource provider that attaches the AWS IoT policy to the thing group writes its logs with the ' +
        'AWS managed AWSLambdaBasicExecutionRole; its only other permission is iot:AttachPolicy/DetachPolicy on that group.',
    );
    return attachment;
  }
}
