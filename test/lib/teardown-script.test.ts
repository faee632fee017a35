import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AwsCli, parseTeardownArgs, tearDown } from '../../lib/teardown';
import { ProblemsError } from '../../runtime/contract/problems-error';

/** What `describe-stacks` returns for a stack deployed by this version with default options. */
const DEPLOYED_STACK = {
  Parameters: [
    { ParameterKey: 'DestroyData', ParameterValue: 'false' },
    { ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version' },
  ],
  Outputs: [
    { OutputKey: 'BucketName', OutputValue: 'greengrassfirehoseconnector-pipelinebucket-abc' },
    { OutputKey: 'BucketKeptOnDestroy', OutputValue: 'true' },
    { OutputKey: 'ComponentName', OutputValue: 'community.greengrass.FirehoseConnector' },
    { OutputKey: 'ComponentVersion', OutputValue: '0.1.1' },
  ],
};

/** An AWS CLI that records its calls and describes `stack`. */
function fakeAws(stack: object): { aws: AwsCli; calls: string[] } {
  const calls: string[] = [];
  const aws: AwsCli = (args) => {
    calls.push(args.join(' '));
    return args[1] === 'describe-stacks' ? JSON.stringify(stack) : '';
  };
  return { aws, calls };
}

describe('tearDown', () => {
  test('with --delete-data sets DestroyData on the deployed template, keeping the other parameters, then deletes', () => {
    // Prepare
    const { aws, calls } = fakeAws(DEPLOYED_STACK);

    // Act
    tearDown({ deleteData: true, region: 'eu-west-1' }, aws, () => undefined);

    // Assess
    expect(calls.slice(1)).toEqual([
      'cloudformation update-stack --stack-name GreengrassFirehoseConnector --use-previous-template --parameters ' +
        'ParameterKey=DestroyData,ParameterValue=true ParameterKey=BootstrapVersion,UsePreviousValue=true ' +
        '--capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND --region eu-west-1',
      'cloudformation wait stack-update-complete --stack-name GreengrassFirehoseConnector --region eu-west-1',
      'cloudformation delete-stack --stack-name GreengrassFirehoseConnector --region eu-west-1',
      'cloudformation wait stack-delete-complete --stack-name GreengrassFirehoseConnector --region eu-west-1',
    ]);
  });

  test('without --delete-data only deletes the stack and says the buckets stay', () => {
    // Prepare
    const { aws, calls } = fakeAws(DEPLOYED_STACK);

    // Act
    const left = tearDown({ stackName: 'GreengrassFirehoseConnector' }, aws, () => undefined);

    // Assess
    expect(calls.filter((call) => !call.includes('describe-stacks'))).toEqual([
      'cloudformation delete-stack --stack-name GreengrassFirehoseConnector',
      'cloudformation wait stack-delete-complete --stack-name GreengrassFirehoseConnector',
    ]);
    expect(left[0]).toMatch(
      /^Bucket greengrassfirehoseconnector-pipelinebucket-abc .* with the delivered data/,
    );
  });

  test('refuses --delete-data, deleting nothing, for a stack without the DestroyData parameter', () => {
    // Prepare
    const { aws, calls } = fakeAws({ ...DEPLOYED_STACK, Parameters: DEPLOYED_STACK.Parameters.slice(1) });

    // Act & Assess
    expect(() => tearDown({ deleteData: true }, aws, () => undefined)).toThrow(
      'the stack has no DestroyData parameter: it delivers to an existing bucket (bucketName), which it never deletes, or it was deployed before the parameter existed',
    );
    expect(calls).toHaveLength(1);
  });

  test('with --delete-data needs no parameter change when destroyData was deployed', () => {
    // Prepare
    const outputs = DEPLOYED_STACK.Outputs.map((output) =>
      output.OutputKey === 'BucketKeptOnDestroy' ? { ...output, OutputValue: 'false' } : output,
    );
    const { aws, calls } = fakeAws({ Parameters: [], Outputs: outputs });

    // Act
    tearDown({ deleteData: true }, aws, () => undefined);

    // Assess
    expect(calls.some((call) => call.includes('update-stack'))).toBe(false);
    expect(calls).toContain('cloudformation delete-stack --stack-name GreengrassFirehoseConnector');
  });

  test('names the stack, the error and what to check when the stack cannot be read', () => {
    // Prepare
    const aws: AwsCli = () => {
      throw new Error('Stack with id Other does not exist');
    };

    // Act & Assess
    expect(() => tearDown({ stackName: 'Other' }, aws, () => undefined)).toThrow(
      [
        'Cannot read the stack Other:',
        '  - Stack with id Other does not exist',
        '  - check the stack name (--stack-name), the region (--region or AWS_REGION) and the credentials',
      ].join('\n'),
    );
  });
});

describe('parseTeardownArgs', () => {
  test('reports every unknown argument and missing value at once', () => {
    // Act & Assess
    expect(() => parseTeardownArgs(['--stack-name', '--delete', '--region'])).toThrow(ProblemsError);
    expect(() => parseTeardownArgs(['--stack-name', '--delete', '--region'])).toThrow(
      ['Invalid arguments:', '  - --stack-name: needs a value', '  - --region: needs a value'].join('\n'),
    );
  });
});

describe('npm run destroy', () => {
  test('drives the AWS CLI to set DestroyData and delete the stack, and says what stays', () => {
    // Prepare: an aws command that logs its arguments and describes the stack.
    const bin = mkdtempSync(join(tmpdir(), 'fake-aws-'));
    const log = join(bin, 'calls.log');
    writeFileSync(join(bin, 'stack.json'), JSON.stringify(DEPLOYED_STACK));
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/sh\necho "$*" >> "${log}"\nif [ "$2" = describe-stacks ]; then cat "${join(bin, 'stack.json')}"; fi\n`,
    );
    chmodSync(join(bin, 'aws'), 0o755);

    // Act
    const result = spawnSync('npm', ['run', '--silent', 'destroy', '--', '--delete-data', '--force'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.map((call) => call.split(' ').slice(0, 2).join(' '))).toEqual([
      'cloudformation describe-stacks',
      'cloudformation update-stack',
      'cloudformation wait',
      'cloudformation delete-stack',
      'cloudformation wait',
    ]);
    expect(result.stdout).toContain('Deleted. Still there:');
  });

  test('deletes nothing without confirmation when it cannot ask', () => {
    // Act
    const result = spawnSync('npm', ['run', '--silent', 'destroy'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, PATH: `/nonexistent:${process.env.PATH}` },
      input: '',
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('Nothing deleted: confirm, or pass --force.\n');
  });
});
