import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEPLOYMENT_PARAMETER_NAMES } from '../../lib/context';
import { buildRecipe } from '../../lib/recipe';
import { PARAMETER_NAMES } from '../../runtime/contract/parameters';
import { ProblemsError } from '../../runtime/contract/problems-error';
import { localArtifactUri, parseLocalComponentArgs, writeLocalComponent } from '../../lib/local-component';
import { STUB_ARTIFACT, STUB_ENTRY } from './fixtures/constants';

const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/connector';
const NAME = 'community.greengrass.FirehoseConnector';

function outDir(): string {
  return mkdtempSync(join(tmpdir(), 'greengrass-build-'));
}

describe('writeLocalComponent', () => {
  test('writes recipes/NAME-VERSION.json and artifacts/NAME/VERSION/firehose-connector.js', () => {
    // Prepare
    const dir = outDir();

    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      componentVersion: '1.0.0',
      outDir: dir,
      artifactPath: STUB_ARTIFACT,
    });

    // Assess
    expect(component.recipeFile).toBe(join(dir, 'recipes', `${NAME}-1.0.0.json`));
    expect(component.artifactFile).toBe(join(dir, 'artifacts', NAME, '1.0.0', 'firehose-connector.js'));
    expect(readFileSync(component.artifactFile, 'utf8')).toBe(readFileSync(STUB_ARTIFACT, 'utf8'));
  });

  test('writes the recipe the shared function builds, with an artifact URI ending in the artifact file name', () => {
    // Prepare
    const dir = outDir();

    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      outDir: dir,
      artifactPath: STUB_ARTIFACT,
    });

    // Assess
    const recipe = JSON.parse(readFileSync(component.recipeFile, 'utf8'));
    expect(recipe).toEqual(
      buildRecipe({
        componentName: NAME,
        componentVersion: component.componentVersion,
        defaultDeliveryStreamArn: STREAM_ARN,
        artifactUri: localArtifactUri(NAME, component.componentVersion),
      }),
    );
    expect(recipe.Manifests[0].Artifacts[0].URI).toMatch(/\/firehose-connector\.js$/);
    expect(recipe.Manifests[0].Artifacts[0].Digest).toBeUndefined();
  });

  test('grants PublishToIoTCore in the recipe when the parameters turn StatusToIoTCore on', () => {
    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      outDir: outDir(),
      artifactPath: STUB_ARTIFACT,
      parameters: { StatusToIoTCore: 'true' },
    });

    // Assess
    const recipe = JSON.parse(readFileSync(component.recipeFile, 'utf8'));
    expect(Object.keys(recipe.ComponentConfiguration.DefaultConfiguration.accessControl)).toEqual([
      'aws.greengrass.ipc.pubsub',
      'aws.greengrass.ipc.mqttproxy',
    ]);
  });

  test('bundles the entry point when no prebuilt artifact is given', () => {
    // Prepare
    const dir = outDir();

    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      outDir: dir,
      runtimeEntry: STUB_ENTRY,
    });

    // Assess
    const run = spawnSync(process.execPath, [component.artifactFile], { encoding: 'utf8' });
    expect(run.stdout).toBe(`stub connector with parameters: ${PARAMETER_NAMES.length}\n`);
  });

  test('prints the greengrass-cli command with absolute folders, the merge, the configuration and the memory limit', () => {
    // Prepare
    const dir = outDir();

    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      componentVersion: '1.0.0',
      outDir: dir,
      artifactPath: STUB_ARTIFACT,
      parameters: { PublishInterval: '5', MemorySize: '131072' },
    });

    // Assess
    expect(component.command).toBe(
      [
        'sudo /greengrass/v2/bin/greengrass-cli deployment create',
        `  --recipeDir '${dir}/recipes'`,
        `  --artifactDir '${dir}/artifacts'`,
        `  --merge '${NAME}=1.0.0'`,
        `  --update-config '{"${NAME}":{"RESET":["/accessControl"],"MERGE":{"PublishInterval":"5","MemorySize":"131072","DefaultDeliveryStreamArn":"${STREAM_ARN}"}}}'`,
        `  --systemLimits '{"${NAME}":{"memory":131072}}'`,
      ].join(' \\\n'),
    );
  });

  test('limits memory to 128 MiB by default, with MemorySize to match', () => {
    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      outDir: outDir(),
      artifactPath: STUB_ARTIFACT,
    });

    // Assess
    expect(component.command).toContain(`"MemorySize":"131072"`);
    expect(component.command).toContain(`--systemLimits '{"${NAME}":{"memory":131072}}'`);
  });

  test('quotes single quotes in values for the shell', () => {
    // Act
    const component = writeLocalComponent({
      deliveryStreamArn: STREAM_ARN,
      outDir: outDir(),
      artifactPath: STUB_ARTIFACT,
      parameters: { MqttClientId: "it's-me" },
    });

    // Assess
    expect(component.command).toContain(`"MqttClientId":"it'\\''s-me"`);
  });
});

describe('parseLocalComponentArgs', () => {
  test('reads the stream ARN, name, version, parameters and folders', () => {
    // Act
    const options = parseLocalComponentArgs(
      [
        '--delivery-stream-arn',
        STREAM_ARN,
        '--name',
        'com.example.Firehose',
        '--version',
        '2.0.0',
        '--param',
        'PublishInterval=5',
        '--param',
        'MqttBrokerUrl=mqtts://localhost:8883',
        '--out-dir',
        'build',
        '--artifact',
        'dist/firehose-connector.js',
      ],
      {},
    );

    // Assess
    expect(options).toEqual({
      deliveryStreamArn: STREAM_ARN,
      componentName: 'com.example.Firehose',
      componentVersion: '2.0.0',
      parameters: { PublishInterval: '5', MqttBrokerUrl: 'mqtts://localhost:8883' },
      outDir: 'build',
      artifactPath: 'dist/firehose-connector.js',
      greengrassRoot: undefined,
    });
  });

  test('takes the stream ARN from the DefaultDeliveryStreamArn environment variable', () => {
    // Act
    const options = parseLocalComponentArgs([], { DefaultDeliveryStreamArn: STREAM_ARN });

    // Assess
    expect(options.deliveryStreamArn).toBe(STREAM_ARN);
  });

  test('reports every bad argument at once', () => {
    // Act & Assess
    expect(() =>
      parseLocalComponentArgs(
        [
          '--delivery-stream-arn',
          'not-an-arn',
          '--version',
          'v1',
          '--param',
          'PublishInterval=901',
          '--param',
          'Nope=1',
          '--verbose',
        ],
        {},
      ),
    ).toThrow(
      [
        'Invalid arguments:',
        '  - --param PublishInterval: received "901"; allowed: an integer from 0 to 900 (seconds)',
        `  - --param Nope=1: expected NAME=VALUE with NAME one of ${DEPLOYMENT_PARAMETER_NAMES.join(', ')}`,
        '  - --verbose: unknown argument',
        '  - --delivery-stream-arn: received "not-an-arn"; allowed: arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name>',
        '  - --version: received "v1"; allowed: MAJOR.MINOR.PATCH, for example 1.0.1 (Greengrass versions are immutable: bump it for every change)',
      ].join('\n'),
    );
  });

  test('reads parameter values as the runtime does, in their canonical form', () => {
    // Act
    const options = parseLocalComponentArgs(
      ['--param', 'PublishInterval= 30 ', '--param', 'RecordSeparator=\t', '--param', 'MemorySize=262144'],
      { DefaultDeliveryStreamArn: STREAM_ARN },
    );

    // Assess
    expect(options.parameters).toEqual({
      PublishInterval: '30',
      RecordSeparator: '\\t',
      MemorySize: '262144',
    });
  });

  test('refuses a MemorySize below what the connector needs, since it is also the memory limit', () => {
    // Act & Assess
    expect(() =>
      parseLocalComponentArgs(['--param', 'MemorySize=65535'], { DefaultDeliveryStreamArn: STREAM_ARN }),
    ).toThrow(
      '  - --param MemorySize: received "65535"; allowed: at least 128342 KB: it is also the memory limit (--systemLimits), and the connector needs about 76 MiB idle plus its queues',
    );
  });

  test('requires a stream ARN', () => {
    // Act & Assess
    expect(() => parseLocalComponentArgs([], {})).toThrow(ProblemsError);
    expect(() => parseLocalComponentArgs([], {})).toThrow(
      '  - --delivery-stream-arn: required (or set env DefaultDeliveryStreamArn), for example the stack output DeliveryStreamArn',
    );
  });
});

describe('npm run component:local', () => {
  test('writes the folder under greengrass-build and prints the command', () => {
    // Prepare
    const dir = outDir();

    // Act
    const result = spawnSync(
      'npm',
      [
        'run',
        '--silent',
        'component:local',
        '--',
        '--artifact',
        STUB_ARTIFACT,
        '--out-dir',
        dir,
        '--version',
        '3.1.4',
      ],
      {
        cwd: resolve(__dirname, '../..'),
        env: { ...process.env, DefaultDeliveryStreamArn: STREAM_ARN },
        encoding: 'utf8',
      },
    );

    // Assess
    expect(result.status).toBe(0);
    expect(existsSync(join(dir, 'recipes', `${NAME}-3.1.4.json`))).toBe(true);
    expect(result.stdout).toContain(`--merge '${NAME}=3.1.4'`);
  });

  test('exits 2 and lists the problems for bad arguments', () => {
    // Act
    const result = spawnSync('npm', ['run', '--silent', 'component:local', '--', '--version', 'x'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, DefaultDeliveryStreamArn: '' },
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('  - --version: received "x"');
  });
});
