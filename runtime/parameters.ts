/**
 * The connector's parameters: wire names, defaults, ranges and descriptions.
 *
 * This is the single definition shared by the runtime (`config.ts` validates against it) and by the CDK app
 * (`lib/recipe.ts` builds the component's `DefaultConfiguration` from it), so the recipe and the runtime can
 * never disagree. Names are kept verbatim from the Greengrass v1 connector where they exist.
 */

/** Matches a Firehose delivery stream ARN in any partition (aws, aws-cn, aws-us-gov, iso...) and region form. */
export const DELIVERY_STREAM_ARN_PATTERN =
  /^arn:(aws[a-zA-Z-]*):firehose:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):deliverystream\/([a-zA-Z0-9_.-]{1,64})$/;

/** Record separators the connector can append, as the AWS IoT rule's Firehose action offers them. */
export const RECORD_SEPARATORS = ['', '\n', '\r\n', ',', '\t'] as const;
export type RecordSeparator = (typeof RECORD_SEPARATORS)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where input messages come from: an MQTT broker, Greengrass local publish/subscribe (IPC), or both. */
export const INPUT_SOURCES = ['mqtt', 'ipc', 'both'] as const;
export type InputSource = (typeof INPUT_SOURCES)[number];

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

export interface StringParameter extends ParameterBase {
  readonly kind: 'string';
  /** `undefined` means the parameter is optional and has no default. */
  readonly default?: string;
  readonly required?: boolean;
  /** Human-readable description of the valid values, used in error messages. */
  readonly valid: string;
}

export interface ChoiceParameter extends ParameterBase {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}

export type ParameterDefinition = IntegerParameter | StringParameter | ChoiceParameter;

/**
 * The MemorySize (KB) to run with: what the CDK deployment and the local mode use unless told otherwise. The
 * parameter's default stays the v1 connector's 65535, which is below what an idle Node.js process needs.
 */
export const RECOMMENDED_MEMORY_SIZE_KB = 131072;

export const PARAMETERS = {
  DefaultDeliveryStreamArn: {
    kind: 'string',
    required: true,
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
  InputSource: {
    kind: 'choice',
    default: 'mqtt',
    choices: INPUT_SOURCES,
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
    valid: 'a URL with scheme mqtt, mqtts, ws or wss',
    description:
      'MQTT broker the connector subscribes to. Use 127.0.0.1 rather than localhost: Node 17+ tries ::1 first.',
  },
  MqttClientId: {
    kind: 'string',
    default: 'firehose-connector',
    valid: '1 to 128 characters',
    description:
      'Client id of the persistent MQTT session. Keep it stable so the broker holds messages while the connector restarts.',
  },
  MqttCaFile: {
    kind: 'string',
    valid: 'a readable file path',
    description: 'PEM file of the certificate authority that signed the broker certificate (mqtts/wss).',
  },
  MqttCertFile: {
    kind: 'string',
    valid: 'a readable file path',
    description:
      'PEM client certificate for brokers that authenticate clients with TLS (for example the Greengrass broker).',
  },
  MqttKeyFile: {
    kind: 'string',
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
    valid: 'a writable folder path',
    description:
      'Folder of the disk queue. Empty means <work folder>/queue on Greengrass (FIREHOSE_CONNECTOR_WORK_DIR), ./firehose-connector-queue elsewhere.',
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
    description: 'Time allowed for one Firehose call before it is abandoned and retried.',
  },
  ShutdownTimeoutSeconds: {
    kind: 'integer',
    default: 8,
    min: 0,
    max: 60,
    unit: 'seconds',
    description:
      'On SIGTERM/SIGINT, time spent flushing queued records before exit (Greengrass kills a component after 15 s).',
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
  LogLevel: {
    kind: 'choice',
    default: 'info',
    choices: LOG_LEVELS,
    description: 'Least severe level written to stdout as JSON lines.',
  },
} as const satisfies Record<string, ParameterDefinition>;

export type ParameterName = keyof typeof PARAMETERS;

export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[];

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
