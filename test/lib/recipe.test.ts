import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAccessControl } from '../../lib/access-control';
import {
  artifactFileNameOf,
  buildRecipe,
  lifecycleEnvironment,
  parametersWithoutDefault,
  runScript,
  shutdownScript,
} from '../../lib/recipe';
import {
  CONNECTOR_ENVIRONMENT,
  CONNECTOR_NODE_OPTIONS,
  defaultParameterValues,
  MIN_OLD_SPACE_MIB,
  oldSpaceMiB,
  PARAMETER_NAMES,
  PARAMETERS,
  SHUTDOWN_EXIT_SECONDS,
} from '../../runtime/contract';
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

  test('sets DefaultConfiguration to the shared parameter defaults with IPC input, packing and the stream ARN, all strings', () => {
    // Act
    const { accessControl, ...parameters } = recipe().ComponentConfiguration.DefaultConfiguration;

    // Assess
    expect(parameters).toEqual({
      ...defaultParameterValues(),
      InputSource: 'ipc',
      RecordPacking: 'default-stream',
      RecordSeparator: '\\n',
      StatusToIoTCore: 'false',
      DefaultDeliveryStreamArn: STREAM_ARN,
    });
    expect(Object.entries(parameters).filter(([, value]) => typeof value !== 'string')).toEqual([]);
    expect(accessControl).toEqual(buildAccessControl({ componentName: 'community.example.Connector' }));
  });

  test('depends hard on any 2.x token exchange service and soft on a 2.x nucleus from 2.6.0', () => {
    // Act
    const dependencies = recipe().ComponentDependencies;

    // Assess: 2.6.0 brought wildcard local subscriptions and the message's topic (binary/#), 2.4.0 the memory limit.
    expect(dependencies).toEqual({
      'aws.greengrass.TokenExchangeService': { VersionRequirement: '^2.0.0', DependencyType: 'HARD' },
      'aws.greengrass.Nucleus': { VersionRequirement: '>=2.6.0 <3.0.0', DependencyType: 'SOFT' },
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
      `exec node ${CONNECTOR_NODE_OPTIONS.join(' ')} --max-old-space-size="$old_space_mib" "{artifacts:path}/firehose-connector.js"`,
    );
  });

  test.each(['131072', ' 262144 ', '65535', '1048576', '', 'not-a-number'])(
    'gives Node.js the old generation oldSpaceMiB gives for MemorySize %j, and limits glibc arenas',
    (memorySize) => {
      // Prepare: the script up to its exec, with the exec replaced by a print of what it would run with.
      const script = recipe().Manifests[0].Lifecycle.Run.Script.split('\n');
      const setup = script
        .slice(
          script.findIndex((line) => line.startsWith('old_space_mib=')),
          -2,
        )
        .join('\n');

      // Act
      const printed = execFileSync('sh', ['-c', `${setup}\necho "$old_space_mib $MALLOC_ARENA_MAX"`], {
        env: { PATH: process.env.PATH, MemorySize: memorySize },
        encoding: 'utf8',
      });

      // Assess
      const number = Number(memorySize.trim());
      const expected =
        memorySize.trim() === '' || Number.isNaN(number) ? MIN_OLD_SPACE_MIB : oldSpaceMiB(number);
      expect(printed.trim()).toBe(`${expected} ${CONNECTOR_ENVIRONMENT.MALLOC_ARENA_MAX}`);
    },
  );

  test('stops the connector in a Shutdown step that may outlast the longest flush and the exit after it', () => {
    // Act
    const shutdown = recipe().Manifests[0].Lifecycle.Shutdown;

    // Assess: the longest ShutdownTimeoutSeconds, the time the connector takes to exit after it, 4 s for the script.
    expect(shutdown).toEqual({
      Script: shutdownScript('community.example.Connector'),
      RequiresPrivilege: false,
      Timeout: PARAMETERS.ShutdownTimeoutSeconds.max + SHUTDOWN_EXIT_SECONDS + 4,
    });
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

  test('the Shutdown script has no placeholder the nucleus would interpolate', () => {
    // Act
    const script = shutdownScript('community.example.Connector');

    // Assess
    expect(script.match(/\{[.\w-]+:[^}]*\}/g)).toBeNull();
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
    expect(values.filter((value) => !/^\{(configuration:\/\w+|work:path)\}$/.test(value))).toEqual([]);
  });
});

/** Runs the Run script as the nucleus would after interpolation: sh -c in the work folder, with Setenv applied. */
function runLifecycle(path: string, env: Record<string, string>) {
  const artifactDir = mkdtempSync(join(tmpdir(), 'artifacts-'));
  const workDir = mkdtempSync(join(tmpdir(), 'work-'));
  writeFileSync(join(artifactDir, 'firehose-connector.js'), `require(${JSON.stringify(STUB_ARTIFACT)});\n`);
  const script = runScript('community.example.Connector', 'firehose-connector.js').replace(
    '{artifacts:path}',
    artifactDir,
  );
  const result = spawnSync('/bin/sh', ['-c', script], {
    cwd: workDir,
    env: { PATH: path, FIREHOSE_CONNECTOR_WORK_DIR: workDir, ...env },
    encoding: 'utf8',
  });
  return { ...result, workDir };
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

  test('starts on Node.js 20, warning that the line is past its end of life', () => {
    // Act
    const result = runLifecycle(fakeNode('v20.20.2'), {});

    // Assess: the stub node then fails to run the artifact, which is not what this test is about.
    expect(result.stderr).not.toContain('needs Node.js');
    expect(result.stderr).toMatch(
      /community\.example\.Connector: \/.*\/node is Node\.js v20\.20\.2, past its end of life; the supported lines are 22 and later/,
    );
    expect(readFileSync(join(result.workDir, 'firehose-connector.pid'), 'utf8')).toMatch(/^\d+\n$/);
  });

  test('starts on a supported line without a warning', () => {
    // Act
    const result = runLifecycle(fakeNode('v22.23.5'), {});

    // Assess
    expect(result.stderr).not.toMatch(/needs Node\.js|end of life/);
  });

  test('starts the artifact with the parameters as environment variables', () => {
    // Act
    const result = runLifecycle(`${nodeDir}:/usr/bin:/bin`, { PublishInterval: '5', LogLevel: 'debug' });

    // Assess
    expect(result.status).toBe(0);
    const started = JSON.parse(result.stdout);
    expect(started.env).toMatchObject({ PublishInterval: '5', LogLevel: 'debug' });
  });

  test('records the process id of the connector in the work folder for the Shutdown step', () => {
    // Act
    const result = runLifecycle(`${nodeDir}:/usr/bin:/bin`, {});

    // Assess: exec makes the shell's process id the connector's.
    const started = JSON.parse(result.stdout);
    expect(readFileSync(join(result.workDir, 'firehose-connector.pid'), 'utf8')).toBe(`${started.pid}\n`);
  });

  test('records no process id when Node.js is missing, so the Shutdown step has nothing to stop', () => {
    // Act
    const result = runLifecycle('/nonexistent', {});

    // Assess
    expect(existsSync(join(result.workDir, 'firehose-connector.pid'))).toBe(false);
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

describe('Shutdown script', () => {
  /** A `sleep` that takes `seconds` whatever it is asked: a slow or loaded device. */
  function slowSleep(seconds: number): string {
    const dir = mkdtempSync(join(tmpdir(), 'slow-sleep-'));
    writeFileSync(join(dir, 'sleep'), `#!/bin/sh\nexec /bin/sleep ${seconds}\n`);
    chmodSync(join(dir, 'sleep'), 0o755);
    return `${dir}:/usr/bin:/bin`;
  }

  test('gives up after ShutdownTimeoutSeconds plus the exit time as elapsed, however long each sleep takes', () => {
    // Prepare: a process of this component that ignores SIGTERM, and a work folder naming it.
    const workDir = mkdtempSync(join(tmpdir(), 'work-'));
    const stubborn = spawn('/bin/sh', [
      '-c',
      'trap "" TERM; while :; do /bin/sleep 1; done',
      '/greengrass/v2/packages/artifacts/community.example.Connector/1.2.3/firehose-connector.js',
    ]);
    writeFileSync(join(workDir, 'firehose-connector.pid'), `${stubborn.pid}\n`);
    const started = Date.now();

    try {
      // Act: each sleep takes 1 s where the script asks for 0.2 s.
      const result = spawnSync('/bin/sh', ['-c', shutdownScript('community.example.Connector')], {
        cwd: workDir,
        env: { PATH: slowSleep(1), FIREHOSE_CONNECTOR_WORK_DIR: workDir, ShutdownTimeoutSeconds: '0' },
        encoding: 'utf8',
        timeout: 40_000,
      });

      // Assess: a loop that counted iterations would have waited 30 s.
      const elapsedSeconds = (Date.now() - started) / 1000;
      expect(result.status).toBe(0);
      expect(elapsedSeconds).toBeGreaterThanOrEqual(SHUTDOWN_EXIT_SECONDS - 1);
      expect(elapsedSeconds).toBeLessThan(SHUTDOWN_EXIT_SECONDS + 3);
      expect(result.stderr).toMatch(
        /^The connector is still running after [67] s; the nucleus stops it now\.\n$/,
      );
    } finally {
      stubborn.kill('SIGKILL');
    }
  }, 45_000);
});
