import { AssetHashType, BundlingOutput, DockerImage, Stack, Token } from 'aws-cdk-lib';
import * as greengrassv2 from 'aws-cdk-lib/aws-greengrassv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct, IDependable } from 'constructs';
import { dirname, join } from 'node:path';
import { ParameterName } from '../runtime/parameters';
import { DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB } from './context';
import { ARTIFACT_FILE_NAME, buildRecipe, ComponentRecipe } from './recipe';
import { bundleRuntime, RUNTIME_ENTRY } from './runtime-bundle';

/** The topic the connector publishes statuses on, as the Greengrass v1 connector did. */
export const STATUS_TOPIC = 'kinesisfirehose/message/status';
export const MQTT_BRIDGE_COMPONENT = 'aws.greengrass.clientdevices.mqtt.Bridge';

export interface ConnectorDeploymentOptions {
  /** ARN of the core device's thing, or of a thing group of core devices. */
  readonly targetArn: string;
  /** @default the component name */
  readonly deploymentName?: string;
  /**
   * Connector parameters merged into the component configuration. `MemorySize` also becomes the component's
   * memory limit.
   * @default - the recipe defaults, and MemorySize DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB
   */
  readonly parameters?: Partial<Record<ParameterName, string>>;
  /**
   * Also install the MQTT bridge, relaying the status topic from the device's broker to AWS IoT Core.
   * @default - no bridge
   */
  readonly statusBridge?: {
    /** MQTT bridge component version (2.2.0 or later). */
    readonly version: string;
    /** The broker the connector uses, as the bridge spells it: tcp://HOST:PORT or ssl://HOST:PORT. */
    readonly brokerUri: string;
  };
}

export interface ConnectorComponentProps {
  /** Greengrass component name. */
  readonly componentName: string;
  /** Greengrass component version; a changed recipe or artifact needs a new one. */
  readonly componentVersion: string;
  /** The stream records go to unless a message names another; it becomes `DefaultDeliveryStreamArn`. */
  readonly deliveryStream: firehose.IDeliveryStream;
  /**
   * Streams a message may name in `request.delivery_stream_arn`; the devices may put records to these too.
   * @default []
   */
  readonly extraDeliveryStreamArns?: readonly string[];
  /** The role core devices get credentials for (the token exchange role). Permissions are added to it. */
  readonly tokenExchangeRole: iam.IRole;
  /**
   * A prebuilt single-file bundle (`*.js`) to upload as the artifact.
   * @default - runtime/main.ts is bundled with esbuild at synth time
   */
  readonly artifactPath?: string;
  /**
   * Entry point bundled when no `artifactPath` is given.
   * @default runtime/main.ts
   */
  readonly runtimeEntry?: string;
  /**
   * Install the component on a thing or thing group.
   * @default - no deployment; install it with the console, the CLI or greengrass-cli
   */
  readonly deployment?: ConnectorDeploymentOptions;
  /**
   * Statuses also go to AWS IoT Core: the recipe allows PublishToIoTCore and defaults StatusToIoTCore to true.
   * @default false
   */
  readonly statusToIoTCore?: boolean;
}

/**
 * The connector as a Greengrass v2 component: the bundled runtime as a CDK asset, a component version built from
 * the shared recipe function, the permissions core devices need, and an optional deployment.
 */
export class ConnectorComponent extends Construct {
  readonly artifact: s3assets.Asset;
  readonly recipe: ComponentRecipe;
  readonly componentVersion: greengrassv2.CfnComponentVersion;
  readonly deployment?: greengrassv2.CfnDeployment;

  constructor(scope: Construct, id: string, props: ConnectorComponentProps) {
    super(scope, id);
    this.artifact = new s3assets.Asset(this, 'Artifact', artifactAssetProps(props));
    const objectKey = this.artifact.s3ObjectKey;
    if (Token.isUnresolved(objectKey)) {
      throw new Error(
        'The artifact object key must be known at synth time; use the default stack synthesizer.',
      );
    }

    this.recipe = buildRecipe({
      componentName: props.componentName,
      componentVersion: props.componentVersion,
      defaultDeliveryStreamArn: props.deliveryStream.deliveryStreamArn,
      artifactUri: `s3://${this.artifact.s3BucketName}/${objectKey}`,
      statusToIoTCore: props.statusToIoTCore,
    });
    this.componentVersion = new greengrassv2.CfnComponentVersion(this, 'ComponentVersion', {
      inlineRecipe: Stack.of(this).toJsonString(this.recipe),
    });

    const policyDependables = this.grantDevicePermissions(props);

    if (props.deployment) {
      this.deployment = this.createDeployment(props, props.deployment);
      this.deployment.node.addDependency(this.componentVersion);
      // The devices download the artifact as soon as the deployment reaches them.
      for (const dependable of policyDependables) this.deployment.node.addDependency(dependable);
    }
  }

  /** Component version ARN, as `aws greengrassv2 create-deployment` takes it. */
  get componentVersionArn(): string {
    return this.componentVersion.attrArn;
  }

  /**
   * Exactly what the devices need: firehose:PutRecord and PutRecordBatch on the streams they send to, and read of
   * this one artifact. `Asset.grantRead` would grant s3:GetObject*, s3:GetBucket* and s3:List* on the whole asset
   * bucket, so the artifact statement is written by hand. The nucleus calls GetBucketLocation before GetObject and
   * falls back to us-east-1 when refused, so that action is needed on the asset bucket (not its objects).
   * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/device-service-role.html#device-service-role-access-s3-bucket
   * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/componentmanager/plugins/S3Downloader.java
   */
  private grantDevicePermissions(props: ConnectorComponentProps): IDependable[] {
    const role = props.tokenExchangeRole;
    const grants = [props.deliveryStream.grantPutRecords(role)];
    (props.extraDeliveryStreamArns ?? []).forEach((arn, index) => {
      const stream = firehose.DeliveryStream.fromDeliveryStreamArn(this, `ExtraDeliveryStream${index}`, arn);
      grants.push(stream.grantPutRecords(role));
    });
    const artifactStatements = [
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.artifact.bucket.arnForObjects(this.artifact.s3ObjectKey)],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation'],
        resources: [this.artifact.bucket.bucketArn],
      }),
    ];
    const dependables: IDependable[] = [];
    for (const statement of artifactStatements) {
      const result = role.addToPrincipalPolicy(statement);
      if (result.policyDependable) dependables.push(result.policyDependable);
    }
    for (const grant of grants) dependables.push(grant);
    return dependables;
  }

  private createDeployment(
    props: ConnectorComponentProps,
    options: ConnectorDeploymentOptions,
  ): greengrassv2.CfnDeployment {
    const stack = Stack.of(this);
    const memorySize = options.parameters?.MemorySize ?? String(DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB);
    const components: Record<string, greengrassv2.CfnDeployment.ComponentDeploymentSpecificationProperty> = {
      [props.componentName]: {
        componentVersion: props.componentVersion,
        configurationUpdate: {
          // Recipe defaults never overwrite values a device already has (for example from an earlier local
          // deployment), so the stream ARN is merged explicitly.
          // https://docs.aws.amazon.com/greengrass/v2/developerguide/update-component-configurations.html
          merge: stack.toJsonString({
            ...options.parameters,
            DefaultDeliveryStreamArn: props.deliveryStream.deliveryStreamArn,
            MemorySize: memorySize,
            ...(props.statusToIoTCore ? { StatusToIoTCore: 'true' } : {}),
          }),
          // Likewise the IPC permissions: a device keeps those of the version it had unless they are reset.
          reset: ['/accessControl'],
        },
        // systemResourceLimits.memory is in KB, like MemorySize. Linux only; ignored by nucleus versions < 2.4.0.
        runWith: { systemResourceLimits: { memory: Number(memorySize) } },
      },
    };
    if (options.statusBridge) {
      components[MQTT_BRIDGE_COMPONENT] = {
        componentVersion: options.statusBridge.version,
        configurationUpdate: {
          merge: JSON.stringify({
            brokerUri: options.statusBridge.brokerUri,
            mqttTopicMapping: {
              FirehoseConnectorStatusToIotCore: {
                topic: STATUS_TOPIC,
                source: 'LocalMqtt',
                target: 'IotCore',
              },
            },
          }),
        },
      };
    }
    return new greengrassv2.CfnDeployment(this, 'Deployment', {
      targetArn: options.targetArn,
      deploymentName: options.deploymentName ?? props.componentName,
      components,
      deploymentPolicies: {
        failureHandlingPolicy: 'ROLLBACK',
        componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: 60 },
      },
    });
  }
}

/**
 * A prebuilt file as is, or runtime/main.ts bundled in-process with esbuild (`bundling.local`, so Docker is never
 * used). The asset hash is the bundle's, so a change in a dependency also makes a new artifact.
 */
function artifactAssetProps(props: ConnectorComponentProps): s3assets.AssetProps {
  if (props.artifactPath !== undefined) return { path: props.artifactPath };
  const entry = props.runtimeEntry ?? RUNTIME_ENTRY;
  return {
    path: dirname(entry),
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never pulled, because local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20-slim'),
      outputType: BundlingOutput.SINGLE_FILE,
      local: {
        tryBundle(outputDir: string): boolean {
          bundleRuntime(join(outputDir, ARTIFACT_FILE_NAME), entry);
          return true;
        },
      },
    },
  };
}
