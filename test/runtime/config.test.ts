import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../runtime/config';
import {
  MIN_QUEUE_BYTE_BUDGET,
  QUEUE_SHARE_OF_FREE_MEMORY,
  RUNTIME_RESERVE_BYTES,
} from '../../runtime/contract/memory';
import { ProblemsError } from '../../runtime/contract/problems-error';
import { MAX_SHUTDOWN_TIMEOUT_SECONDS, WORK_DIR_ENV } from '../../runtime/contract/component';

const ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/my-stream';

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ProblemsError && error.heading === 'Invalid configuration') return error.problems;
    throw error;
  }
  throw new Error('expected a ProblemsError listing configuration problems');
}

function configFile(contents: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'config-test-')), 'config.json');
  writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return file;
}

describe('loadConfig', () => {
  it('applies the seed defaults when only the stream ARN is given', () => {
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN } });

    expect(config.defaultDeliveryStream).toEqual({
      arn: ARN,
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      name: 'my-stream',
    });
    expect(config.deliveryStreamQueueSize).toBe(5000);
    expect(config.memorySizeKb).toBe(65535);
    expect(config.publishIntervalSeconds).toBe(10);
    expect(config.recordSeparator.length).toBe(0);
    expect(config.recordPacking).toBe('off');
    expect(config.mqtt.brokerUrl).toBe('mqtt://127.0.0.1:1883');
  });

  it('refuses a RecordPacking value other than off, default-stream and all-streams', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { DefaultDeliveryStreamArn: ARN, RecordPacking: 'true' } }),
    );

    expect(problems).toEqual([
      'RecordPacking is "true"; expected one of "off", "default-stream", "all-streams"',
    ]);
  });

  it('accepts numbers given as strings, as Greengrass configuration delivers them', () => {
    const config = loadConfig({
      env: {
        DefaultDeliveryStreamArn: ARN,
        DeliveryStreamQueueSize: '2000',
        PublishInterval: '0',
        MemorySize: '131072',
      },
    });

    expect(config.deliveryStreamQueueSize).toBe(2000);
    expect(config.publishIntervalSeconds).toBe(0);
    expect(config.queueByteBudget).toBe(
      Math.floor((131072 * 1024 - RUNTIME_RESERVE_BYTES) * QUEUE_SHARE_OF_FREE_MEMORY),
    );
    expect(config.memorySizeTooSmall).toBe(false);
  });

  it('reads numbers with surrounding whitespace, as the CDK app accepts them', () => {
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN, PublishInterval: ' 30 ' } });

    expect(config.publishIntervalSeconds).toBe(30);
  });

  it('prints every problem under one heading', () => {
    expect(() => loadConfig({ env: { PublishInterval: '901' } })).toThrow(
      [
        'Invalid configuration:',
        '  - DefaultDeliveryStreamArn is required: arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name>',
        '  - PublishInterval is "901"; expected an integer from 0 to 900 (seconds)',
      ].join('\n'),
    );
  });

  it('rejects a relative TLS file path, which would depend on the working folder', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { DefaultDeliveryStreamArn: ARN, MqttCaFile: 'ca.pem' } }),
    );

    expect(problems).toEqual([
      'MqttCaFile is "ca.pem"; expected a readable file path (an absolute path on the device)',
    ]);
  });

  it('reads a JSON file and lets environment variables win over it', () => {
    const file = configFile({
      DefaultDeliveryStreamArn: ARN,
      PublishInterval: 5,
      DeliveryStreamQueueSize: 3000,
    });

    const config = loadConfig({ file, env: { PublishInterval: '7' } });

    expect(config.publishIntervalSeconds).toBe(7);
    expect(config.deliveryStreamQueueSize).toBe(3000);
  });

  it.each([
    ['aws-cn', 'arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/s'],
    ['aws-us-gov', 'arn:aws-us-gov:firehose:us-gov-west-1:123456789012:deliverystream/s'],
    ['a two-part region', 'arn:aws:firehose:ap-southeast-3:123456789012:deliverystream/s.1_x-y'],
  ])('accepts a stream ARN in %s', (_, arn) => {
    expect(loadConfig({ env: { DefaultDeliveryStreamArn: arn } }).defaultDeliveryStream.arn).toBe(arn);
  });

  it('reports every invalid parameter at once with its value and valid range', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          DefaultDeliveryStreamArn: 'arn:aws:s3:::bucket',
          DeliveryStreamQueueSize: '1999',
          PublishInterval: '901',
          MemorySize: 'lots',
          RecordSeparator: ';',
        },
      }),
    );

    expect(problems).toEqual([
      'DefaultDeliveryStreamArn is "arn:aws:s3:::bucket"; expected arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name>',
      'DeliveryStreamQueueSize is "1999"; expected an integer from 2000 to 10000000 (records)',
      'MemorySize is "lots"; expected an integer from 32768 to 16777216 (KB)',
      'PublishInterval is "901"; expected an integer from 0 to 900 (seconds)',
      'RecordSeparator is ";"; expected one of "", "\\\\n", "\\\\r\\\\n", ",", "\\\\t"',
    ]);
  });

  it('names DefaultDeliveryStreamArn when it is missing', () => {
    expect(problemsOf(() => loadConfig({ env: {} }))).toEqual([
      'DefaultDeliveryStreamArn is required: arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name>',
    ]);
  });

  it('rejects fractional and negative numbers', () => {
    const problems = problemsOf(() =>
      loadConfig({
        file: configFile({
          DefaultDeliveryStreamArn: ARN,
          PublishInterval: 1.5,
          DeliveryStreamQueueSize: -1,
        }),
      }),
    );

    expect(problems).toEqual([
      'DeliveryStreamQueueSize is -1; expected an integer from 2000 to 10000000 (records)',
      'PublishInterval is 1.5; expected an integer from 0 to 900 (seconds)',
    ]);
  });

  it('reports an unknown parameter in the file, so a typo is not silently ignored', () => {
    const file = configFile({ DefaultDeliveryStreamArn: ARN, PublishIntervall: 5 });

    expect(problemsOf(() => loadConfig({ file }))[0]).toContain('unknown parameter "PublishIntervall"');
  });

  it('reports a file that is not JSON', () => {
    const file = configFile('{ not json');

    expect(problemsOf(() => loadConfig({ file }))[0]).toMatch(/^--config .*: cannot read a JSON object/);
  });

  it.each([
    ['\\n', '\n'],
    ['\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\r\n', '\r\n'],
    [',', ','],
    ['\\t', '\t'],
    ['\t', '\t'],
  ])('turns the record separator %j into the bytes %j', (given, bytes) => {
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN, RecordSeparator: given } });

    expect(config.recordSeparator.toString()).toBe(bytes);
  });

  it('rejects a broker URL with an unsupported scheme and TLS files that cannot be read', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          DefaultDeliveryStreamArn: ARN,
          MqttBrokerUrl: 'http://127.0.0.1:1883',
          MqttCaFile: '/no/such/ca.pem',
        },
      }),
    );

    expect(problems).toEqual([
      'MqttBrokerUrl is "http://127.0.0.1:1883"; expected a URL with scheme mqtt, mqtts, ws or wss',
      'MqttCaFile is "/no/such/ca.pem"; expected a readable file path',
    ]);
  });

  it('requires a client certificate and its key together', () => {
    const cert = configFile('cert');

    expect(
      problemsOf(() => loadConfig({ env: { DefaultDeliveryStreamArn: ARN, MqttCertFile: cert } })),
    ).toEqual([
      'MqttCertFile and MqttKeyFile must be given together (a client certificate and its private key)',
    ]);
  });

  it('treats an empty string as not set, as an unset Greengrass configuration key interpolates', () => {
    const config = loadConfig({
      env: { DefaultDeliveryStreamArn: ARN, PublishInterval: '', MqttCaFile: '' },
    });

    expect(config.publishIntervalSeconds).toBe(10);
    expect(config.mqtt.caFile).toBeUndefined();
  });

  it('puts the disk queue in the Greengrass work folder by default', () => {
    const config = loadConfig({
      env: {
        DefaultDeliveryStreamArn: ARN,
        QueueStore: 'disk',
        FIREHOSE_CONNECTOR_WORK_DIR: '/greengrass/v2/work/c',
      },
    });

    expect(config.queue).toEqual({
      store: 'disk',
      directory: '/greengrass/v2/work/c/queue',
      diskMaxBytes: 512 * 1024 * 1024,
      diskSync: 'periodic',
      fullPolicy: 'reject',
    });
  });

  it('rejects an unknown queue store, sync policy and full policy', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          DefaultDeliveryStreamArn: ARN,
          QueueStore: 'redis',
          QueueDiskSync: 'sometimes',
          QueueFullPolicy: 'drop',
        },
      }),
    );

    expect(problems).toEqual([
      'QueueStore is "redis"; expected one of "memory", "disk"',
      'QueueDiskSync is "sometimes"; expected one of "always", "periodic", "never"',
      'QueueFullPolicy is "drop"; expected one of "reject", "dropOldest"',
    ]);
  });

  it('leaves queues a minimum budget, and flags it, when MemorySize is below what the process needs', () => {
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN, MemorySize: '65535' } });

    expect(config.queueByteBudget).toBe(MIN_QUEUE_BYTE_BUDGET);
    expect(config.memorySizeTooSmall).toBe(true);
  });

  it('flags a ShutdownTimeoutSeconds longer than a nucleus restart leaves, only when running as the component', () => {
    // Prepare
    const longest = String(MAX_SHUTDOWN_TIMEOUT_SECONDS);
    const longer = String(MAX_SHUTDOWN_TIMEOUT_SECONDS + 1);
    const component = { DefaultDeliveryStreamArn: ARN, [WORK_DIR_ENV]: '/greengrass/v2/work/c' };

    // Act
    const flagged = (env: NodeJS.ProcessEnv) => loadConfig({ env }).shutdownOutlastsNucleusRestart;

    // Assess
    expect(flagged({ ...component, ShutdownTimeoutSeconds: longer })).toBe(true);
    expect(flagged({ ...component, ShutdownTimeoutSeconds: longest })).toBe(false);
    expect(flagged({ DefaultDeliveryStreamArn: ARN, ShutdownTimeoutSeconds: longer })).toBe(false);
  });

  it('leaves metrics off unless a namespace is given', () => {
    // Act
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN } });

    // Assess
    expect(config.metrics).toBeUndefined();
  });

  it('turns metrics on with a namespace, a minute a period, per stream only', () => {
    // Act
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN, MetricsNamespace: 'Fleet/Firehose' } });

    // Assess
    expect(config.metrics).toEqual({ namespace: 'Fleet/Firehose', periodSeconds: 60 });
  });

  it("adds the core device's thing name, which the nucleus gives every component, with MetricsPerDevice", () => {
    // Act
    const config = loadConfig({
      env: {
        DefaultDeliveryStreamArn: ARN,
        MetricsNamespace: 'Fleet/Firehose',
        MetricsPerDevice: 'true',
        AWS_IOT_THING_NAME: 'core-7',
      },
    });

    // Assess
    expect(config.metrics).toEqual({ namespace: 'Fleet/Firehose', periodSeconds: 60, coreDevice: 'core-7' });
  });

  it('refuses MetricsPerDevice without a thing name', () => {
    // Act
    const problems = problemsOf(() =>
      loadConfig({
        env: { DefaultDeliveryStreamArn: ARN, MetricsNamespace: 'Fleet', MetricsPerDevice: 'true' },
      }),
    );

    // Assess
    expect(problems).toEqual([
      'MetricsPerDevice is "true", which needs the core device\'s thing name in AWS_IOT_THING_NAME (the Greengrass nucleus sets it for every component)',
    ]);
  });

  it('refuses a metrics namespace reserved for AWS services', () => {
    // Act
    const problems = problemsOf(() =>
      loadConfig({ env: { DefaultDeliveryStreamArn: ARN, MetricsNamespace: 'AWS/Firehose' } }),
    );

    // Assess
    expect(problems).toEqual([
      'MetricsNamespace is "AWS/Firehose"; expected 1 to 255 printable ASCII characters, not starting with "AWS/" or ":"',
    ]);
  });
});
