/**
 * The app's CDK context (`-c key=value` or cdk.json "context"): one table of keys, defaults and allowed values,
 * read in one pass that reports every problem at once, each naming the key, the value received and what is allowed.
 */
import { existsSync } from 'node:fs';
import { version as packageVersion } from '../package.json';
import {
  checkParameterValue,
  DEFAULT_METRICS_NAMESPACE,
  DELIVERY_STREAM_ARN_PATTERN,
  describeValidValues,
  MAX_SHUTDOWN_TIMEOUT_SECONDS,
  MIN_MEMORY_SIZE_KB,
  NUCLEUS_SHUTDOWN_SECONDS,
  PARAMETER_NAMES,
  type ParameterDefinition,
  type ParameterName,
  PARAMETERS,
  ProblemsError,
  RECOMMENDED_MEMORY_SIZE_KB,
  SHUTDOWN_EXIT_SECONDS,
} from '../runtime/contract';
import { compareVersions } from './custom-resources/component-version';
import { GUARDED } from './custom-resources/removal-guard';
import { defaultComponentName, defaultRoleAlias, DEFAULT_STACK_NAME } from './names';
import { OUTPUT_PREFIX_ALLOWED, type OutputPrefixKind, outputPrefixProblem } from './output-prefix';
import { COMPONENT_INPUT_SOURCE } from './recipe';
import {
  type ContextField,
  type ContextLookup,
  ContextReader,
  field,
  type FieldValues,
  misspeltKeyProblems,
  readFields,
  type StringRule,
} from './private/context-reader';

export type { ContextLookup, StringRule } from './private/context-reader';

export const COMPRESSIONS = ['GZIP', 'UNCOMPRESSED', 'SNAPPY', 'HADOOP_SNAPPY', 'ZIP'] as const;
export type CompressionName = (typeof COMPRESSIONS)[number];

/** CloudWatch Logs retention periods, without "never expire": error logs must have a bounded retention. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const DEFAULT_TOKEN_EXCHANGE_ROLE_NAME = 'GreengrassV2TokenExchangeRole';
export const DEFAULT_DATA_OUTPUT_PREFIX = 'data/!{timestamp:yyyy/MM/dd/HH}/';
export const DEFAULT_ERROR_OUTPUT_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';
/**
 * MQTT bridge version installed by `statusBridge`; 2.2.0 added `brokerUri` (which also accepts tcp:// for a
 * non-TLS broker such as a local mosquitto).
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/mqtt-bridge-component.html
 */
export const DEFAULT_STATUS_BRIDGE_VERSION = '2.3.2';

/**
 * MemorySize (KB) a deployment gives the component, as both its memory limit and its parameter, unless context sets
 * one. The shared default, 65535, is the v1 connector's; an idle connector process already has a resident size of
 * about 75 MiB on Node.js 20 (see the README's Memory section), so a 64 MiB limit would get it killed.
 */
export const DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB = RECOMMENDED_MEMORY_SIZE_KB;

/** The package version: the first component version, and the base of the versions that follow content. */
export const DEFAULT_COMPONENT_VERSION = packageVersion;

/** Connector parameters a deployment may set; the stream ARN always comes from this stack. */
export const DEPLOYMENT_PARAMETER_NAMES = PARAMETER_NAMES.filter(
  (name) => name !== 'DefaultDeliveryStreamArn',
);

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const COMPONENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const TARGET_ARN = /^arn:aws[a-zA-Z-]*:iot:[a-z0-9-]+:\d{12}:(thing|thinggroup)\/[a-zA-Z0-9:_-]{1,128}$/;
/** What an address looks like; SNS checks it when it sends the confirmation. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const BRIDGE_BROKER_URI_ALLOWED =
  'tcp://HOST:PORT or ssl://HOST:PORT (the MQTT bridge cannot use WebSockets)';

export const COMPONENT_NAME_RULE: StringRule = {
  test: (value) => COMPONENT_NAME.test(value) && !value.startsWith('aws.greengrass'),
  allowed: '1 to 128 letters, digits, ".", "_" or "-", not starting with "aws.greengrass" (reserved)',
};

export const COMPONENT_VERSION_RULE: StringRule = {
  test: (value) => SEMVER.test(value),
  allowed:
    'MAJOR.MINOR.PATCH, for example 1.0.1 (Greengrass versions are immutable: bump it for every change)',
};

/**
 * Every key the app reads, its default and what it allows, in the order problems are reported. `ConnectorContext`
 * and the list of known keys (for typo detection) both come from this table.
 */
export const CONTEXT_FIELDS = {
  /** @default 'GreengrassFirehoseConnector' */
  stackName: field.string(DEFAULT_STACK_NAME, {
    test: (value) => STACK_NAME.test(value),
    allowed: 'a CloudFormation stack name: a letter, then up to 127 letters, digits or "-"',
  }),
  /** @default 'community.greengrass.FirehoseConnector', with `.<stackName>` appended for any other stack */
  componentName: field.string(
    (earlier) => defaultComponentName(earlier.stackName as string),
    COMPONENT_NAME_RULE,
  ),
  /**
   * A fixed component version, for production. @default - follows the content: lib/custom-resources/component-version.ts
   */
  componentVersion: field.optionalString(COMPONENT_VERSION_RULE),
  /** A prebuilt single-file bundle to upload instead of bundling runtime/main.ts. @default - bundle with esbuild */
  artifactPath: field.optionalString({
    test: (value) => existsSync(value),
    allowed: 'the path of an existing single-file bundle, for example dist/firehose-connector.js',
  }),
  /** Existing bucket to deliver to. @default - a new bucket is created */
  bucketName: field.optionalString({
    test: (value) => BUCKET_NAME.test(value) && !value.includes('..'),
    allowed: 'an S3 bucket name: 3 to 63 lowercase letters, digits, "." or "-"',
  }),
  /**
   * Always delete the new buckets and their objects on `cdk destroy`. `npm run destroy -- --delete-data` does it for
   * one teardown without this. @default false (buckets are retained)
   */
  destroyData: field.boolean(false),
  /** Expire delivered objects after this many days. @default - never */
  dataExpirationDays: field.optionalInteger(1, 36500, 'days'),
  /** Log requests to the new data bucket into a second bucket. @default true */
  serverAccessLogs: field.boolean(true),
  /** @default 90 */
  accessLogExpirationDays: field.integer(90, 1, 36500, 'days'),
  /** @default - a name is generated by CloudFormation */
  deliveryStreamName: field.optionalString({
    test: (value) => STREAM_NAME.test(value),
    allowed: '1 to 64 letters, digits, "_", "." or "-"',
  }),
  /** @default 300 */
  bufferingIntervalSeconds: field.integer(300, 0, 900, 'seconds'),
  /** @default 5 */
  bufferingSizeMiB: field.integer(5, 1, 128, 'MiB'),
  /** @default 'GZIP' */
  compression: field.choice<CompressionName>('GZIP', COMPRESSIONS),
  /** @default DEFAULT_DATA_OUTPUT_PREFIX */
  dataOutputPrefix: outputPrefixField(DEFAULT_DATA_OUTPUT_PREFIX, 'data'),
  /** @default DEFAULT_ERROR_OUTPUT_PREFIX */
  errorOutputPrefix: outputPrefixField(DEFAULT_ERROR_OUTPUT_PREFIX, 'error'),
  /** @default true */
  errorLogging: field.boolean(true),
  /** Retention of the delivery error logs and of the bucket clean-up function's logs. @default 30 */
  errorLogRetentionDays: field.choice<number>(30, LOG_RETENTION_DAYS),
  /** Streams a message may name in `request.delivery_stream_arn`, besides the default one. @default [] */
  extraDeliveryStreamArns: field.list({
    test: (value) => DELIVERY_STREAM_ARN_PATTERN.test(value),
    allowed:
      'comma-separated delivery stream ARNs arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name> (no wildcards)',
  }),
  /** Role to attach the policy to (import), or the name of the role to create. @default - see createTokenExchangeRole */
  tokenExchangeRoleName: field.optionalString({
    test: (value) => ROLE_NAME.test(value),
    allowed: 'an IAM role name: 1 to 64 letters, digits or +=,.@_-',
  }),
  /**
   * Create the token exchange role and its IoT role alias instead of importing one: the switch for an account without
   * GreengrassV2TokenExchangeRole. @default false
   */
  createTokenExchangeRole: field.boolean(false),
  /** @default 'FirehoseConnectorTokenExchangeRoleAlias', with `-<stackName>` appended for any other stack */
  tokenExchangeRoleAlias: field.string((earlier) => defaultRoleAlias(earlier.stackName as string), {
    test: (value) => ROLE_ALIAS.test(value),
    allowed: 'an AWS IoT role alias: 1 to 128 letters, digits or =,@_-',
  }),
  /** Thing or thing group to deploy the component to. @default - no deployment */
  targetArn: field.optionalString({
    test: (value) => TARGET_ARN.test(value),
    allowed: 'arn:<partition>:iot:<region>:<account>:thing/<name> or ...:thinggroup/<name>',
  }),
  /** @default the component name */
  deploymentName: field.optionalString({
    test: (value) => value.length >= 1 && value.length <= 256,
    allowed: '1 to 256 characters',
  }),
  /** Also deploy the MQTT bridge relaying the status topic to AWS IoT Core. @default false */
  statusBridge: field.boolean(false),
  /** @default DEFAULT_STATUS_BRIDGE_VERSION */
  statusBridgeVersion: field.string(DEFAULT_STATUS_BRIDGE_VERSION, {
    test: (value) => SEMVER.test(value) && compareVersions(value, '2.2.0') >= 0,
    allowed: 'an MQTT bridge version 2.2.0 or later (brokerUri), for example 2.3.2',
  }),
  /** Local broker URI for the bridge. @default - derived from MqttBrokerUrl (mqtt: to tcp:, mqtts: to ssl:) */
  statusBridgeBrokerUri: field.optionalString({
    test: (value) => /^(tcp|ssl):\/\/[^/\s]+:\d+$/.test(value),
    allowed: BRIDGE_BROKER_URI_ALLOWED,
  }),
  /**
   * Statuses also go to AWS IoT Core over IPC: the recipe allows PublishToIoTCore and sets StatusToIoTCore, and the
   * stack creates the AWS IoT policy the core devices need (attached to a thing group target). @default false
   */
  statusToIoTCore: field.boolean(false),
  /**
   * What this deploy may drop or replace although the previous deploy made it: `deployment`,
   * `tokenExchangeRole`, `tokenExchangeRoleAlias`, `deliveryStream` (comma-separated), or `all`. For one deploy:
   * give it on the command line, never in cdk.json. @default - nothing (lib/custom-resources/removal-guard.ts)
   */
  allowRemoval: field.list({
    test: (value) => value === 'all' || Object.keys(GUARDED).includes(value),
    allowed: `comma-separated, each one of ${[...Object.keys(GUARDED), 'all'].join(', ')}`,
  }),
  /**
   * Core devices send their CloudWatch metrics; false keeps the recipe's MetricsNamespace empty, grants no
   * PutMetricData, and leaves the connector's graphs and alarms out of the dashboard (the stream's own stay).
   * @default true
   */
  metrics: field.boolean(true),
  /**
   * CloudWatch namespace of the connector's metrics: the recipe's MetricsNamespace, the one namespace the devices may
   * publish to, and what the dashboard and alarms read. @default DEFAULT_METRICS_NAMESPACE
   */
  metricsNamespace: field.string(DEFAULT_METRICS_NAMESPACE, {
    test: (value) => checkParameterValue('MetricsNamespace', value).valid,
    allowed: describeValidValues(PARAMETERS.MetricsNamespace),
  }),
  /** Subscribed to the alarm topic (AWS sends a confirmation message first). @default - no subscription */
  alarmEmail: field.optionalString({ test: (value) => EMAIL.test(value), allowed: 'an e-mail address' }),
  /** The oldest record queued on a device beyond which the queue is not keeping up. @default 900 */
  oldestRecordAgeAlarmSeconds: field.integer(900, 60, 604_800, 'seconds'),
} satisfies Record<string, ContextField<unknown>>;

/** Everything the app reads from context, validated and with defaults applied. */
export type ConnectorContext = Omit<FieldValues<typeof CONTEXT_FIELDS>, 'statusBridgeBrokerUri'> & {
  /** The broker the MQTT bridge subscribes to: the context value, or derived from MqttBrokerUrl. */
  readonly statusBridgeBrokerUri: string;
  /** Connector parameters given in context, in their canonical form, merged into the deployment's configuration. */
  readonly connectorParameters: Partial<Record<ParameterName, string>>;
};

/** Every key the app reads: the table's and the connector parameters. */
export const KNOWN_CONTEXT_KEYS: readonly string[] = [...Object.keys(CONTEXT_FIELDS), ...PARAMETER_NAMES];

/** Heading of the error that lists every context problem. */
export const CONTEXT_ERROR_HEADING = 'Invalid CDK context (set with -c key=value or in cdk.json "context")';

/**
 * Parses and validates the context. Throws one `ProblemsError` naming every bad key, the value received and the
 * values allowed. `allKeys` (the keys present) lets it catch near-miss spellings of known keys.
 */
export function parseContext(lookup: ContextLookup, allKeys: readonly string[] = []): ConnectorContext {
  const problems = misspeltKeyProblems(allKeys, KNOWN_CONTEXT_KEYS);
  const reader = new ContextReader(lookup, problems);
  const fields = readFields(CONTEXT_FIELDS, reader);
  const connectorParameters = readConnectorParameters(reader);

  const mqttBrokerUrl = connectorParameters.MqttBrokerUrl ?? PARAMETERS.MqttBrokerUrl.default;
  const derivedBrokerUri = bridgeBrokerUri(mqttBrokerUrl);
  const context: ConnectorContext = {
    ...fields,
    statusBridgeBrokerUri: fields.statusBridgeBrokerUri ?? derivedBrokerUri ?? '',
    connectorParameters,
  };
  checkCombinations(context, reader, derivedBrokerUri);
  if (problems.length > 0) throw new ProblemsError(CONTEXT_ERROR_HEADING, problems);
  return context;
}

/** The connector parameters present in context, checked with the runtime's own check. */
function readConnectorParameters(reader: ContextReader): Partial<Record<ParameterName, string>> {
  const parameters: Partial<Record<ParameterName, string>> = {};
  if (reader.lookup('DefaultDeliveryStreamArn') !== undefined) {
    reader.reject(
      'DefaultDeliveryStreamArn',
      'not settable here: it is always the delivery stream this stack creates (list other streams in extraDeliveryStreamArns)',
    );
  }
  if (reader.lookup('StatusToIoTCore') !== undefined) {
    reader.reject(
      'StatusToIoTCore',
      'not settable here: use -c statusToIoTCore=true, which also grants PublishToIoTCore in the recipe and creates the AWS IoT policy',
    );
  }
  if (reader.lookup('MetricsNamespace') !== undefined) {
    reader.reject(
      'MetricsNamespace',
      'not settable here: use -c metricsNamespace=..., which also sets the namespace the devices may publish to and the dashboard and alarms read',
    );
  }
  const settable = DEPLOYMENT_PARAMETER_NAMES.filter(
    (name) => name !== 'StatusToIoTCore' && name !== 'MetricsNamespace',
  );
  for (const name of settable) {
    const raw = reader.lookup(name);
    if (raw === undefined) continue;
    const check = checkParameterValue(name, raw);
    if (!check.valid) reader.reject(name, check.expected);
    else if (check.value !== undefined) parameters[name] = String(check.value);
    else if (isEmptyChoice(name, raw)) parameters[name] = '';
  }
  return parameters;
}

/**
 * An empty value is a choice of its own where a parameter offers one, not "unset": `-c RecordSeparator=` packs
 * messages with no separator instead of the recipe's newline.
 */
function isEmptyChoice(name: ParameterName, raw: unknown): boolean {
  const definition: ParameterDefinition = PARAMETERS[name];
  return raw === '' && definition.kind === 'choice' && definition.choices.includes('');
}

/** Rules between keys: what needs a deployment target, what needs a created role, what a memory limit must hold. */
function checkCombinations(
  context: ConnectorContext,
  reader: ContextReader,
  derivedBrokerUri?: string,
): void {
  const parameterNames = Object.keys(context.connectorParameters);
  if (context.targetArn === undefined) {
    for (const name of parameterNames) {
      reader.reject(
        name,
        'connector parameters only take effect in the deployment this stack creates; also pass -c targetArn=<thing or thing group ARN>, or set them in your own deployment',
      );
    }
  }
  const shutdownTimeout = context.connectorParameters.ShutdownTimeoutSeconds;
  if (shutdownTimeout !== undefined && Number(shutdownTimeout) > MAX_SHUTDOWN_TIMEOUT_SECONDS) {
    reader.reject(
      'ShutdownTimeoutSeconds',
      `at most ${MAX_SHUTDOWN_TIMEOUT_SECONDS} s in a deployment: a nucleus restart gives all components ` +
        `${NUCLEUS_SHUTDOWN_SECONDS} s together, and the connector needs up to ${SHUTDOWN_EXIT_SECONDS} s more to exit`,
    );
  }
  const memorySize = context.connectorParameters.MemorySize;
  if (
    context.targetArn !== undefined &&
    memorySize !== undefined &&
    Number(memorySize) < MIN_MEMORY_SIZE_KB
  ) {
    reader.reject(
      'MemorySize',
      `at least ${MIN_MEMORY_SIZE_KB} KB with targetArn: it is also the deployment's memory limit, and the connector ` +
        `needs about 76 MiB idle plus its queues (the default ${DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB} fits)`,
    );
  }
  if (
    context.statusBridge &&
    derivedBrokerUri === undefined &&
    reader.lookup('statusBridgeBrokerUri') === undefined
  ) {
    const mqttBrokerUrl = context.connectorParameters.MqttBrokerUrl;
    reader.reject(
      'statusBridgeBrokerUri',
      `${BRIDGE_BROKER_URI_ALLOWED}; required because MqttBrokerUrl ${JSON.stringify(mqttBrokerUrl)} is not mqtt:// or mqtts://`,
    );
  }
  if (context.statusBridge && context.targetArn === undefined) {
    reader.reject('statusBridge', 'true only together with -c targetArn=<thing or thing group ARN>');
  }
  if (context.statusBridge && context.statusToIoTCore) {
    reader.reject(
      'statusBridge',
      'not together with statusToIoTCore: both send the statuses to AWS IoT Core',
    );
  } else if (
    context.statusBridge &&
    (context.connectorParameters.InputSource ?? COMPONENT_INPUT_SOURCE) === 'ipc'
  ) {
    reader.reject(
      'statusBridge',
      'only with -c InputSource=mqtt or both: the bridge relays statuses from the MQTT broker, and the component takes input over IPC by default (for statuses to AWS IoT Core without a broker, use -c statusToIoTCore=true)',
    );
  }
  if (reader.lookup('tokenExchangeRoleAlias') !== undefined && !context.createTokenExchangeRole) {
    reader.reject('tokenExchangeRoleAlias', 'only together with -c createTokenExchangeRole=true');
  }
}

/** The MQTT bridge's `brokerUri` for the connector's broker URL: mqtt:// becomes tcp://, mqtts:// becomes ssl://. */
export function bridgeBrokerUri(mqttBrokerUrl: string): string | undefined {
  const match = /^(mqtts?):\/\/([^/:]+)(?::(\d+))?\/?$/.exec(mqttBrokerUrl);
  if (!match) return undefined;
  const [, scheme, host, port] = match;
  return scheme === 'mqtt' ? `tcp://${host}:${port ?? '1883'}` : `ssl://${host}:${port ?? '8883'}`;
}

/** A Firehose S3 prefix, parsed and checked against the expressions its field accepts. */
function outputPrefixField(fallback: string, kind: OutputPrefixKind): ContextField<string> {
  return {
    read(reader, key) {
      const value = reader.lookup(key);
      if (value === undefined) return fallback;
      const problem = typeof value === 'string' ? outputPrefixProblem(value, kind) : 'it is not text';
      if (problem === undefined) return value as string;
      reader.reject(key, `${OUTPUT_PREFIX_ALLOWED[kind]} (${problem})`);
      return fallback;
    },
  };
}
