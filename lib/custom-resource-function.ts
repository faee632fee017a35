import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Lambda function's code: lib/custom-resources/, which imports nothing outside itself but the AWS SDK. */
const CUSTOM_RESOURCES_FOLDER = join(__dirname, 'custom-resources');

export interface CustomResourceFunctionProps {
  /** Retention of the function's log group, which the stack deletes with it. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The stack's one custom resource function (lib/custom-resources/handler.ts), bundled in-process with esbuild at synth
 * like the connector artifact, with the AWS SDK left to the Lambda runtime. Each custom resource calls it directly (no
 * provider framework function in between), and it answers CloudFormation itself.
 *
 * Nothing of it outlives the stack: its log group is a stack resource with a retention, and its role may write to
 * that group only, not create one (no AWSLambdaBasicExecutionRole), so a log line written while the stack is being
 * deleted cannot bring the group back without a retention. Each custom resource depends on the group and the role's
 * policies, so the group and the permissions are deleted after the last request.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
 */
export class CustomResourceFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CustomResourceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Runs the Firehose connector stack's custom resources",
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      description: 'Firehose connector stack: component versions, removal guard, AWS IoT policy targets',
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(customResourcesBundle()),
      role: this.role,
      logGroup: this.logGroup,
      // Deleting an AWS IoT policy may wait up to five minutes after it was detached (iot-policy-targets.ts).
      timeout: Duration.minutes(10),
      memorySize: 256,
    });
  }

  /** A custom resource served by the function, created once the function may log and has its permissions. */
  resource(
    scope: Construct,
    id: string,
    resourceType: string,
    properties: Record<string, unknown>,
  ): CustomResource {
    const resource = new CustomResource(scope, id, {
      serviceToken: this.function.functionArn,
      resourceType,
      properties,
    });
    resource.node.addDependency(this.logGroup, this.role);
    return resource;
  }

  /** Adds `statement` to what the function may do. */
  grant(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

let bundleFolder: string | undefined;

/**
 * A temporary folder holding the bundle, made once per process (esbuild's output is the same for the same sources, so
 * the asset hash, taken of the folder, changes only with the code).
 */
function customResourcesBundle(): string {
  if (bundleFolder === undefined) {
    const folder = mkdtempSync(join(tmpdir(), 'custom-resources-'));
    bundleCustomResources(join(folder, 'index.js'));
    bundleFolder = folder;
  }
  return bundleFolder;
}

/** Bundles lib/custom-resources/handler.ts into one CommonJS file; the Lambda runtime provides the AWS SDK v3. */
export function bundleCustomResources(outfile: string): void {
  buildSync({
    entryPoints: [join(CUSTOM_RESOURCES_FOLDER, 'handler.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    // Paths in the bundle's comments relative to the repository, whatever the working folder: the same sources give
    // the same bytes, and so the same asset hash, on every machine.
    absWorkingDir: join(__dirname, '..'),
    outfile,
    logLevel: 'warning',
  });
}
