import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAccessControl } from '../../lib/access-control';
import {
  artifactFileNameOf,
  buildRecipe,
  lifecycleEnvironment,
  parametersWithoutDefault,
  runScript,
} from '../../lib/recipe';
import { CONNECTOR_NODE_OPTIONS } from '../../runtime/node-options';
import { defaultParameterValues, PARAMETER_NAMES } from '../../runtime/parameters';
import { STUB_ARTIFACT } from './fixtures/constants';

const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/connector';
const ARTIFACT_URI = 's3://bucket/community.example.Connector/1.2.3/firehose-connector.js';

function recipe() {
  return buildRecipe({
    componentName: 'community.example.Connector',
    componentVersion: '1.2.3',
    defaultDeliveryStreamArn: STREAM_ARN,
    artifactUri: ARTIFACT_URI,
  });
}

describe('buildRecipe', () => {
  test('uses recipe format 2020-01-25 with the given component name and version', () => {
    // Act
    const result = recipe();

    // Assess
    expect(result).toMatchObject({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: 'community.example.Connector',
      ComponentVersion: '1.2.3',
      ComponentType: 'aws.greengrass.generic',
    });
  });

  test('sets DefaultConfiguration to the shared parameter defaults with IPC input and the stream ARN, all strings', () => {
    // Act
    const { accessControl, ...parameters } = recipe().ComponentConfiguration.DefaultConfiguration;

    // Assess
    expect(parameters).toEqual({
      ...defaultParameterValues(),
      InputSource: 'ipc',
      StatusToIoTCore: 'false',
      DefaultDeliveryStreamArn: STREAM_ARN,
    });
    expect(Object.entries(parameters).filter(([, value]) => typeof value !== 'string')).toEqual([]);
    expect(accessControl).toEqual(buildAccessControl({ componentName: 'community.example.Connector' }));
  });

  test('depends hard on any 2.x token exchange service', () => {
    // Act
    const dependencies = recipe().ComponentDependencies;

    // Assess
    expect(dependencies).toEqual({
      'aws.greengrass.TokenExchangeService': { VersionRequirement: '^2.0.0', DependencyType: 'HARD' },
    });
  });

  test('has one Linux manifest whose artifact is the given URI, readable by the component user only', () => {
    // Act
    const manifests = recipe().Manifests;

    // Assess
    expect(manifests).toHaveLength(1);
    expect(manifests[0].Platform).toEqual({ os: 'linux' });
    expect(manifests[0].Artifacts).toEqual([
      { URI: ARTIFACT_URI, Unarchive: 'NONE', Permission: { Read: 'OWNER', Execute: 'NONE' } },
    ]);
  });

  test('passes every parameter as an environment variable of the same name, plus the work folder', () => {
    // Act
    const setenv = recipe().Manifests[0].Lifecycle.Setenv;

    // Assess
    const expected = Object.fromEntries(PARAMETER_NAMES.map((name) => [name, `{configuration:/${name}}`]));
    expect(setenv).toEqual({ ...expected, FIREHOSE_CONNECTOR_WORK_DIR: '{work:path}' });
  });

  test('runs the artifact named by the URI with exec node, without privileges', () => {
    // Act
    const run = recipe().Manifests[0].Lifecycle.Run;

    // Assess
    expect(run.RequiresPrivilege).toBe(false);
    expect(run.Script.trimEnd().split('\n').pop()).toBe(
      `exec node ${CONNECTOR_NODE_OPTIONS.join(' ')} "{artifacts:path}/firehose-connector.js"`,
    );
  });

  test('grants local publish/subscribe only, unless statuses go to AWS IoT Core', () => {
    // Act
    const plain = recipe().ComponentConfiguration.DefaultConfiguration;
    const withIoTCore = buildRecipe({
      componentName: 'community.example.Connector',
      componentVersion: '1.2.3',
      defaultDeliveryStreamArn: STREAM_ARN,
      artifactUri: ARTIFACT_URI,
      statusToIoTCore: true,
    }).ComponentConfiguration.DefaultConfiguration;

    // Assess
    expect(Object.keys(plain.accessControl)).toEqual(['aws.greengrass.ipc.pubsub']);
    expect(Object.keys(withIoTCore.accessControl)).toEqual([
      'aws.greengrass.ipc.pubsub',
      'aws.greengrass.ipc.mqttproxy',
    ]);
    expect(withIoTCore.StatusToIoTCore).toBe('true');
  });

  test('keeps CDK tokens in place so the stack can serialise them', () => {
    // Act
    const result = buildRecipe({
      componentName: 'community.example.Connector',
      componentVersion: '1.2.3',
      defaultDeliveryStreamArn: '${Token[TOKEN.1]}',
      artifactUri: 's3://${Token[TOKEN.2]}/abc123.js',
    });

    // Assess
    expect(result.ComponentConfiguration.DefaultConfiguration.DefaultDeliveryStreamArn).toBe(
      '${Token[TOKEN.1]}',
    );
    expect(result.Manifests[0].Lifecycle.Run.Script).toContain('"{artifacts:path}/abc123.js"');
  });
});

describe('artifactFileNameOf', () => {
  test('rejects a URI that does not end in a .js file name', () => {
    // Act & Assess
    expect(() => artifactFileNameOf('s3://bucket/artifact.zip')).toThrow(
      `Artifact URI must end in a .js file name (letters, digits, '.', '_', '-'); received "s3://bucket/artifact.zip".`,
    );
  });
});

describe('lifecycle placeholders', () => {
  test('the only placeholders the nucleus would interpolate in the Run script are the artifact path', () => {
    // Act
    const script = runScript('community.example.Connector', 'firehose-connector.js');

    // Assess: the nucleus interpolates {namespace:key} anywhere in the lifecycle.
    expect(script.match(/\{[.\w]+:[^:}]+\}/g)).toEqual(['{artifacts:path}']);
  });

  test('every Setenv parameter without a DefaultConfiguration value is unset by the Run script when absent', () => {
    // Act
    const result = recipe();
    const manifest = result.Manifests[0];

    // Assess
    const configured = Object.keys(result.ComponentConfiguration.DefaultConfiguration);
    const unbacked = PARAMETER_NAMES.filter((name) => !configured.includes(name));
    expect(parametersWithoutDefault()).toEqual(unbacked);
    for (const name of unbacked) {
      expect(manifest.Lifecycle.Run.Script).toContain(
        `case "\${${name}-}" in "{configuration"*) unset ${name} ;; esac`,
      );
    }
  });

  test('every Setenv value is a placeholder the nucleus resolves', () => {
    // Act
    const values = Object.values(lifecycleEnvironment());

    // Assess
    expect(values.every((value) => /^\{(configuration:\/\w+|work:path)\}$/.test(value))).toBe(true);
  });
});

/** Runs the Run script as the nucleus would after interpolation: sh -c, with Setenv applied. */
function runLifecycle(path: string, env: Record<string, string>) {
  const artifactDir = mkdtempSync(join(tmpdir(), 'artifacts-'));
  writeFileSync(join(artifactDir, 'firehose-connector.js'), `require(${JSON.stringify(STUB_ARTIFACT)});\n`);
  const script = runScript('community.example.Connector', 'firehose-connector.js').replace(
    '{artifacts:path}',
    artifactDir,
  );
  return spawnSync('/bin/sh', ['-c', script], { env: { PATH: path, ...env }, encoding: 'utf8' });
}

function fakeNode(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-node-'));
  const node = join(dir, 'node');
  writeFileSync(node, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo ${version}; exit 0; fi\nexit 1\n`);
  chmodSync(node, 0o755);
  return `${dir}:/usr/bin:/bin`;
}

describe('Run script', () => {
  const nodeDir = process.execPath.replace(/\/node$/, '');

  test('exits 1 with a clear message when node is not on the PATH', () => {
    // Act
    const result = runLifecycle('/nonexistent', {});

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'community.example.Connector needs Node.js 20 or later on the PATH of the user that runs it (ggc_user by default), but node was not found.',
    );
  });

  test('exits 1 naming the version found when node is older than 20', () => {
    // Act
    const result = runLifecycle(fakeNode('v18.19.1'), {});

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/needs Node\.js 20 or later .*, but \/.*\/node is v18\.19\.1\./);
  });

  test('starts the artifact with the parameters as environment variables', () => {
    // Act
    const result = runLifecycle(`${nodeDir}:/usr/bin:/bin`, { PublishInterval: '5', LogLevel: 'debug' });

    // Assess
    expect(result.status).toBe(0);
    const started = JSON.parse(result.stdout);
    expect(started.env).toMatchObject({ PublishInterval: '5', LogLevel: 'debug' });
  });

  test('unsets optional parameters the nucleus left uninterpolated and keeps those with values', () => {
    // Act
    const result = runLifecycle(`${nodeDir}:/usr/bin:/bin`, {
      MqttCaFile: '{configuration:/MqttCaFile}',
      MqttCertFile: '/greengrass/v2/certs/client.pem',
    });

    // Assess
    const started = JSON.parse(result.stdout);
    expect(started.env.MqttCaFile).toBeUndefined();
    expect(started.env.MqttCertFile).toBe('/greengrass/v2/certs/client.pem');
  });
});
