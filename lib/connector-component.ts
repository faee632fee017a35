import {
  ArnFormat,
  AssetHashType,
  Aws,
  BundlingOutput,
  type CustomResource,
  DockerImage,
  Fn,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as greengrassv2 from 'aws-cdk-lib/aws-greengrassv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { ARTIFACT_FILE_NAME, type ParameterName, Topics } from '../runtime/contract';
import { DEFAULT_COMPONENT_VERSION, DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB } from './context';
import { type CustomResourceFunction } from './custom-resource-function';
import { BUILD_FINGERPRINT_TAG } from './custom-resources/component-version';
import { RESOURCE_TYPES } from './custom-resources/handler';
import { componentVersionsParameterName, devicePolicyNamePrefix } from './names';
import { acknowledge, wildcardResourceFinding } from './nag';
import { buildRecipe, type ComponentRecipe } from './recipe';
import { bundleRuntime, RUNTIME_ENTRY } from './runtime-bundle';

export const MQTT_BRIDGE_COMPONENT = 'aws.greengrass.clientdevices.mqtt.Bridge';

/** The version in the recipe the build's fingerprint is taken of: the real one is not known before it. */
const VERSION_PLACEHOLDER = '0.0.0';

export interface ConnectorDeploymentOptions {
  /** ARN of the core device's thing, or of a thing group of core devices. */
  readonly targetArn: string;
  /** @default the component name */
  readonly deploymentName?: string;
  /**
   * Connector parameters merged into the component configuration, after it is reset to the recipe defaults.
   * `MemorySize` also becomes the component's memory limit.
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
  /** The stack's custom resource function, which decides the component version in the account at deploy time. */
  readonly customResources: CustomResourceFunction;
  /**
   * A fixed component version, for production; the deploy fails if another build has it, or if it is not above
   * every version the component has had in the account and region.
   * @default - the version a build with the same recipe has, or the next one (lib/custom-resources/component-version.ts)
   */
  readonly componentVersion?: string;
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
  /**
   * Turns metrics on in the recipe (`MetricsNamespace`) and lets the devices publish to this one namespace.
   * @default - metrics off, and no CloudWatch permission
   */
  readonly metricsNamespace?: string;
}

/**
 * The connector as a Greengrass v2 component: the bundled runtime as a CDK asset, a component version built from
 * the shared recipe function, the permissions core devices need, and an optional deployment.
 */
export class ConnectorComponent extends Construct {
  readonly artifact: s3assets.Asset;
  readonly recipe: ComponentRecipe;
  /** The version of this build, known at deploy time (a reference to `versionAllocation`). */
  readonly version: string;
  /** Decides `version` in the account: the version of the same build, or the next one. */
  readonly versionAllocation: CustomResource;
  readonly componentVersion: greengrassv2.CfnComponentVersion;
  /**
   * Read access to the artifact, in an inline policy of the token exchange role that depends on nothing else in the
   * stack: whatever must not be created before the role is known to exist can depend on it.
   */
  readonly artifactPolicy: iam.Policy;
  /** PutRecord and PutRecordBatch on the streams, in an inline policy of the token exchange role. */
  readonly streamPolicy: iam.Policy;
  /** PutMetricData in the metrics namespace, in an inline policy of the token exchange role, when metrics are on. */
  readonly metricsPolicy?: iam.Policy;
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

    const recipeOf = (componentVersion: string): ComponentRecipe =>
      buildRecipe({
        componentName: props.componentName,
        componentVersion,
        defaultDeliveryStreamArn: props.deliveryStream.deliveryStreamArn,
        artifactUri: `s3://${this.artifact.s3BucketName}/${objectKey}`,
        statusToIoTCore: props.statusToIoTCore,
        metricsNamespace: props.metricsNamespace,
      });
    this.versionAllocation = this.allocateVersion(props, recipeOf(VERSION_PLACEHOLDER));
    this.version = this.versionAllocation.getAttString('Version');
    this.recipe = recipeOf(this.version);
    this.componentVersion = new greengrassv2.CfnComponentVersion(this, 'ComponentVersion', {
      inlineRecipe: Stack.of(this).toJsonString(this.recipe),
      // What the allocation finds the build by on the next deploy, from any clone.
      tags: { [BUILD_FINGERPRINT_TAG]: this.versionAllocation.getAttString('Fingerprint') },
    });

    const policyName = (purpose: string) =>
      Fn.join('', [devicePolicyNamePrefix(Stack.of(this).stackName), Aws.REGION, purpose]);
    this.artifactPolicy = new iam.Policy(this, 'ArtifactPolicy', { policyName: policyName('-artifact') });
    this.streamPolicy = new iam.Policy(this, 'StreamPolicy', { policyName: policyName('') });
    this.grantDevicePermissions(props);
    if (props.metricsNamespace !== undefined) {
      this.metricsPolicy = metricsPolicy(this, policyName('-metrics'), props.metricsNamespace);
      this.metricsPolicy.attachToRole(props.tokenExchangeRole);
    }

    if (props.deployment) {
      this.deployment = this.createDeployment(props, props.deployment);
      this.deployment.node.addDependency(this.componentVersion, this.artifactPolicy, this.streamPolicy);
      if (this.metricsPolicy) this.deployment.node.addDependency(this.metricsPolicy);
    }
  }

  /** Component version ARN, as `aws greengrassv2 create-deployment` takes it. */
  get componentVersionArn(): string {
    return this.componentVersion.attrArn;
  }

  /**
   * The `Custom::ComponentVersion` of this build: its properties are the recipe as CloudFormation resolves it (the
   * artifact is named by its content hash, the stream by its ARN), so any change to what devices get changes them,
   * and only such a change does. The function may list this component's versions and their tags, and read and
   * raise its high-water mark, nothing else.
   */
  private allocateVersion(props: ConnectorComponentProps, recipe: ComponentRecipe): CustomResource {
    const stack = Stack.of(this);
    const componentArn = stack.formatArn({
      service: 'greengrass',
      resource: 'components',
      resourceName: props.componentName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const parameterName = componentVersionsParameterName(props.componentName);
    const parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: parameterName.slice(1),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const versionsArn = `${componentArn}:versions:*`;
    props.customResources.grant(
      new iam.PolicyStatement({ actions: ['greengrass:ListComponentVersions'], resources: [componentArn] }),
    );
    props.customResources.grant(
      new iam.PolicyStatement({ actions: ['greengrass:ListTagsForResource'], resources: [versionsArn] }),
    );
    props.customResources.grant(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [parameterArn],
      }),
    );
    acknowledge(
      props.customResources.role,
      wildcardResourceFinding(this, versionsArn),
      'The component version allocation reads the fingerprint tag of every version of this one component; the ' +
        'versions are created by deploys, so their numbers cannot be listed in the policy.',
    );
    return props.customResources.resource(this, 'VersionAllocation', RESOURCE_TYPES.componentVersion, {
      ComponentName: props.componentName,
      ComponentArn: componentArn,
      Recipe: stack.toJsonString(recipe),
      BaseVersion: DEFAULT_COMPONENT_VERSION,
      PinnedVersion: props.componentVersion,
      HighWaterMarkParameter: parameterName,
    });
  }

  /**
   * Exactly what the devices need: firehose:PutRecord and PutRecordBatch on the streams they send to, and read of
   * this one artifact. `Asset.grantRead` would grant s3:GetObject*, s3:GetBucket* and s3:List* on the whole asset
   * bucket, so the artifact statement is written by hand. The nucleus calls GetBucketLocation before GetObject and
   * falls back to us-east-1 when refused, so that action is needed on the asset bucket (not its objects).
   *
   * The token exchange role is account-wide, so the policies are named by stack and region: a second region's
   * stack adds its own policies instead of replacing these.
   * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/device-service-role.html#device-service-role-access-s3-bucket
   * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/componentmanager/plugins/S3Downloader.java
   */
  private grantDevicePermissions(props: ConnectorComponentProps): void {
    const role = props.tokenExchangeRole;
    this.artifactPolicy.addStatements(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.artifact.bucket.arnForObjects(this.artifact.s3ObjectKey)],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation'],
        resources: [this.artifact.bucket.bucketArn],
      }),
    );
    const grantee = new PolicyGrantee(role, this.streamPolicy);
    props.deliveryStream.grantPutRecords(grantee);
    (props.extraDeliveryStreamArns ?? []).forEach((arn, index) => {
      firehose.DeliveryStream.fromDeliveryStreamArn(this, `ExtraDeliveryStream${index}`, arn).grantPutRecords(
        grantee,
      );
    });
    for (const policy of [this.artifactPolicy, this.streamPolicy]) policy.attachToRole(role);
  }

  private createDeployment(
    props: ConnectorComponentProps,
    options: ConnectorDeploymentOptions,
  ): greengrassv2.CfnDeployment {
    const stack = Stack.of(this);
    const memorySize = options.parameters?.MemorySize ?? String(DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB);
    const components: Record<string, greengrassv2.CfnDeployment.ComponentDeploymentSpecificationProperty> = {
      [props.componentName]: {
        componentVersion: this.version,
        configurationUpdate: {
          // A merge alone never removes a value set before: a parameter dropped from the context would keep its old
          // value on the devices. Resetting the whole configuration to the recipe defaults first makes the
          // deployment's configuration exactly the recipe defaults plus what the stack sets.
          // https://docs.aws.amazon.com/greengrass/v2/developerguide/update-component-configurations.html
          reset: [''],
          merge: stack.toJsonString({
            ...options.parameters,
            DefaultDeliveryStreamArn: props.deliveryStream.deliveryStreamArn,
            MemorySize: memorySize,
          }),
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
                topic: Topics.status,
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
 * cloudwatch:PutMetricData in one namespace. The action has no resource to name (it takes `*` only); the
 * `cloudwatch:namespace` condition key is what limits it.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
 */
function metricsPolicy(scope: Construct, policyName: string, namespace: string): iam.Policy {
  const policy = new iam.Policy(scope, 'MetricsPolicy', {
    policyName,
    statements: [
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
      }),
    ],
  });
  acknowledge(
    policy,
    wildcardResourceFinding(policy, '*'),
    'cloudwatch:PutMetricData supports no resource-level permissions, only "*"; the cloudwatch:namespace ' +
      "condition limits the devices to the connector's own namespace.",
  );
  return policy;
}

/**
 * A grantee that is the token exchange role, but whose grants go into one named policy instead of the role's
 * default policy, so that `grantPutRecords` can be used and the policy name still chosen.
 */
class PolicyGrantee implements iam.IGrantable {
  readonly grantPrincipal: iam.IPrincipal;

  constructor(role: iam.IRole, policy: iam.Policy) {
    this.grantPrincipal = new (class extends iam.ArnPrincipal {
      override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
        policy.addStatements(statement);
        return { statementAdded: true, policyDependable: policy };
      }
    })(role.roleArn);
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
