import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applySettings, parseConfigureArgs, unsavedSettings } from '../../lib/configure';
import { synth, THING_GROUP_ARN } from './app-fixture';

const ROOT = resolve(__dirname, '../..');

/** A copy of the repository's cdk.json to configure. */
function cdkJsonCopy(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'configure-')), 'cdk.json');
  copyFileSync(join(ROOT, 'cdk.json'), file);
  return file;
}

function configure(...args: string[]) {
  return spawnSync('npm', ['run', '--silent', 'configure', '--', ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('npm run configure', () => {
  test('saves settings in cdk.json context, keeping the feature flags and the formatting Prettier checks', () => {
    // Prepare
    const file = cdkJsonCopy();

    // Act
    const result = configure(
      '--file',
      file,
      '--target-arn',
      THING_GROUP_ARN,
      '--create-token-exchange-role',
      'true',
    );

    // Assess
    expect(result.status).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.context).toMatchObject({
      targetArn: THING_GROUP_ARN,
      createTokenExchangeRole: 'true',
      '@aws-cdk/core:checkSecretUsage': true,
    });
    const check = spawnSync(join(ROOT, 'node_modules/.bin/prettier'), ['--check', file], {
      encoding: 'utf8',
    });
    expect(check.status).toBe(0);
    expect(result.stdout).toContain('commit it, so that every deploy from any clone uses these settings');
  }, 60_000);

  test('writes nothing when a setting is wrong, reporting it as synth would', () => {
    // Prepare
    const file = cdkJsonCopy();
    const before = readFileSync(file, 'utf8');

    // Act
    const result = configure(
      '--file',
      file,
      '--target-arn',
      'arn:aws:iot:eu-west-1:123456789012:thing/',
      '--publish-interval',
      '5',
    );

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      '  - targetArn: received "arn:aws:iot:eu-west-1:123456789012:thing/"; allowed:',
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  }, 60_000);

  test('removes a saved setting with --unset', () => {
    // Act
    const updated = applySettings(
      { context: { targetArn: THING_GROUP_ARN, PublishInterval: '5' } },
      parseConfigureArgs(['--unset', 'publish-interval']),
    );

    // Assess
    expect(updated.context).toEqual({ targetArn: THING_GROUP_ARN });
  });

  test('refuses unknown settings and allowRemoval, which is for one deploy', () => {
    // Act & Assess
    expect(() =>
      parseConfigureArgs(['--target', 'x', '--allow-removal', 'deployment', '--stack-name']),
    ).toThrow(
      [
        'Invalid arguments:',
        '  - --target: unknown setting',
        '  - allowRemoval: not saved: it is for one deploy: give it as -c allowRemoval=... to the deploy that may remove',
        '  - --stack-name: needs a value',
      ].join('\n'),
    );
  });
});

describe('unsaved settings', () => {
  test('are the guarded settings given on the command line with a value cdk.json does not hold', () => {
    // Act
    const warnings = unsavedSettings(
      (key) => ({ targetArn: THING_GROUP_ARN, deliveryStreamName: 'connector', PublishInterval: '5' })[key],
      { deliveryStreamName: 'connector' },
    );

    // Assess
    expect(warnings).toEqual([
      {
        key: 'targetArn',
        message: `targetArn is given on the command line only: a later deploy without it would remove what it makes, which the stack refuses. Save it: npm run configure -- --target-arn ${THING_GROUP_ARN}`,
      },
    ]);
  });

  test('show as a warning of cdk synth and cdk deploy', () => {
    // Act
    const { stack } = synth({ targetArn: THING_GROUP_ARN }, { warnUnsavedSettings: true });

    // Assess
    Annotations.fromStack(stack).hasWarning(
      '/GreengrassFirehoseConnector',
      Match.stringLikeRegexp(
        '^targetArn is given on the command line only.*\\[ack: firehose-connector:unsaved:targetArn\\]$',
      ),
    );
  });
});
