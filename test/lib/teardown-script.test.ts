import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type AwsCli,
  executeTeardown,
  parseTeardownArgs,
  planTeardown,
  type Template,
  teardownTemplate,
} from '../../lib/teardown';
import { ProblemsError } from '../../runtime/contract';
import { synth, THING_GROUP_ARN } from './app-fixture';

const DEPLOY_ROLE = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1';
const EXEC_ROLE = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1';

/** What `describe-stacks` returns for a stack deployed by this version with a deployment and a created role. */
const DEPLOYED_STACK = {
  RoleARN: EXEC_ROLE,
  Parameters: [{ ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version' }],
  Outputs: [
    { OutputKey: 'BucketName', OutputValue: 'greengrassfirehoseconnector-pipelinebucket-abc' },
    { OutputKey: 'BucketKeptOnDestroy', OutputValue: 'true' },
    { OutputKey: 'ComponentName', OutputValue: 'community.greengrass.FirehoseConnector' },
    { OutputKey: 'TokenExchangeRoleAliasName', OutputValue: 'FirehoseConnectorTokenExchangeRoleAlias' },
  ],
};

/** What `describe-stacks` returns for the same stack deployed with `-c destroyData=true`. */
const DESTROY_DATA_STACK = {
  ...DEPLOYED_STACK,
  Outputs: DEPLOYED_STACK.Outputs.map((output) =>
    output.OutputKey === 'BucketKeptOnDestroy' ? { ...output, OutputValue: 'false' } : output,
  ),
};

/** The template this version deploys with a deployment and a created role. */
function deployedTemplate(context: Record<string, unknown> = {}): Template {
  return synth({
    targetArn: THING_GROUP_ARN,
    createTokenExchangeRole: 'true',
    ...context,
  }).template.toJSON() as Template;
}

/** An AWS CLI that records its calls and answers for `stack` and `template`; it may assume the deploy role. */
function fakeAws(
  stack: object = DEPLOYED_STACK,
  template: Template = deployedTemplate(),
  options: { assumable?: boolean; failOn?: string } = {},
): { aws: AwsCli; calls: string[]; envs: Record<string, string>[] } {
  const calls: string[] = [];
  const envs: Record<string, string>[] = [];
  const aws: AwsCli = (args, env = {}) => {
    const call = args.join(' ');
    calls.push(call);
    envs.push({ ...env });
    if (options.failOn !== undefined && call.startsWith(options.failOn))
      throw new Error(`${options.failOn} failed`);
    if (call.startsWith('sts get-caller-identity')) {
      return JSON.stringify({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/me' });
    }
    if (call.startsWith('sts assume-role')) {
      if (options.assumable === false) throw new Error('AccessDenied');
      return JSON.stringify({
        Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 'secret', SessionToken: 'token' },
      });
    }
    if (call.startsWith('cloudformation describe-stacks')) return JSON.stringify(stack);
    if (call.startsWith('cloudformation get-template')) return JSON.stringify(template);
    return '';
  };
  return { aws, calls, envs };
}

function revisedTemplate(calls: string[]): Template {
  const createChangeSet = calls.find((call) => call.startsWith('cloudformation create-change-set'))!;
  const file = /file:\/\/(\S+)/.exec(createChangeSet)![1];
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

const quiet = () => undefined;

describe('teardownTemplate', () => {
  test('empties the deployment and keeps it when the stack goes, so devices offline now still remove the component', () => {
    // Act
    const { template, emptiedDeployments } = teardownTemplate(deployedTemplate(), {});

    // Assess
    const [deployment] = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::GreengrassV2::Deployment',
    );
    expect(deployment.Properties?.Components).toEqual({});
    expect([deployment.DeletionPolicy, deployment.UpdateReplacePolicy]).toEqual(['Retain', 'Delete']);
    expect(emptiedDeployments).toEqual([THING_GROUP_ARN]);
  });

  test('with deleteData arms the clean-up and deletes the buckets and their policies with the stack', () => {
    // Act
    const { template, armedBuckets } = teardownTemplate(deployedTemplate(), { deleteData: true });

    // Assess
    const ofType = (type: string) =>
      Object.values(template.Resources).filter((resource) => resource.Type === type);
    expect(armedBuckets).toHaveLength(2);
    for (const bucket of ofType('AWS::S3::Bucket')) {
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(bucket.Properties?.Tags).toContainEqual({ Key: 'aws-cdk:auto-delete-objects', Value: 'true' });
    }
    expect(ofType('AWS::S3::BucketPolicy').map((policy) => policy.DeletionPolicy)).toEqual([
      'Delete',
      'Delete',
    ]);
  });

  test('with deleteData leaves alone the buckets of a stack deployed with destroyData=true, armed already', () => {
    // Prepare
    const deployed = deployedTemplate({ destroyData: 'true' });

    // Act
    const { template, armedBuckets } = teardownTemplate(deployed, { deleteData: true, keepOnDevices: true });

    // Assess: a change set that changes nothing fails (aws-cdk#11521), and the stack deletes these buckets anyway.
    expect(armedBuckets).toEqual([]);
    expect(template).toEqual(deployed);
  });

  test('leaves the deployed template alone: a later cdk deploy synthesizes its own, with nothing armed', () => {
    // Prepare
    const deployed = deployedTemplate();
    const copy = JSON.stringify(deployed);

    // Act
    teardownTemplate(deployed, { deleteData: true });

    // Assess
    expect(JSON.stringify(deployed)).toBe(copy);
    const buckets = Object.values(deployed.Resources).filter(
      (resource) => resource.Type === 'AWS::S3::Bucket',
    );
    expect(buckets.map((bucket) => bucket.DeletionPolicy)).toEqual(['Retain', 'Retain']);
    expect(deployed.Parameters?.DestroyData).toBeUndefined();
  });

  test('fits a change set template body (51,200 bytes) minified, with every option on', () => {
    // Act
    const { template } = teardownTemplate(
      deployedTemplate({
        statusToIoTCore: 'true',
        extraDeliveryStreamArns: THING_GROUP_ARN.replace(
          /iot.*/,
          'firehose:eu-west-1:123456789012:deliverystream/x',
        ),
      }),
      { deleteData: true },
    );

    // Assess
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(51_200);
  });
});

describe('planTeardown and executeTeardown', () => {
  test('assume the CDK deploy role and act with the role the stack was deployed with, as cdk destroy does', () => {
    // Prepare
    const { aws, calls, envs } = fakeAws();

    // Act
    executeTeardown(planTeardown({ region: 'eu-west-1' }, aws, quiet), aws, quiet);

    // Assess
    expect(calls[1]).toBe(
      `sts assume-role --role-arn ${DEPLOY_ROLE} --role-session-name npm-run-destroy --output json`,
    );
    const stackCalls = calls.filter((call) => call.startsWith('cloudformation'));
    expect(stackCalls.every((call) => call.endsWith('--region eu-west-1'))).toBe(true);
    expect(envs.slice(2).every((env) => env.AWS_SESSION_TOKEN === 'token')).toBe(true);
    expect(calls.find((call) => call.startsWith('cloudformation delete-stack'))).toBe(
      `cloudformation delete-stack --stack-name GreengrassFirehoseConnector --role-arn ${EXEC_ROLE} --region eu-west-1`,
    );
  });

  test('say when they use the caller’s own credentials because the deploy role cannot be assumed', () => {
    // Prepare
    const { aws, envs } = fakeAws(DEPLOYED_STACK, deployedTemplate(), { assumable: false });
    const lines: string[] = [];

    // Act
    planTeardown({ region: 'eu-west-1' }, aws, (line) => lines.push(line));

    // Assess
    expect(lines[0]).toBe(
      `Using your own credentials: the CDK deploy role ${DEPLOY_ROLE} could not be assumed (AccessDenied).`,
    );
    expect(envs.at(-1)).toEqual({});
  });

  test('revise the deployment through a change set before deleting the stack, and say so', () => {
    // Prepare
    const { aws, calls } = fakeAws();

    // Act
    const plan = planTeardown({ region: 'eu-west-1' }, aws, quiet);
    executeTeardown(plan, aws, quiet);

    // Assess
    expect(
      calls
        .filter((call) => call.startsWith('cloudformation '))
        .map((call) => call.split(' ').slice(0, 3).join(' ')),
    ).toEqual([
      'cloudformation describe-stacks --stack-name',
      'cloudformation get-template --stack-name',
      'cloudformation create-change-set --stack-name',
      'cloudformation wait change-set-create-complete',
      'cloudformation execute-change-set --stack-name',
      'cloudformation wait stack-update-complete',
      'cloudformation delete-stack --stack-name',
      'cloudformation wait stack-delete-complete',
    ]);
    expect(plan.steps[0]).toBe(
      `Revise the stack's deployment to ${THING_GROUP_ARN} without any component: each core device removes community.greengrass.FirehoseConnector when it applies it`,
    );
    const deployment = Object.values(revisedTemplate(calls).Resources).find(
      (resource) => resource.Type === 'AWS::GreengrassV2::Deployment',
    );
    expect(deployment?.Properties?.Components).toEqual({});
    expect(calls.find((call) => call.startsWith('cloudformation create-change-set'))).toContain(
      '--parameters ParameterKey=BootstrapVersion,UsePreviousValue=true',
    );
  });

  test('warn before deleting a created role alias, which takes the credentials of every component on the devices', () => {
    // Prepare
    const { aws } = fakeAws();

    // Act
    const plan = planTeardown({ region: 'eu-west-1' }, aws, quiet);

    // Assess
    expect(plan.warnings).toContainEqual(
      expect.stringMatching(
        /^The stack created the token exchange role and its role alias FirehoseConnectorTokenExchangeRoleAlias: deleting them takes the AWS credentials of every component/,
      ),
    );
  });

  test('stop before deleting anything when the revision fails, saying what to do', () => {
    // Prepare
    const { aws, calls } = fakeAws(DEPLOYED_STACK, deployedTemplate(), {
      failOn: 'cloudformation wait stack-update-complete',
    });
    const plan = planTeardown({ region: 'eu-west-1' }, aws, quiet);

    // Act & Assess
    expect(() => executeTeardown(plan, aws, quiet)).toThrow(
      'Stopped before deleting GreengrassFirehoseConnector: the revision failed, nothing was deleted',
    );
    expect(calls.some((call) => call.startsWith('cloudformation delete-stack'))).toBe(false);
  });

  test('with --keep-on-devices leave the deployment alone and warn that the component stays on the devices', () => {
    // Prepare
    const { aws, calls } = fakeAws();

    // Act
    const plan = planTeardown({ region: 'eu-west-1', keepOnDevices: true }, aws, quiet);
    executeTeardown(plan, aws, quiet);

    // Assess
    expect(calls.some((call) => call.includes('create-change-set'))).toBe(false);
    expect(plan.warnings[0]).toMatch(
      /^community\.greengrass\.FirehoseConnector stays on the devices \(--keep-on-devices\): it keeps running and fails every record/,
    );
  });

  test('without --delete-data say that the buckets stay, with their data and bucket policy', () => {
    // Prepare
    const { aws } = fakeAws();

    // Act
    const left = executeTeardown(planTeardown({ region: 'eu-west-1' }, aws, quiet), aws, quiet);

    // Assess
    expect(left).toContainEqual(
      expect.stringMatching(
        /^Bucket greengrassfirehoseconnector-pipelinebucket-abc .* with the delivered data and its bucket policy/,
      ),
    );
  });

  test('refuse --delete-data, deleting nothing, for a stack with no bucket it may delete', () => {
    // Prepare
    const { aws, calls } = fakeAws(DEPLOYED_STACK, deployedTemplate({ bucketName: 'my-existing-data' }));

    // Act & Assess
    expect(() => planTeardown({ region: 'eu-west-1', deleteData: true }, aws, quiet)).toThrow(ProblemsError);
    expect(calls.some((call) => /change-set|delete-stack/.test(call))).toBe(false);
  });

  test('set DestroyData on a stack deployed before the teardown armed the clean-up in the template', () => {
    // Prepare
    const legacy = {
      ...DEPLOYED_STACK,
      Parameters: [...DEPLOYED_STACK.Parameters, { ParameterKey: 'DestroyData', ParameterValue: 'false' }],
    };
    const { aws, calls } = fakeAws(legacy);

    // Act
    executeTeardown(
      planTeardown({ region: 'eu-west-1', deleteData: true, keepOnDevices: true }, aws, quiet),
      aws,
      quiet,
    );

    // Assess
    expect(calls.find((call) => call.startsWith('cloudformation create-change-set'))).toContain(
      'ParameterKey=DestroyData,ParameterValue=true',
    );
  });

  test('with --delete-data delete a stack deployed with destroyData=true, data included, without a revision that would change nothing', () => {
    // Prepare
    const { aws, calls } = fakeAws(DESTROY_DATA_STACK, deployedTemplate({ destroyData: 'true' }));

    // Act
    const plan = planTeardown({ region: 'eu-west-1', deleteData: true, keepOnDevices: true }, aws, quiet);
    executeTeardown(plan, aws, quiet);

    // Assess
    expect(plan.revision).toBeUndefined();
    expect(plan.steps).toEqual([
      'Delete the stack GreengrassFirehoseConnector, its buckets and every object in them',
    ]);
    expect(calls.some((call) => call.includes('change-set'))).toBe(false);
    expect(calls.find((call) => call.startsWith('cloudformation delete-stack'))).toBe(
      `cloudformation delete-stack --stack-name GreengrassFirehoseConnector --role-arn ${EXEC_ROLE} --region eu-west-1`,
    );
  });

  test('with --delete-data revise only the deployment of a stack deployed with destroyData=true', () => {
    // Prepare
    const deployed = deployedTemplate({ destroyData: 'true' });
    const { aws, calls } = fakeAws(DESTROY_DATA_STACK, deployed);

    // Act
    const plan = planTeardown({ region: 'eu-west-1', deleteData: true }, aws, quiet);
    executeTeardown(plan, aws, quiet);

    // Assess
    expect(plan.steps).not.toContain(
      'Arm the clean-up of the data and access-log buckets (the same template otherwise)',
    );
    const s3 = (template: Template) =>
      Object.fromEntries(
        Object.entries(template.Resources).filter(([, resource]) => resource.Type.startsWith('AWS::S3::')),
      );
    expect(Object.keys(s3(deployed))).toHaveLength(4);
    expect(s3(revisedTemplate(calls))).toEqual(s3(deployed));
    expect(calls.some((call) => call.startsWith('cloudformation delete-stack'))).toBe(true);
  });

  test('name the stack, the error and what to check when the stack cannot be read', () => {
    // Prepare
    const { aws } = fakeAws(DEPLOYED_STACK, deployedTemplate(), { failOn: 'cloudformation describe-stacks' });

    // Act & Assess
    expect(() => planTeardown({ stackName: 'Other', region: 'eu-west-1' }, aws, quiet)).toThrow(
      [
        'Cannot read the stack Other:',
        '  - cloudformation describe-stacks failed',
        '  - check the stack name (--stack-name), the region (--region or AWS_REGION) and the credentials',
      ].join('\n'),
    );
  });
});

describe('parseTeardownArgs', () => {
  test('reports every unknown argument and missing value at once', () => {
    // Act & Assess
    expect(() => parseTeardownArgs(['--stack-name', '--delete', '--region'])).toThrow(
      ['Invalid arguments:', '  - --stack-name: needs a value', '  - --region: needs a value'].join('\n'),
    );
  });
});

describe('npm run destroy', () => {
  /** An aws command on the PATH that logs its arguments and answers like `fakeAws`. */
  function fakeAwsCommand(): { bin: string; log: string } {
    const bin = mkdtempSync(join(tmpdir(), 'fake-aws-'));
    const log = join(bin, 'calls.log');
    writeFileSync(join(bin, 'stack.json'), JSON.stringify(DEPLOYED_STACK));
    writeFileSync(join(bin, 'template.json'), JSON.stringify(deployedTemplate()));
    writeFileSync(
      join(bin, 'aws'),
      [
        '#!/bin/sh',
        `echo "$*" >> "${log}"`,
        'case "$1 $2" in',
        `  "sts get-caller-identity") echo '{"Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/me"}' ;;`,
        `  "sts assume-role") echo '{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T"}}' ;;`,
        `  "cloudformation describe-stacks") cat "${join(bin, 'stack.json')}" ;;`,
        `  "cloudformation get-template") cat "${join(bin, 'template.json')}" ;;`,
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'aws'), 0o755);
    return { bin, log };
  }

  test('prints what it will do and the warnings, revises, deletes, and says what stays', () => {
    // Prepare
    const { bin, log } = fakeAwsCommand();

    // Act
    const result = spawnSync(
      'npm',
      ['run', '--silent', 'destroy', '--', '--force', '--region', 'eu-west-1'],
      {
        cwd: resolve(__dirname, '../..'),
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        encoding: 'utf8',
      },
    );

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^Using the CDK deploy role .*\nThis will:\n {2}- Revise the stack's deployment to /,
    );
    expect(result.stdout).toContain('Warning: The stack created the token exchange role and its role alias');
    expect(result.stdout).toContain('Deleted. Still there:');
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.map((call) => call.split(' ').slice(0, 2).join(' '))).toEqual([
      'sts get-caller-identity',
      'sts assume-role',
      'cloudformation describe-stacks',
      'cloudformation get-template',
      'cloudformation create-change-set',
      'cloudformation wait',
      'cloudformation execute-change-set',
      'cloudformation wait',
      'cloudformation delete-stack',
      'cloudformation wait',
    ]);
  }, 60_000);

  test('deletes nothing without confirmation when it cannot ask', () => {
    // Prepare
    const { bin, log } = fakeAwsCommand();

    // Act
    const result = spawnSync('npm', ['run', '--silent', 'destroy', '--', '--region', 'eu-west-1'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      input: '',
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('Nothing deleted: confirm, or pass --force.\n');
    expect(readFileSync(log, 'utf8')).not.toMatch(/change-set|delete-stack/);
  }, 60_000);
});
