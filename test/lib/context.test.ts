import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_DATA_OUTPUT_PREFIX, DEFAULT_ERROR_OUTPUT_PREFIX, parseContext } from '../../lib/context';
import {
  MAX_SHUTDOWN_TIMEOUT_SECONDS,
  NUCLEUS_SHUTDOWN_SECONDS,
  PARAMETERS,
  ProblemsError,
  SHUTDOWN_EXIT_SECONDS,
} from '../../runtime/contract';
import { OTHER_STREAM_ARN, STUB_ARTIFACT, THING_GROUP_ARN } from './fixtures/constants';

function parse(context: Record<string, unknown>) {
  return parseContext((key) => context[key], Object.keys(context));
}

describe('parseContext', () => {
  test('applies the documented defaults to an empty context', () => {
    // Act
    const settings = parse({});

    // Assess
    expect(settings).toEqual({
      allowRemoval: [],
      stackName: 'GreengrassFirehoseConnector',
      componentName: 'community.greengrass.FirehoseConnector',
      componentVersion: undefined,
      artifactPath: undefined,
      bucketName: undefined,
      destroyData: false,
      dataExpirationDays: undefined,
      serverAccessLogs: true,
      accessLogExpirationDays: 90,
      deliveryStreamName: undefined,
      bufferingIntervalSeconds: 300,
      bufferingSizeMiB: 5,
      compression: 'GZIP',
      dataOutputPrefix: DEFAULT_DATA_OUTPUT_PREFIX,
      errorOutputPrefix: DEFAULT_ERROR_OUTPUT_PREFIX,
      errorLogging: true,
      errorLogRetentionDays: 30,
      extraDeliveryStreamArns: [],
      tokenExchangeRoleName: undefined,
      createTokenExchangeRole: false,
      tokenExchangeRoleAlias: 'FirehoseConnectorTokenExchangeRoleAlias',
      targetArn: undefined,
      deploymentName: undefined,
      statusBridge: false,
      statusBridgeVersion: '2.3.2',
      statusBridgeBrokerUri: 'tcp://127.0.0.1:1883',
      statusToIoTCore: false,
      metrics: true,
      metricsNamespace: 'GreengrassFirehoseConnector',
      alarmEmail: undefined,
      oldestRecordAgeAlarmSeconds: 900,
      connectorParameters: {},
    });
  });

  test('reads strings from the command line as numbers and booleans', () => {
    // Act
    const settings = parse({
      destroyData: 'true',
      serverAccessLogs: 'false',
      bufferingIntervalSeconds: '60',
    });

    // Assess
    expect(settings).toMatchObject({
      destroyData: true,
      serverAccessLogs: false,
      bufferingIntervalSeconds: 60,
    });
  });

  test('reads typed values from cdk.json', () => {
    // Act
    const settings = parse({
      destroyData: true,
      bufferingSizeMiB: 64,
      extraDeliveryStreamArns: [OTHER_STREAM_ARN],
    });

    // Assess
    expect(settings).toMatchObject({
      destroyData: true,
      bufferingSizeMiB: 64,
      extraDeliveryStreamArns: [OTHER_STREAM_ARN],
    });
  });

  test('splits and de-duplicates a comma-separated list of extra stream ARNs', () => {
    // Act
    const settings = parse({ extraDeliveryStreamArns: `${OTHER_STREAM_ARN}, ${OTHER_STREAM_ARN}` });

    // Assess
    expect(settings.extraDeliveryStreamArns).toEqual([OTHER_STREAM_ARN]);
  });

  test('keeps connector parameters for the deployment as strings', () => {
    // Act
    const settings = parse({ targetArn: THING_GROUP_ARN, MemorySize: 131072, RecordSeparator: '\\n' });

    // Assess
    expect(settings.connectorParameters).toEqual({ MemorySize: '131072', RecordSeparator: '\\n' });
  });

  test('accepts the connector parameter values the runtime accepts, in their canonical form', () => {
    // Act
    const settings = parse({ targetArn: THING_GROUP_ARN, PublishInterval: ' 30 ', RecordSeparator: '\n' });

    // Assess: the runtime reads " 30 " as 30 and a literal newline as the separator \n (test/runtime/config.test.ts).
    expect(settings.connectorParameters).toEqual({ PublishInterval: '30', RecordSeparator: '\\n' });
  });

  test('names the component and the role alias after a stack other than the default one', () => {
    // Act
    const settings = parse({ stackName: 'FirehoseConnectorStaging' });

    // Assess
    expect(settings).toMatchObject({
      componentName: 'community.greengrass.FirehoseConnector.FirehoseConnectorStaging',
      tokenExchangeRoleAlias: 'FirehoseConnectorTokenExchangeRoleAlias-FirehoseConnectorStaging',
    });
  });

  test('accepts the custom prefixes Firehose accepts', () => {
    // Act
    const settings = parse({
      dataOutputPrefix: "year=!{timestamp:yyyy}/day=!{timestamp:yyyy'-'MM'-'dd}/!{firehose:random-string}/",
      errorOutputPrefix: 'failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
    });

    // Assess
    expect(settings.dataOutputPrefix).toBe(
      "year=!{timestamp:yyyy}/day=!{timestamp:yyyy'-'MM'-'dd}/!{firehose:random-string}/",
    );
  });

  test.each([
    [
      'dataOutputPrefix',
      'data/!{timestmap:yyyy}/',
      '!{timestmap:yyyy} has an unknown namespace (timestamp, firehose)',
    ],
    [
      'dataOutputPrefix',
      'data/!{timestamp:yyyy/MM/dd/HH/',
      'the "!{" at character 6 does not start a !{namespace:value} expression',
    ],
    [
      'dataOutputPrefix',
      'data/!{timestamp:yyyy-bb}/',
      `!{timestamp:yyyy-bb} is not a Java date pattern: "b" is not a pattern letter (quote literal text: 'T')`,
    ],
    [
      'dataOutputPrefix',
      'data/!{firehose:error-output-type}/',
      '!{firehose:error-output-type} is only allowed in errorOutputPrefix',
    ],
    [
      'dataOutputPrefix',
      'data/!{partitionKeyFromQuery:customer}/',
      '!{partitionKeyFromQuery:customer} needs dynamic partitioning, which this stack does not use',
    ],
    [
      'errorOutputPrefix',
      'errors/!{timestamp:yyyy}/',
      'it has expressions but no !{firehose:error-output-type}',
    ],
    [
      'errorOutputPrefix',
      'errors/!{firehose:random}/',
      '!{firehose:random} is not a firehose expression (random-string, error-output-type)',
    ],
  ])('rejects %s %j, saying why', (key, value, reason) => {
    // Act & Assess
    expect(() => parse({ [key]: value })).toThrow(`${key}: received ${JSON.stringify(value)}; allowed: `);
    expect(() => parse({ [key]: value })).toThrow(`(${reason})`);
  });

  test('derives the status bridge broker URI from an mqtts broker URL', () => {
    // Act
    const settings = parse({
      targetArn: THING_GROUP_ARN,
      statusBridge: 'true',
      InputSource: 'mqtt',
      MqttBrokerUrl: 'mqtts://localhost:8883',
    });

    // Assess
    expect(settings.statusBridgeBrokerUri).toBe('ssl://localhost:8883');
  });

  test('accepts an existing prebuilt artifact', () => {
    // Act
    const settings = parse({ artifactPath: STUB_ARTIFACT });

    // Assess
    expect(settings.artifactPath).toBe(STUB_ARTIFACT);
  });

  test('rejects out-of-range numbers, unknown choices and bad booleans, naming each key, value and range', () => {
    // Act & Assess
    expect(() =>
      parse({
        bufferingIntervalSeconds: '901',
        bufferingSizeMiB: 0,
        compression: 'gzip',
        destroyData: 'yes',
        errorLogRetentionDays: '9999',
        dataExpirationDays: '1.5',
      }),
    ).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - destroyData: received "yes"; allowed: true or false',
        '  - dataExpirationDays: received "1.5"; allowed: an integer from 1 to 36500 (days)',
        '  - bufferingIntervalSeconds: received "901"; allowed: an integer from 0 to 900 (seconds)',
        '  - bufferingSizeMiB: received 0; allowed: an integer from 1 to 128 (MiB)',
        '  - compression: received "gzip"; allowed: one of GZIP, UNCOMPRESSED, SNAPPY, HADOOP_SNAPPY, ZIP',
        '  - errorLogRetentionDays: received "9999"; allowed: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
      ].join('\n'),
    );
  });

  test('rejects component names reserved for AWS and versions that are not MAJOR.MINOR.PATCH', () => {
    // Act & Assess
    expect(() => parse({ componentName: 'aws.greengrass.Firehose', componentVersion: '1.0' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - componentName: received "aws.greengrass.Firehose"; allowed: 1 to 128 letters, digits, ".", "_" or "-", not starting with "aws.greengrass" (reserved)',
        '  - componentVersion: received "1.0"; allowed: MAJOR.MINOR.PATCH, for example 1.0.1 (Greengrass versions are immutable: bump it for every change)',
      ].join('\n'),
    );
  });

  test('rejects malformed ARNs and names', () => {
    // Act & Assess
    expect(() =>
      parse({
        targetArn: 'arn:aws:iot:eu-west-1:123456789012:policy/x',
        extraDeliveryStreamArns: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/*',
        bucketName: 'My_Bucket',
        tokenExchangeRoleName: 'role with spaces',
      }),
    ).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - bucketName: received "My_Bucket"; allowed: an S3 bucket name: 3 to 63 lowercase letters, digits, "." or "-"',
        '  - extraDeliveryStreamArns: received "arn:aws:firehose:eu-west-1:123456789012:deliverystream/*"; allowed: comma-separated delivery stream ARNs arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name> (no wildcards)',
        '  - tokenExchangeRoleName: received "role with spaces"; allowed: an IAM role name: 1 to 64 letters, digits or +=,.@_-',
        '  - targetArn: received "arn:aws:iot:eu-west-1:123456789012:policy/x"; allowed: arn:<partition>:iot:<region>:<account>:thing/<name> or ...:thinggroup/<name>',
      ].join('\n'),
    );
  });

  test('rejects an error prefix with expressions but without the error output type', () => {
    // Act & Assess
    expect(() => parse({ errorOutputPrefix: 'errors/!{timestamp:yyyy}/' })).toThrow(
      '  - errorOutputPrefix: received "errors/!{timestamp:yyyy}/"; allowed: an S3 key prefix of 1 to 1024 characters; if it uses expressions it must contain !{firehose:error-output-type}',
    );
  });

  test('rejects connector parameters outside the shared ranges', () => {
    // Act & Assess
    expect(() =>
      parse({
        targetArn: THING_GROUP_ARN,
        PublishInterval: '901',
        MemorySize: '1024',
        LogLevel: 'trace',
        MqttCaFile: 'relative/ca.pem',
      }),
    ).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - MemorySize: received "1024"; allowed: an integer from 32768 to 16777216 (KB)',
        '  - PublishInterval: received "901"; allowed: an integer from 0 to 900 (seconds)',
        '  - MqttCaFile: received "relative/ca.pem"; allowed: a readable file path (an absolute path on the device)',
        '  - LogLevel: received "trace"; allowed: one of "debug", "info", "warn", "error"',
      ].join('\n'),
    );
  });

  test('rejects a ShutdownTimeoutSeconds that a nucleus restart would cut off, and takes the longest that fits', () => {
    // Prepare: the nucleus gives all components 30 s together when it restarts.
    const longest = Math.min(PARAMETERS.ShutdownTimeoutSeconds.max, MAX_SHUTDOWN_TIMEOUT_SECONDS);

    // Act
    const settings = parse({ targetArn: THING_GROUP_ARN, ShutdownTimeoutSeconds: String(longest) });

    // Assess
    expect(longest + SHUTDOWN_EXIT_SECONDS).toBeLessThanOrEqual(NUCLEUS_SHUTDOWN_SECONDS - 4);
    expect(settings.connectorParameters.ShutdownTimeoutSeconds).toBe(String(longest));
    expect(() => parse({ targetArn: THING_GROUP_ARN, ShutdownTimeoutSeconds: String(longest + 1) })).toThrow(
      `  - ShutdownTimeoutSeconds: received "${longest + 1}"; allowed: `,
    );
  });

  test('rejects connector parameters and the status bridge without a deployment target', () => {
    // Act & Assess
    expect(() => parse({ PublishInterval: '5', statusBridge: 'true' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - PublishInterval: received "5"; allowed: connector parameters only take effect in the deployment this stack creates; also pass -c targetArn=<thing or thing group ARN>, or set them in your own deployment',
        '  - statusBridge: received "true"; allowed: true only together with -c targetArn=<thing or thing group ARN>',
      ].join('\n'),
    );
  });

  test('rejects DefaultDeliveryStreamArn, which is always the stack stream', () => {
    // Act & Assess
    expect(() => parse({ targetArn: THING_GROUP_ARN, DefaultDeliveryStreamArn: OTHER_STREAM_ARN })).toThrow(
      `  - DefaultDeliveryStreamArn: received "${OTHER_STREAM_ARN}"; allowed: not settable here: it is always the delivery stream this stack creates (list other streams in extraDeliveryStreamArns)`,
    );
  });

  test('rejects a WebSocket broker for the status bridge unless a bridge broker URI is given', () => {
    // Act & Assess
    expect(() =>
      parse({ targetArn: THING_GROUP_ARN, statusBridge: true, MqttBrokerUrl: 'ws://127.0.0.1:8080' }),
    ).toThrow(
      '  - statusBridgeBrokerUri: received nothing; allowed: tcp://HOST:PORT or ssl://HOST:PORT (the MQTT bridge cannot use WebSockets); required because MqttBrokerUrl "ws://127.0.0.1:8080" is not mqtt:// or mqtts://',
    );
  });

  test('rejects the StatusToIoTCore parameter, pointing to the statusToIoTCore switch', () => {
    // Act & Assess
    expect(() => parse({ targetArn: THING_GROUP_ARN, StatusToIoTCore: 'true' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - StatusToIoTCore: received "true"; allowed: not settable here: use -c statusToIoTCore=true, which also grants PublishToIoTCore in the recipe and creates the AWS IoT policy',
      ].join('\n'),
    );
  });

  test('rejects the MetricsNamespace parameter, pointing to the metricsNamespace key', () => {
    // Act & Assess
    expect(() => parse({ targetArn: THING_GROUP_ARN, MetricsNamespace: 'Mine' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - MetricsNamespace: received "Mine"; allowed: not settable here: use -c metricsNamespace=..., which also sets the namespace the devices may publish to and the dashboard and alarms read',
      ].join('\n'),
    );
  });

  test('rejects a metrics namespace the runtime would refuse, and an alarm e-mail that is no address', () => {
    // Act & Assess
    expect(() => parse({ metricsNamespace: 'AWS/Firehose', alarmEmail: 'ops' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - metricsNamespace: received "AWS/Firehose"; allowed: 1 to 255 printable ASCII characters, not starting with "AWS/" or ":"',
        '  - alarmEmail: received "ops"; allowed: an e-mail address',
      ].join('\n'),
    );
  });

  test('rejects the status bridge while input comes over IPC, the component default', () => {
    // Act & Assess
    expect(() => parse({ targetArn: THING_GROUP_ARN, statusBridge: 'true' })).toThrow(
      '  - statusBridge: received "true"; allowed: only with -c InputSource=mqtt or both: the bridge relays statuses from the MQTT broker, and the component takes input over IPC by default (for statuses to AWS IoT Core without a broker, use -c statusToIoTCore=true)',
    );
    expect(
      parse({ targetArn: THING_GROUP_ARN, statusBridge: 'true', InputSource: 'both' }).statusBridge,
    ).toBe(true);
  });

  test('rejects the status bridge together with statusToIoTCore', () => {
    // Act & Assess
    expect(() =>
      parse({
        targetArn: THING_GROUP_ARN,
        statusBridge: 'true',
        InputSource: 'mqtt',
        statusToIoTCore: 'true',
      }),
    ).toThrow(
      '  - statusBridge: received "true"; allowed: not together with statusToIoTCore: both send the statuses to AWS IoT Core',
    );
  });

  test('rejects a role alias without creating the role', () => {
    // Act & Assess
    expect(() => parse({ tokenExchangeRoleAlias: 'MyAlias' })).toThrow(
      '  - tokenExchangeRoleAlias: received "MyAlias"; allowed: only together with -c createTokenExchangeRole=true',
    );
  });

  test('rejects a misspelt key instead of ignoring it', () => {
    // Act & Assess
    expect(() => parse({ destoryData: 'true', BufferingSizeMiB: '8' })).toThrow(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - destoryData: unknown key; allowed: did you mean "destroyData"?',
        '  - BufferingSizeMiB: unknown key; allowed: did you mean "bufferingSizeMiB"?',
      ].join('\n'),
    );
  });

  test('ignores unrelated keys such as feature flags', () => {
    // Act & Assess
    expect(() => parse({ '@aws-cdk/aws-iam:minimizePolicies': true, 'cli-telemetry': false })).not.toThrow();
  });

  test('reports problems as one ProblemsError listing each one', () => {
    // Act
    let error: unknown;
    try {
      parse({ compression: 'lz4', bufferingSizeMiB: '500' });
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(ProblemsError);
    expect((error as ProblemsError).problems).toHaveLength(2);
  });
});

describe('the CDK app', () => {
  test('prints every context problem and exits 1 instead of synthesizing', () => {
    // Act
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ compression: 'lz4', bufferingSizeMiB: '500' }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
      },
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      [
        'Invalid CDK context (set with -c key=value or in cdk.json "context"):',
        '  - bufferingSizeMiB: received "500"; allowed: an integer from 1 to 128 (MiB)',
        '  - compression: received "lz4"; allowed: one of GZIP, UNCOMPRESSED, SNAPPY, HADOOP_SNAPPY, ZIP',
        '',
      ].join('\n'),
    );
  });
});
