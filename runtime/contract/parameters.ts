/**
 * The component's parameters: names, defaults, ranges, and the one check of a value that the runtime and the CDK
 * app (`lib/`) share. Names are kept verbatim from the Greengrass v1 connector where they exist.
 */
import { SHUTDOWN_EXIT_SECONDS, WORK_DIR_ENV } from './component';
import { DEFAULT_METRICS_NAMESPACE } from './metrics';

/** Matches a Firehose delivery stream ARN in any partition (aws, aws-cn, aws-us-gov, iso...) and region form. */
export const DELIVERY_STREAM_ARN_PATTERN =
  /^arn:(aws[a-zA-Z-]*):firehose:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):deliverystream\/([a-zA-Z0-9_.-]{1,64})$/;

interface ParameterBase {
  /** What the parameter does, shown by `--help` and in the README. */
  readonly description: string;
}

export interface IntegerParameter extends ParameterBase {
  readonly kind: 'integer';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

/** What a string parameter's value must look like; `checkParameterValue` applies the rule. */
export type StringFormat =
  'delivery-stream-arn' | 'broker-url' | 'client-id' | 'absolute-path' | 'metrics-namespace';

export interface StringParameter extends ParameterBase {
  readonly kind: 'string';
  /** `undefined` means the parameter is optional and has no default. */
  readonly default?: string;
  readonly required?: boolean;
  readonly format: StringFormat;
  /** Human-readable description of the valid values, used in error messages. */
  readonly valid: string;
}

export interface ChoiceParameter extends ParameterBase {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}

export type ParameterDefinition = IntegerParameter | StringParameter | ChoiceParameter;

/** The parameters, in the order `--help`, the README and error messages list them. Add new ones anywhere. */
export const PARAMETERS = {
  DefaultDeliveryStreamArn: {
    kind: 'string',
    required: true,
    format: 'delivery-stream-arn',
    valid: 'arn:<partition>:firehose:<region>:<12-digit account>:deliverystream/<name>',
    description:
      'ARN of the delivery stream that records go to unless a JSON message names another in request.delivery_stream_arn.',
  },
  DeliveryStreamQueueSize: {
    kind: 'integer',
    default: 5000,
    min: 2000,
    max: 10_000_000,
    unit: 'records',
    description:
      'Most records held per delivery stream before new records for that stream are rejected with a fail status.',
  },
  MemorySize: {
    kind: 'integer',
    default: 65535,
    min: 32768,
    max: 16_777_216,
    unit: 'KB',
    description:
      'Memory the connector may use, in KB; bounds the memory queues. Give it at least 131072: Node.js alone takes about 76 MiB, so the v1 default 65535 leaves the queues only their 8 MiB minimum.',
  },
  MaxDeliveryStreams: {
    kind: 'integer',
    default: 16,
    min: 1,
    max: 1000,
    unit: 'streams',
    description:
      'Most delivery streams served at once, the default one included. A message naming another stream while every one served holds records gets a TooManyDeliveryStreams status; a stream with nothing queued is released after 10 s (at once with the disk queue, for its open files) or when its place is needed.',
  },
  PublishInterval: {
    kind: 'integer',
    default: 10,
    min: 0,
    max: 900,
    unit: 'seconds',
    description:
      'How often queued records are sent with PutRecordBatch. 0 sends records as they arrive; a full batch (500 records or 4 MiB) never waits.',
  },
  RecordSeparator: {
    kind: 'choice',
    default: '',
    choices: ['', '\\n', '\\r\\n', ',', '\\t'],
    description:
      'Appended to every record, as the AWS IoT rule action offers: none (default), \\n, \\r\\n, "," or \\t. Escaped or literal characters are accepted.',
  },
  RecordPacking: {
    kind: 'choice',
    default: 'off',
    choices: ['off', 'default-stream', 'all-streams'],
    description:
      'Packs consecutive messages queued for a delivery stream into Firehose records of up to 1,024,000 bytes, each message followed by its RecordSeparator, in queue order, so that Firehose bills their bytes rather than 5 KB per message. off: one record per message, as the v1 connector. default-stream: the stream of DefaultDeliveryStreamArn only. all-streams: every stream. Keep it off for a stream with a transformation Lambda, dynamic partitioning without multi-record deaggregation, or a destination that takes one event per record (OpenSearch, Splunk, HTTP endpoints).',
  },
  InputSource: {
    kind: 'choice',
    default: 'mqtt',
    choices: ['mqtt', 'ipc', 'both'],
    description:
      'Where input messages come from. mqtt: the broker at MqttBrokerUrl (persistent session: the broker keeps messages while the connector restarts). ipc: Greengrass local publish/subscribe, no broker needed (the component recipe defaults to it; messages published while the connector is not subscribed are lost). both: the two together. ipc and both need the process to be started by the Greengrass nucleus.',
  },
  StatusToIoTCore: {
    kind: 'choice',
    default: 'false',
    choices: ['false', 'true'],
    description:
      "true: also publish statuses to AWS IoT Core (Greengrass IPC PublishToIoTCore, QoS 1) on kinesisfirehose/message/status, as the v1 connector's subscription did. Needs the nucleus, the recipe's mqttproxy access control, and iot:Publish on that topic in the core device's AWS IoT policy.",
  },
  MqttBrokerUrl: {
    kind: 'string',
    default: 'mqtt://127.0.0.1:1883',
    format: 'broker-url',
    valid: 'a URL with scheme mqtt, mqtts, ws or wss',
    description:
      'MQTT broker the connector subscribes to. Use 127.0.0.1 rather than localhost: Node 17+ tries ::1 first.',
  },
  MqttClientId: {
    kind: 'string',
    default: 'firehose-connector',
    format: 'client-id',
    valid: '1 to 128 characters',
    description:
      'Client id of the persistent MQTT session. Keep it stable so the broker holds messages while the connector restarts.',
  },
  MqttCaFile: {
    kind: 'string',
    format: 'absolute-path',
    valid: 'a readable file path',
    description: 'PEM file of the certificate authority that signed the broker certificate (mqtts/wss).',
  },
  MqttCertFile: {
    kind: 'string',
    format: 'absolute-path',
    valid: 'a readable file path',
    description:
      'PEM client certificate for brokers that authenticate clients with TLS (for example the Greengrass broker).',
  },
  MqttKeyFile: {
    kind: 'string',
    format: 'absolute-path',
    valid: 'a readable file path',
    description: 'PEM private key of MqttCertFile.',
  },
  QueueStore: {
    kind: 'choice',
    default: 'memory',
    choices: ['memory', 'disk'],
    description:
      'Where queued records wait. memory: bounded by DeliveryStreamQueueSize and MemorySize, lost if the process dies. disk: files under QueueDirectory that survive a kill, a crash or a restart, bounded by QueueDiskSizeMB.',
  },
  QueueDirectory: {
    kind: 'string',
    default: '',
    format: 'absolute-path',
    valid: 'a writable folder path',
    description: `Folder of the disk queue. Empty means <work folder>/queue on Greengrass (${WORK_DIR_ENV}), ./firehose-connector-queue elsewhere.`,
  },
  QueueDiskSizeMB: {
    kind: 'integer',
    default: 512,
    min: 1,
    max: 1_048_576,
    unit: 'MiB',
    description: 'Most record bytes the disk queue holds per delivery stream.',
  },
  QueueDiskSync: {
    kind: 'choice',
    default: 'periodic',
    choices: ['always', 'periodic', 'never'],
    description:
      'When the disk queue forces writes to the device. Every record reaches the OS before it is acknowledged to the broker (safe from a kill or crash); always: also fsync before the acknowledgement (safe from a power cut, slowest); periodic: fsync every second (a power cut may lose the last second); never: the OS decides (about 30 s on Linux).',
  },
  QueueFullPolicy: {
    kind: 'choice',
    default: 'reject',
    choices: ['reject', 'dropOldest'],
    description:
      'What a full queue does with a new record: reject it with a QueueFull status, or drop the oldest queued record (with a QueueFull status for it) to make room.',
  },
  RecordMaxAttempts: {
    kind: 'integer',
    default: 1000,
    min: 1,
    max: 1_000_000,
    unit: 'attempts',
    description:
      'Sends tried per record before it is reported as failed. Backoff grows to 30 s between attempts.',
  },
  RecordMaxAgeSeconds: {
    kind: 'integer',
    default: 86400,
    min: 60,
    max: 604800,
    unit: 'seconds',
    description: 'Age after which a record still failing with retryable errors is reported as failed.',
  },
  RequestTimeoutSeconds: {
    kind: 'integer',
    default: 30,
    min: 1,
    max: 300,
    unit: 'seconds',
    description:
      "Time allowed for one Firehose call, the SDK's own attempts (3) and their backoff included, before it is abandoned and its records retried.",
  },
  ShutdownTimeoutSeconds: {
    kind: 'integer',
    default: 8,
    min: 0,
    max: 60,
    unit: 'seconds',
    description: `On SIGTERM/SIGINT, time spent sending queued records before the rest are reported as ConnectorShuttingDown and the process exits (up to ${SHUTDOWN_EXIT_SECONDS} s later, after the last statuses). On Greengrass the component's Shutdown step waits that long; without it the nucleus kills a component 5 s after SIGTERM. Elsewhere keep it below your supervisor's kill timeout (docker stop: 10 s).`,
  },
  StatsIntervalSeconds: {
    kind: 'integer',
    default: 60,
    min: 0,
    max: 86400,
    unit: 'seconds',
    description:
      'How often a stats log line is written (received, sent, failed, retried, queued per stream). 0 disables it.',
  },
  MetricsNamespace: {
    kind: 'string',
    default: '',
    format: 'metrics-namespace',
    valid: '1 to 255 printable ASCII characters, not starting with "AWS/" or ":"',
    description: `CloudWatch namespace of the connector's metrics (PutMetricData, with the same credentials as Firehose); empty turns metrics off. The CDK deployment sets ${DEFAULT_METRICS_NAMESPACE} and allows exactly that namespace.`,
  },
  MetricsIntervalSeconds: {
    kind: 'integer',
    default: 60,
    min: 1,
    max: 3600,
    unit: 'seconds',
    description:
      'Length of a metrics period: counts are summed and the queue sampled over it, and its points sent at its end in one PutMetricData call. Under 60 only for tests: CloudWatch keeps these metrics per minute, and bills every call.',
  },
  MetricsPerDevice: {
    kind: 'choice',
    default: 'false',
    choices: ['false', 'true'],
    description:
      "true: also publish each metric with the core device's thing name (AWS_IOT_THING_NAME, set by the Greengrass nucleus) as a dimension. Every device then adds metrics of its own, each billed monthly.",
  },
  LogLevel: {
    kind: 'choice',
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
    description: 'Least severe level written to stdout as JSON lines.',
  },
} as const satisfies Record<string, ParameterDefinition>;

export type ParameterName = keyof typeof PARAMETERS;

export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[];

/** Names of the parameters whose values are one of a list. */
export type ChoiceParameterName = {
  [N in ParameterName]: (typeof PARAMETERS)[N]['kind'] extends 'choice' ? N : never;
}[ParameterName];

/** The values a choice parameter takes, as its wire spelling: `Choice<'QueueStore'>` is `'memory' | 'disk'`. */
export type Choice<N extends ChoiceParameterName> = (typeof PARAMETERS)[N]['choices'][number];

export type QueueStore = Choice<'QueueStore'>;
export type QueueDiskSync = Choice<'QueueDiskSync'>;
export type QueueFullPolicy = Choice<'QueueFullPolicy'>;
/** Which streams get several messages per Firehose record. */
export type RecordPacking = Choice<'RecordPacking'>;
export type LogLevel = Choice<'LogLevel'>;
/** Where input messages come from: an MQTT broker, Greengrass local publish/subscribe (IPC), or both. */
export type InputSource = Choice<'InputSource'>;
/** A record separator as configured: escaped (`\\n`), never the literal character. */
export type RecordSeparator = Choice<'RecordSeparator'>;

/**
 * The default value of every parameter that has one, as the strings Greengrass configuration delivers.
 * Used for the component recipe's `DefaultConfiguration`.
 */
export function defaultParameterValues(): Partial<Record<ParameterName, string>> {
  const values: Partial<Record<ParameterName, string>> = {};
  for (const name of PARAMETER_NAMES) {
    const definition: ParameterDefinition = PARAMETERS[name];
    if (definition.default !== undefined) values[name] = String(definition.default);
  }
  return values;
}

/** The valid range or values of a parameter, worded for error messages and `--help`. */
export function describeValidValues(definition: ParameterDefinition): string {
  switch (definition.kind) {
    case 'integer':
      return `an integer from ${definition.min} to ${definition.max} (${definition.unit})`;
    case 'choice':
      return `one of ${definition.choices.map((choice) => JSON.stringify(choice)).join(', ')}`;
    case 'string':
      return definition.valid;
  }
}

/**
 * The outcome of checking one parameter value: the value in its canonical form (a number for integers, the escaped
 * spelling for record separators, trimmed text otherwise; `undefined` for "not set"), or what was expected.
 */
export type ParameterCheck =
  | { readonly valid: true; readonly value: string | number | undefined }
  | { readonly valid: false; readonly expected: string };

/**
 * The one check of a parameter value, used by the runtime (`config.ts`) and the CDK app (`lib/context.ts`,
 * `lib/local-component.ts`), so a value the app accepts is one the runtime starts with.
 *
 * Values may be strings (Greengrass configuration and environment variables) or, from JSON and cdk.json, numbers.
 * `undefined`, `null` and the empty string mean "not set" (an absent Greengrass key interpolates to nothing), and the
 * caller applies the default. Surrounding whitespace is ignored, except in a record separator, whose characters may
 * be whitespace: `" 30 "` is 30, and a literal newline is the separator `\n`. Checks that need the device (a file
 * is readable) are the runtime's.
 */
export function checkParameterValue(name: ParameterName, raw: unknown): ParameterCheck {
  const definition: ParameterDefinition = PARAMETERS[name];
  if (raw === undefined || raw === null || raw === '') return { valid: true, value: undefined };
  const expected = describeValidValues(definition);
  switch (definition.kind) {
    case 'integer': {
      const number = toInteger(raw);
      return number !== undefined && number >= definition.min && number <= definition.max
        ? { valid: true, value: number }
        : { valid: false, expected };
    }
    case 'choice': {
      if (typeof raw !== 'string') return { valid: false, expected };
      const choice = name === 'RecordSeparator' ? escapeSeparator(raw) : raw.trim();
      return definition.choices.includes(choice)
        ? { valid: true, value: choice }
        : { valid: false, expected };
    }
    case 'string': {
      if (typeof raw !== 'string') return { valid: false, expected };
      const text = raw.trim();
      if (text === '') return { valid: true, value: undefined };
      const problem = formatProblem(definition.format, text);
      return problem === undefined
        ? { valid: true, value: text }
        : {
            valid: false,
            expected: problem === 'relative' ? `${expected} (an absolute path on the device)` : expected,
          };
    }
  }
}

function toInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? raw : undefined;
  return typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : undefined;
}

const SEPARATOR_ESCAPES: Readonly<Record<string, RecordSeparator>> = {
  '\n': '\\n',
  '\r\n': '\\r\\n',
  '\t': '\\t',
};

/** Environment variables rarely carry a newline, so separators are configured escaped; literal ones are accepted. */
function escapeSeparator(value: string): string {
  return SEPARATOR_ESCAPES[value] ?? value;
}

/** The bytes a configured record separator stands for. */
export function separatorBytes(separator: RecordSeparator): Buffer {
  const literal = Object.keys(SEPARATOR_ESCAPES).find(
    (character) => SEPARATOR_ESCAPES[character] === separator,
  );
  return Buffer.from(literal ?? separator);
}

const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

/** Why `text` does not have `format`: 'invalid', 'relative' (a path that is not absolute), or undefined if it does. */
function formatProblem(format: StringFormat, text: string): 'invalid' | 'relative' | undefined {
  switch (format) {
    case 'delivery-stream-arn':
      return DELIVERY_STREAM_ARN_PATTERN.test(text) ? undefined : 'invalid';
    case 'broker-url': {
      const url = URL.canParse(text) ? new URL(text) : undefined;
      return url && BROKER_SCHEMES.includes(url.protocol) && url.hostname !== '' ? undefined : 'invalid';
    }
    case 'client-id':
      return text.length <= 128 ? undefined : 'invalid';
    case 'absolute-path':
      // The component's steps run in its work folder, which a relative path would silently depend on.
      return text.startsWith('/') ? undefined : 'relative';
    case 'metrics-namespace':
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html: printable ASCII,
      // pattern [^:].*, and AWS/ is reserved for AWS services.
      return /^[\x20-\x7e]{1,255}$/.test(text) && !text.startsWith(':') && !text.startsWith('AWS/')
        ? undefined
        : 'invalid';
  }
}
