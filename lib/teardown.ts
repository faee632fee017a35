/**
 * `npm run destroy`: removes the component from the devices of the stack's deployment, then deletes the stack, and
 * with `--delete-data` its buckets and every object in them, without a synth or a redeploy.
 *
 * 1. Credentials as `cdk destroy` has them: the CDK bootstrap deploy role of the account and region is assumed when
 *    the caller may (else the caller's own credentials are used, and it says so), and CloudFormation acts with the
 *    role the stack was deployed with (the bootstrap execution role).
 * 2. One revision of the template already deployed, through a change set: the stack's deployment loses its
 *    components (so devices remove the connector) and is kept when the stack goes (so devices offline now still get
 *    it); with `--delete-data` the buckets' clean-up is armed and the buckets and their policies are set to be
 *    deleted. The next `cdk deploy` synthesizes its own template, so nothing of this persists.
 * 3. The stack is deleted.
 *
 * It drives the AWS CLI (v2), which reads the account, region and credentials as usual.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/remove-components.html
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProblemsError } from '../runtime/contract';
import {
  AUTO_DELETE_OBJECTS_TAG,
  componentVersionsParameterName,
  DEFAULT_STACK_NAME,
  DESTROY_DATA_PARAMETER,
} from './names';

/** Runs `aws <args>` with `env` added to the environment and returns its standard output; throws when it fails. */
export type AwsCli = (args: readonly string[], env?: Readonly<Record<string, string>>) => string;

/** The CDK's default bootstrap qualifier. */
export const DEFAULT_QUALIFIER = 'hnb659fds';

export interface TeardownOptions {
  /** @default DEFAULT_STACK_NAME */
  readonly stackName?: string;
  /** Also delete the buckets the stack created, with every object version. @default false */
  readonly deleteData?: boolean;
  /** Region of the stack. @default - the AWS CLI's (AWS_REGION, the profile) */
  readonly region?: string;
  /** CDK bootstrap qualifier of the roles to assume. @default DEFAULT_QUALIFIER */
  readonly qualifier?: string;
  /** Leave the stack's deployment as it is: the component keeps running on the devices. @default false */
  readonly keepOnDevices?: boolean;
}

/** A CloudFormation template, as far as the teardown reads and changes it. */
export interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  [key: string]: unknown;
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: unknown;
  UpdateReplacePolicy?: unknown;
  [key: string]: unknown;
}

/** What the stack says about itself. */
interface StackDescription {
  readonly Parameters?: readonly { ParameterKey: string; ParameterValue?: string }[];
  readonly Outputs?: readonly { OutputKey: string; OutputValue: string }[];
  /** The role CloudFormation acts with, set by `cdk deploy` to the bootstrap execution role. */
  readonly RoleARN?: string;
}

/** Lines to print, in order, as the teardown goes. */
export type Report = (line: string) => void;

/** What a teardown will do, for the user to confirm, and what it needs to do it. */
export interface TeardownPlan {
  readonly stackName: string;
  /** The AWS CLI's `--region`, when given. */
  readonly regionArgs: readonly string[];
  /** Credentials of the assumed deploy role, or none (the caller's own). */
  readonly env: Readonly<Record<string, string>>;
  readonly roleArn?: string;
  /** The revised template and its parameters, when the stack needs a revision before its deletion. */
  readonly revision?: { readonly template: Template; readonly parameters: readonly string[] };
  /** What the teardown does, in order, for the confirmation. */
  readonly steps: readonly string[];
  /** What the user must know before confirming. */
  readonly warnings: readonly string[];
  /** What stays behind. */
  readonly left: readonly string[];
}

/** What `teardownTemplate` changed, and the deployment targets it emptied. */
export interface TemplateRevision {
  readonly template: Template;
  readonly emptiedDeployments: readonly string[];
  /** The buckets whose clean-up the revision arms, not those armed already. */
  readonly armedBuckets: readonly string[];
}

/**
 * The deployed template with the stack's deployments emptied and kept on deletion (unless `keepOnDevices`), and with
 * `deleteData` the buckets' clean-up armed and the buckets and their policies deleted with the stack, unless the
 * clean-up is armed already. Pure.
 *
 * A deployment's components cannot change in place: CloudFormation creates the revised deployment for the same
 * target, which replaces the previous one on the devices, and deletes the previous one.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-greengrassv2-deployment.html
 */
export function teardownTemplate(
  deployed: Template,
  options: Pick<TeardownOptions, 'deleteData' | 'keepOnDevices'>,
): TemplateRevision {
  const template = structuredClone(deployed);
  const emptiedDeployments: string[] = [];
  const armedBuckets: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::GreengrassV2::Deployment' && !options.keepOnDevices) {
      resource.Properties = { ...resource.Properties, Components: {} };
      resource.DeletionPolicy = 'Retain';
      resource.UpdateReplacePolicy = 'Delete';
      emptiedDeployments.push(String(resource.Properties.TargetArn));
    }
    const tags = resource.Properties?.Tags;
    if (resource.Type === 'AWS::S3::Bucket' && options.deleteData && Array.isArray(tags)) {
      const tag = (tags as { Key: string; Value: unknown }[]).find(
        (entry) => entry.Key === AUTO_DELETE_OBJECTS_TAG,
      );
      // Armed already (deployed with destroyData=true): the deletion empties and deletes it as it is, and a
      // revision that changes nothing else would fail as a change set without changes (aws-cdk#11521).
      if (tag === undefined || tag.Value === 'true') continue;
      tag.Value = 'true';
      resource.DeletionPolicy = 'Delete';
      armedBuckets.push(logicalId);
    }
  }
  for (const resource of Object.values(template.Resources)) {
    const bucket = (resource.Properties?.Bucket as { Ref?: string } | undefined)?.Ref;
    if (resource.Type === 'AWS::S3::BucketPolicy' && bucket !== undefined && armedBuckets.includes(bucket)) {
      resource.DeletionPolicy = 'Delete';
    }
  }
  return { template, emptiedDeployments, armedBuckets };
}

/** Reads the stack and works out what the teardown does; changes nothing. */
export function planTeardown(options: TeardownOptions, aws: AwsCli, report: Report): TeardownPlan {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const region = options.region ?? configuredRegion(aws);
  const regionArgs = ['--region', region];
  const env = deployRoleCredentials(options.qualifier ?? DEFAULT_QUALIFIER, region, aws, report);
  const stack = describeStack(stackName, regionArgs, env, aws);
  const output = (key: string) => stack.Outputs?.find((entry) => entry.OutputKey === key)?.OutputValue;
  const deployed = JSON.parse(
    aws(
      [
        'cloudformation',
        'get-template',
        '--stack-name',
        stackName,
        '--template-stage',
        'Original',
        '--query',
        'TemplateBody',
        '--output',
        'json',
        ...regionArgs,
      ],
      env,
    ),
  ) as Template | string;
  const revision = teardownTemplate(
    typeof deployed === 'string' ? (JSON.parse(deployed) as Template) : deployed,
    options,
  );

  const legacyDestroyData = (stack.Parameters ?? []).some(
    (parameter) => parameter.ParameterKey === DESTROY_DATA_PARAMETER,
  );
  if (
    options.deleteData &&
    output('BucketKeptOnDestroy') !== 'false' &&
    revision.armedBuckets.length === 0 &&
    !legacyDestroyData
  ) {
    throw new ProblemsError(`Cannot delete the data of ${stackName}`, [
      'the stack has no bucket it may delete: it delivers to an existing bucket (bucketName), which it never deletes, or it was deployed before the teardown could delete data',
      `redeploy it once with this version (npx cdk deploy), or run without --delete-data and delete the bucket ${output('BucketName') ?? ''} yourself`,
    ]);
  }
  const parameters = (stack.Parameters ?? []).map((parameter) =>
    parameter.ParameterKey === DESTROY_DATA_PARAMETER && options.deleteData
      ? `ParameterKey=${DESTROY_DATA_PARAMETER},ParameterValue=true`
      : `ParameterKey=${parameter.ParameterKey},UsePreviousValue=true`,
  );
  const armsCleanup = revision.armedBuckets.length > 0 || (legacyDestroyData && options.deleteData === true);
  const needsRevision = revision.emptiedDeployments.length > 0 || armsCleanup;

  const steps: string[] = [];
  const warnings: string[] = [];
  const left: string[] = [];
  const component = output('ComponentName') ?? 'the component';
  for (const target of revision.emptiedDeployments) {
    steps.push(
      `Revise the stack's deployment to ${target} without any component: each core device removes ${component} when it applies it`,
    );
    left.push(
      `The deployment to ${target} without components, kept so that devices offline now still remove ${component}: once every device applied it, aws greengrassv2 list-deployments --target-arn ${target} names it, and cancel-deployment then delete-deployment remove it`,
    );
  }
  if (revision.emptiedDeployments.length === 0) {
    const why = options.keepOnDevices ? '--keep-on-devices' : 'the stack has no deployment (no targetArn)';
    warnings.push(
      `${component} stays on the devices (${why}): it keeps running and fails every record once the stream and its permissions are gone. Remove it from the deployments that installed it (console: Greengrass devices > Deployments > Revise), or run sudo /greengrass/v2/bin/greengrass-cli deployment create --remove ${component} on each device`,
    );
  }
  if (armsCleanup) {
    steps.push('Arm the clean-up of the data and access-log buckets (the same template otherwise)');
  }
  const alias = output('TokenExchangeRoleAliasName');
  if (alias) {
    warnings.push(
      `The stack created the token exchange role and its role alias ${alias}: deleting them takes the AWS credentials of every component on the core devices that use ${alias} (nucleus iotRoleAlias). Point those devices at another role alias first, or keep the stack`,
    );
  }
  steps.push(
    `Delete the stack ${stackName}${options.deleteData ? ', its buckets and every object in them' : ''}`,
  );
  if (!options.deleteData && output('BucketKeptOnDestroy') !== 'false' && output('BucketName')) {
    left.push(
      `Bucket ${output('BucketName')} (and its access-log bucket, if any) with the delivered data and its bucket policy: npm run destroy -- --delete-data would have deleted them`,
    );
  }
  left.push(
    `The SSM parameter ${componentVersionsParameterName(component)}, the highest version ${component} has had here: a later deploy continues above it, so that no version number names two builds (aws ssm delete-parameter --name ... forgets it)`,
    'The artifact in the CDK bootstrap bucket, like every CDK asset',
  );
  return {
    stackName,
    regionArgs,
    env,
    roleArn: stack.RoleARN,
    revision: needsRevision ? { template: revision.template, parameters } : undefined,
    steps,
    warnings,
    left,
  };
}

/** Does what `plan` says; returns what stays behind. Stops before the deletion if the revision fails. */
export function executeTeardown(plan: TeardownPlan, aws: AwsCli, report: Report): readonly string[] {
  const { stackName, regionArgs, env } = plan;
  const role = plan.roleArn === undefined ? [] : ['--role-arn', plan.roleArn];
  if (plan.revision) {
    report(`Revising ${stackName} (deployment without components, clean-up armed as asked)...`);
    try {
      revise(plan, plan.revision, role, aws);
    } catch (error) {
      throw new ProblemsError(
        `Stopped before deleting ${stackName}: the revision failed, nothing was deleted`,
        [
          (error as Error).message.trim(),
          `aws cloudformation describe-stack-events --stack-name ${stackName} names the reason; fix it and run npm run destroy again`,
          'or remove the component from the devices yourself (revise the deployment without it) and run npm run destroy -- --keep-on-devices',
        ],
      );
    }
  }
  report(`Deleting ${stackName}...`);
  aws(['cloudformation', 'delete-stack', '--stack-name', stackName, ...role, ...regionArgs], env);
  aws(['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', stackName, ...regionArgs], env);
  return plan.left;
}

function revise(
  plan: TeardownPlan,
  revision: NonNullable<TeardownPlan['revision']>,
  role: readonly string[],
  aws: AwsCli,
): void {
  const { stackName, regionArgs, env } = plan;
  // Minified: the template body of a change set may have 51,200 bytes, and the deploy role cannot upload a larger
  // one to the staging bucket.
  const file = join(mkdtempSync(join(tmpdir(), 'teardown-')), 'template.json');
  writeFileSync(file, JSON.stringify(revision.template));
  const changeSet = ['--stack-name', stackName, '--change-set-name', `npm-run-destroy-${Date.now()}`];
  aws(
    [
      'cloudformation',
      'create-change-set',
      ...changeSet,
      '--change-set-type',
      'UPDATE',
      '--template-body',
      `file://${file}`,
      ...(revision.parameters.length > 0 ? ['--parameters', ...revision.parameters] : []),
      '--capabilities',
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND',
      ...role,
      ...regionArgs,
    ],
    env,
  );
  aws(['cloudformation', 'wait', 'change-set-create-complete', ...changeSet, ...regionArgs], env);
  aws(['cloudformation', 'execute-change-set', ...changeSet, ...regionArgs], env);
  aws(['cloudformation', 'wait', 'stack-update-complete', '--stack-name', stackName, ...regionArgs], env);
}

function configuredRegion(aws: AwsCli): string {
  let region = '';
  try {
    region = aws(['configure', 'get', 'region']).trim();
  } catch {
    // No region in the profile: reported below.
  }
  if (region === '') {
    throw new ProblemsError('No region', [
      'pass --region, or set AWS_REGION or a region in the AWS CLI profile',
    ]);
  }
  return region;
}

/**
 * The credentials of the CDK bootstrap deploy role, which may create and execute change sets and delete stacks, as
 * `cdk destroy` uses it; the caller's own credentials when the role cannot be assumed.
 */
function deployRoleCredentials(
  qualifier: string,
  region: string,
  aws: AwsCli,
  report: Report,
): Record<string, string> {
  let identity: { Account: string; Arn: string };
  try {
    identity = JSON.parse(aws(['sts', 'get-caller-identity', '--output', 'json'])) as {
      Account: string;
      Arn: string;
    };
  } catch (error) {
    throw new ProblemsError('No AWS credentials', [
      (error as Error).message.trim(),
      'configure the AWS CLI (aws sts get-caller-identity must work)',
    ]);
  }
  const partition = identity.Arn.split(':')[1] ?? 'aws';
  const roleArn = `arn:${partition}:iam::${identity.Account}:role/cdk-${qualifier}-deploy-role-${identity.Account}-${region}`;
  try {
    const { Credentials } = JSON.parse(
      aws([
        'sts',
        'assume-role',
        '--role-arn',
        roleArn,
        '--role-session-name',
        'npm-run-destroy',
        '--output',
        'json',
      ]),
    ) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
    report(`Using the CDK deploy role ${roleArn}.`);
    return {
      AWS_ACCESS_KEY_ID: Credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: Credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: Credentials.SessionToken,
    };
  } catch (error) {
    report(
      `Using your own credentials: the CDK deploy role ${roleArn} could not be assumed (${(error as Error).message.trim()}).`,
    );
    return {};
  }
}

function describeStack(
  stackName: string,
  regionArgs: readonly string[],
  env: Record<string, string>,
  aws: AwsCli,
): StackDescription {
  let text: string;
  try {
    text = aws(
      [
        'cloudformation',
        'describe-stacks',
        '--stack-name',
        stackName,
        '--query',
        'Stacks[0]',
        '--output',
        'json',
        ...regionArgs,
      ],
      env,
    );
  } catch (error) {
    throw new ProblemsError(`Cannot read the stack ${stackName}`, [
      (error as Error).message.trim(),
      'check the stack name (--stack-name), the region (--region or AWS_REGION) and the credentials',
    ]);
  }
  return JSON.parse(text) as StackDescription;
}

export const TEARDOWN_USAGE = `Usage: npm run destroy -- [--delete-data] [--keep-on-devices] [--stack-name NAME] [--region REGION] [--qualifier Q] [--force]

  --delete-data        Also delete the buckets the stack created and every object in them
  --keep-on-devices    Leave the stack's deployment alone: the component keeps running on the devices
  --stack-name NAME    Stack to delete (default ${DEFAULT_STACK_NAME})
  --region REGION      Region of the stack (default: the AWS CLI's, AWS_REGION or the profile)
  --qualifier Q        CDK bootstrap qualifier of the deploy role to assume (default ${DEFAULT_QUALIFIER})
  --force              Do not ask for confirmation`;

export interface TeardownArguments extends TeardownOptions {
  readonly force: boolean;
}

/** Parses the command line of `npm run destroy`. */
export function parseTeardownArgs(argv: readonly string[]): TeardownArguments {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (['--delete-data', '--force', '--keep-on-devices'].includes(flag)) flags.add(flag);
    else if (['--stack-name', '--region', '--qualifier'].includes(flag)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) problems.push(`${flag}: needs a value`);
      else values[flag] = value;
    } else problems.push(`${flag}: unknown argument`);
  }
  if (problems.length > 0) throw new ProblemsError('Invalid arguments', problems, TEARDOWN_USAGE);
  return {
    stackName: values['--stack-name'],
    region: values['--region'],
    qualifier: values['--qualifier'],
    deleteData: flags.has('--delete-data'),
    keepOnDevices: flags.has('--keep-on-devices'),
    force: flags.has('--force'),
  };
}
