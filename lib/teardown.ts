/**
 * `npm run destroy`: deletes the stack, and with `--delete-data` its buckets and every object in them, without a
 * redeploy. The stack's `DestroyData` parameter is set on the template already deployed (`--use-previous-template`,
 * so no new code reaches the devices), then the stack is deleted: CloudFormation deletes the stream, then the
 * buckets' clean-up empties them, then the buckets go.
 *
 * It drives the AWS CLI (v2), which reads the account, region and credentials as usual (`AWS_PROFILE`,
 * `AWS_REGION`, or `--region`).
 */
import { ProblemsError } from '../runtime/contract';
import { DEFAULT_STACK_NAME, DESTROY_DATA_PARAMETER } from './names';

/** Runs `aws <args>` and returns its standard output; throws when the command fails. */
export type AwsCli = (args: readonly string[]) => string;

export interface TeardownOptions {
  /** @default DEFAULT_STACK_NAME */
  readonly stackName?: string;
  /** Also delete the buckets the stack created, with every object version. @default false */
  readonly deleteData?: boolean;
  /** Region of the stack. @default - the AWS CLI's (AWS_REGION, the profile) */
  readonly region?: string;
}

/** What the stack says about itself: its parameters and outputs. */
interface StackDescription {
  readonly Parameters?: readonly { ParameterKey: string; ParameterValue?: string }[];
  readonly Outputs?: readonly { OutputKey: string; OutputValue: string }[];
}

/** Lines to print, in order, as the teardown goes. */
export type Report = (line: string) => void;

/** Deletes the stack as `options` say; returns what stays behind, for the user to read. */
export function tearDown(options: TeardownOptions, aws: AwsCli, report: Report): string[] {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const region = options.region === undefined ? [] : ['--region', options.region];
  const stack = describeStack(stackName, region, aws);
  const output = (key: string) => stack.Outputs?.find((entry) => entry.OutputKey === key)?.OutputValue;
  const parameters = stack.Parameters ?? [];
  const hasDestroyData = parameters.some((parameter) => parameter.ParameterKey === DESTROY_DATA_PARAMETER);

  if (options.deleteData && output('BucketKeptOnDestroy') !== 'false') {
    if (!hasDestroyData) {
      throw new ProblemsError(`Cannot delete the data of ${stackName}`, [
        `the stack has no ${DESTROY_DATA_PARAMETER} parameter: it delivers to an existing bucket (bucketName), which it never deletes, or it was deployed before the parameter existed`,
        `redeploy it once with this version (npx cdk deploy with the same -c options), or run without --delete-data and delete the bucket ${output('BucketName') ?? ''} yourself`,
      ]);
    }
    report(`Setting ${DESTROY_DATA_PARAMETER}=true on ${stackName} (same template, nothing else changes)...`);
    const keepOthers = parameters
      .filter((parameter) => parameter.ParameterKey !== DESTROY_DATA_PARAMETER)
      .map((parameter) => `ParameterKey=${parameter.ParameterKey},UsePreviousValue=true`);
    aws([
      'cloudformation',
      'update-stack',
      '--stack-name',
      stackName,
      '--use-previous-template',
      '--parameters',
      `ParameterKey=${DESTROY_DATA_PARAMETER},ParameterValue=true`,
      ...keepOthers,
      '--capabilities',
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND',
      ...region,
    ]);
    aws(['cloudformation', 'wait', 'stack-update-complete', '--stack-name', stackName, ...region]);
  }

  report(`Deleting ${stackName}${options.deleteData ? ' with its buckets and every object in them' : ''}...`);
  aws(['cloudformation', 'delete-stack', '--stack-name', stackName, ...region]);
  aws(['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', stackName, ...region]);

  const left: string[] = [];
  if (!options.deleteData && output('BucketKeptOnDestroy') !== 'false' && output('BucketName')) {
    left.push(
      `Bucket ${output('BucketName')} (and its access-log bucket, if any) with the delivered data: npm run destroy -- --delete-data would have deleted them`,
    );
  }
  left.push(
    `The component ${output('ComponentName') ?? ''} on devices, until a deployment removes it; deployments made outside the stack that name version ${output('ComponentVersion') ?? ''} now fail on new devices`,
    'The artifact in the CDK bootstrap bucket, like every CDK asset',
  );
  return left;
}

function describeStack(stackName: string, region: readonly string[], aws: AwsCli): StackDescription {
  let text: string;
  try {
    text = aws([
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      stackName,
      '--query',
      'Stacks[0]',
      '--output',
      'json',
      ...region,
    ]);
  } catch (error) {
    throw new ProblemsError(`Cannot read the stack ${stackName}`, [
      (error as Error).message.trim(),
      'check the stack name (--stack-name), the region (--region or AWS_REGION) and the credentials',
    ]);
  }
  return JSON.parse(text) as StackDescription;
}

export const TEARDOWN_USAGE = `Usage: npm run destroy -- [--delete-data] [--stack-name NAME] [--region REGION] [--force]

  --delete-data        Also delete the buckets the stack created and every object in them
  --stack-name NAME    Stack to delete (default ${DEFAULT_STACK_NAME})
  --region REGION      Region of the stack (default: the AWS CLI's, AWS_REGION or the profile)
  --force              Do not ask for confirmation`;

export interface TeardownArguments extends TeardownOptions {
  readonly force: boolean;
}

/** Parses the command line of `npm run destroy`. */
export function parseTeardownArgs(argv: readonly string[]): TeardownArguments {
  const problems: string[] = [];
  let stackName: string | undefined;
  let region: string | undefined;
  let deleteData = false;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--delete-data') deleteData = true;
    else if (flag === '--force') force = true;
    else if (flag === '--stack-name' || flag === '--region') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) problems.push(`${flag}: needs a value`);
      else if (flag === '--stack-name') stackName = value;
      else region = value;
    } else problems.push(`${flag}: unknown argument`);
  }
  if (problems.length > 0) throw new ProblemsError('Invalid arguments', problems, TEARDOWN_USAGE);
  return { stackName, region, deleteData, force };
}
