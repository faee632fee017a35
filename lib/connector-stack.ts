import { ArnFormat, Aws, CfnOutput, Duration, Fn, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { type Construct } from 'constructs';
import { ConnectorAlarms } from './connector-alarms';
import { ConnectorComponent } from './connector-component';
import { ConnectorDashboard } from './connector-dashboard';
import {
  type ConnectorContext,
  DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB,
  DEFAULT_TOKEN_EXCHANGE_ROLE_NAME,
} from './context';
import { CustomResourceFunction } from './custom-resource-function';
import { DeliveryPipeline } from './delivery-pipeline';
import { RemovalGuard } from './removal-guard';
import { acknowledge } from './nag';
import { StatusToIoTCorePolicy } from './status-to-iot-core-policy';
import { StreamMetrics } from './stream-metrics';

export interface ConnectorStackProps extends StackProps {
  /** The validated app context (see `parseContext`). */
  readonly settings: ConnectorContext;
  /**
   * Entry point bundled into the artifact when `settings.artifactPath` is not set.
   * @default runtime/main.ts
   */
  readonly runtimeEntry?: string;
}

/** Everything the connector needs in the cloud: delivery stream, bucket, device permissions and the component. */
export class ConnectorStack extends Stack {
  readonly pipeline: DeliveryPipeline;
  readonly component: ConnectorComponent;
  readonly tokenExchangeRole: iam.IRole;
  readonly roleAlias?: iot.CfnRoleAlias;
  readonly statusToIoTCorePolicy?: StatusToIoTCorePolicy;
  readonly customResources: CustomResourceFunction;
  readonly removalGuard: RemovalGuard;
  readonly alarms: ConnectorAlarms;
  readonly dashboard: ConnectorDashboard;

  constructor(scope: Construct, id: string, props: ConnectorStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    this.customResources = new CustomResourceFunction(this, 'CustomResources', {
      logRetention: settings.errorLogRetentionDays as logs.RetentionDays,
    });
    this.removalGuard = new RemovalGuard(this, 'RemovalGuard', {
      customResources: this.customResources,
      holds: {
        deployment: settings.targetArn,
        tokenExchangeRole: settings.createTokenExchangeRole
          ? (settings.tokenExchangeRoleName ?? GENERATED_NAME)
          : undefined,
        tokenExchangeRoleAlias: settings.createTokenExchangeRole
          ? settings.tokenExchangeRoleAlias
          : undefined,
        deliveryStream: settings.deliveryStreamName ?? GENERATED_NAME,
      },
      allowRemoval: settings.allowRemoval,
    });

    this.pipeline = new DeliveryPipeline(this, 'Pipeline', {
      existingBucketName: settings.bucketName,
      destroyData: settings.destroyData,
      armableCleanup: settings.bucketName === undefined && !settings.destroyData,
      dataExpiration: optionalDays(settings.dataExpirationDays),
      serverAccessLogs: settings.serverAccessLogs,
      accessLogExpiration: Duration.days(settings.accessLogExpirationDays),
      deliveryStreamName: settings.deliveryStreamName,
      bufferingInterval: Duration.seconds(settings.bufferingIntervalSeconds),
      bufferingSize: Size.mebibytes(settings.bufferingSizeMiB),
      compression: firehose.Compression.of(settings.compression),
      dataOutputPrefix: settings.dataOutputPrefix,
      errorOutputPrefix: settings.errorOutputPrefix,
      errorLogging: settings.errorLogging,
      errorLogRetention: settings.errorLogRetentionDays as logs.RetentionDays,
    });

    if (settings.createTokenExchangeRole) {
      const role = new iam.Role(this, 'TokenExchangeRole', {
        roleName: settings.tokenExchangeRoleName,
        description:
          'Greengrass token exchange role: what core devices of the Firehose connector may call in AWS',
        // Only this account's credentials provider may assume it, and only for this stack's role alias (the
        // confused-deputy guard the guides recommend). The alias ARN is built from its name: a reference would be
        // circular, since the alias refers to the role.
        // https://docs.aws.amazon.com/greengrass/v2/developerguide/device-service-role.html
        // https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html
        assumedBy: new iam.ServicePrincipal('credentials.iot.amazonaws.com', {
          conditions: {
            StringEquals: {
              'aws:SourceAccount': Aws.ACCOUNT_ID,
              'aws:SourceArn': this.formatArn({
                service: 'iot',
                resource: 'rolealias',
                resourceName: settings.tokenExchangeRoleAlias,
                arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
              }),
            },
          },
        }),
      });
      this.roleAlias = new iot.CfnRoleAlias(this, 'TokenExchangeRoleAlias', {
        roleAlias: settings.tokenExchangeRoleAlias,
        roleArn: role.roleArn,
      });
      this.tokenExchangeRole = role;
    } else {
      this.tokenExchangeRole = iam.Role.fromRoleName(
        this,
        'TokenExchangeRole',
        settings.tokenExchangeRoleName ?? DEFAULT_TOKEN_EXCHANGE_ROLE_NAME,
        { mutable: true },
      );
    }

    const metricsNamespace = settings.metrics ? settings.metricsNamespace : undefined;
    this.component = new ConnectorComponent(this, 'Component', {
      componentName: settings.componentName,
      customResources: this.customResources,
      componentVersion: settings.componentVersion,
      deliveryStream: this.pipeline.deliveryStream,
      extraDeliveryStreamArns: settings.extraDeliveryStreamArns,
      tokenExchangeRole: this.tokenExchangeRole,
      artifactPath: settings.artifactPath,
      runtimeEntry: props.runtimeEntry,
      deployment: settings.targetArn
        ? {
            targetArn: settings.targetArn,
            deploymentName: settings.deploymentName,
            parameters: settings.connectorParameters,
            statusBridge: settings.statusBridge
              ? { version: settings.statusBridgeVersion, brokerUri: settings.statusBridgeBrokerUri }
              : undefined,
          }
        : undefined,
      statusToIoTCore: settings.statusToIoTCore,
      metricsNamespace,
    });
    const metrics = new StreamMetrics(this.pipeline.deliveryStream, metricsNamespace);
    this.alarms = new ConnectorAlarms(this, 'Alarms', {
      metrics,
      bufferingInterval: Duration.seconds(settings.bufferingIntervalSeconds),
      oldestRecordAge: Duration.seconds(settings.oldestRecordAgeAlarmSeconds),
      email: settings.alarmEmail,
    });
    this.dashboard = new ConnectorDashboard(this, 'Dashboard', {
      dashboardName: Fn.join('-', [this.stackName, Aws.REGION]),
      metrics,
      alarms: this.alarms.alarms,
    });
    if (settings.statusToIoTCore) {
      this.statusToIoTCorePolicy = new StatusToIoTCorePolicy(this, 'StatusToIoTCore', {
        customResources: this.customResources,
        thingGroupArn: settings.targetArn?.includes(':thinggroup/') ? settings.targetArn : undefined,
      });
      this.component.deployment?.node.addDependency(this.statusToIoTCorePolicy);
    }
    // In an account without the token exchange role, attaching the artifact policy fails: before the buckets, which
    // are kept on a rollback, exist. (With createTokenExchangeRole the role comes first anyway.)
    for (const bucket of this.pipeline.createdBuckets)
      bucket.node.addDependency(this.component.artifactPolicy);
    // What the guard protects, and what devices would see, changes only once the guard allowed the deploy.
    this.removalGuard.protect(
      this.pipeline.deliveryStream,
      this.component.versionAllocation,
      ...(this.component.deployment ? [this.component.deployment] : []),
      ...(this.roleAlias ? [this.roleAlias, this.tokenExchangeRole] : []),
    );

    this.addOutputs(settings);
    acknowledge(
      this,
      'CloudFormation-Validate::W7001',
      'The aws-kinesisfirehose L2 always adds its region-to-CIDR mapping (used to open VPC destinations to ' +
        'Firehose); this stack delivers to S3, so the mapping is unused and harmless.',
    );
  }

  private addOutputs(settings: ConnectorContext): void {
    const stream = this.pipeline.deliveryStream;
    new CfnOutput(this, 'DeliveryStreamName', { value: stream.deliveryStreamName });
    new CfnOutput(this, 'DeliveryStreamArn', {
      value: stream.deliveryStreamArn,
      description: 'DefaultDeliveryStreamArn of the component',
    });
    new CfnOutput(this, 'BucketName', { value: this.pipeline.bucket.bucketName });
    if (this.pipeline.errorLogGroup) {
      new CfnOutput(this, 'DeliveryErrorLogGroupName', {
        value: this.pipeline.errorLogGroup.logGroupName,
        description: 'Firehose delivery errors (aws logs tail <name> --follow)',
      });
    }
    new CfnOutput(this, 'BucketKeptOnDestroy', {
      value: this.pipeline.bucketRetained,
      description: settings.bucketName
        ? 'Existing bucket: cdk destroy never touches it'
        : settings.destroyData
          ? 'destroyData=true: cdk destroy deletes the buckets and every object'
          : 'cdk destroy keeps the data and access-log buckets with their policies; npm run destroy -- --delete-data deletes them too',
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboard.dashboardName,
      description: "The stream's Firehose metrics beside the core devices' (CloudWatch console, Dashboards)",
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: settings.alarmEmail
        ? `Alarms go to ${settings.alarmEmail} once the subscription is confirmed`
        : 'Subscribe to it to be told of alarms (or deploy with -c alarmEmail=...)',
    });
    new CfnOutput(this, 'ComponentName', { value: settings.componentName });
    new CfnOutput(this, 'ComponentVersion', { value: this.component.version });
    new CfnOutput(this, 'ComponentVersionArn', { value: this.component.componentVersionArn });
    new CfnOutput(this, 'TokenExchangeRoleName', {
      value: this.tokenExchangeRole.roleName,
      description: 'The role the device policies are attached to',
    });
    if (this.roleAlias) {
      new CfnOutput(this, 'TokenExchangeRoleAliasName', {
        value: settings.tokenExchangeRoleAlias,
        description: 'Set the nucleus iotRoleAlias to this, and allow iot:AssumeRoleWithCertificate on it',
      });
    }
    if (this.statusToIoTCorePolicy) {
      new CfnOutput(this, 'StatusToIoTCorePolicyName', {
        value: this.statusToIoTCorePolicy.policyName,
        description: this.statusToIoTCorePolicy.thingGroupArn
          ? 'AWS IoT policy allowing the statuses, attached to the target thing group'
          : 'AWS IoT policy allowing the statuses: attach it to the core devices (aws iot attach-policy --target <certificate or thing group ARN>)',
      });
    }
    if (this.component.deployment) {
      new CfnOutput(this, 'NextStep', {
        value: `aws greengrassv2 get-deployment --deployment-id ${this.component.deployment.attrDeploymentId}`,
        description: 'Follow the deployment',
      });
    } else {
      new CfnOutput(this, 'NextStep', {
        value: this.createDeploymentCommand(settings),
        description:
          'Deploy to a thing or thing group: set TARGET_ARN, then run this. It replaces the components of the ' +
          "target's current deployment: add those to --components too, or use a dedicated thing group.",
      });
    }
  }

  /**
   * A complete `create-deployment` command, as the stack's own deployment would make it: the recipe defaults plus
   * the stream and the memory settings, and the memory limit to match.
   */
  private createDeploymentCommand(settings: ConnectorContext): string {
    const placeholder = 'DELIVERY_STREAM_ARN';
    const memorySize = String(DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB);
    const components = JSON.stringify({
      [settings.componentName]: {
        componentVersion: this.component.version,
        configurationUpdate: {
          reset: [''],
          merge: JSON.stringify({ DefaultDeliveryStreamArn: placeholder, MemorySize: memorySize }),
        },
        runWith: { systemResourceLimits: { memory: Number(memorySize) } },
      },
    });
    const [before, after] = components.split(placeholder);
    // The ARN has no characters JSON or the shell would need escaped, so it can be spliced in at deploy time.
    return Fn.join('', [
      'aws greengrassv2 create-deployment --target-arn "${TARGET_ARN:?set TARGET_ARN to a thing or thing group ARN}" ' +
        `--deployment-name ${settings.componentName} --components '${before}`,
      this.pipeline.deliveryStream.deliveryStreamArn,
      `${after}'`,
    ]);
  }
}

/** How the guard names a resource whose name CloudFormation generates: a change to a given name replaces it. */
const GENERATED_NAME = '(generated name)';

function optionalDays(days: number | undefined): Duration | undefined {
  return days === undefined ? undefined : Duration.days(days);
}
