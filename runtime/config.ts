import { accessSync, constants, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  checkParameterValue,
  describeValidValues,
  type InputSource,
  type LogLevel,
  MAX_SHUTDOWN_TIMEOUT_SECONDS,
  MIN_QUEUE_BYTE_BUDGET,
  PARAMETER_NAMES,
  type ParameterDefinition,
  type ParameterName,
  PARAMETERS,
  ProblemsError,
  QUEUE_SHARE_OF_FREE_MEMORY,
  type QueueDiskSync,
  type QueueFullPolicy,
  type QueueStore,
  type RecordPacking,
  type RecordSeparator,
  RUNTIME_RESERVE_BYTES,
  separatorBytes,
  WORK_DIR_ENV,
} from './contract';
import { type DeliveryStreamTarget, parseDeliveryStreamArn } from './firehose';
import { checkIpcEnvironment, type IpcEndpoint, type MqttConfig } from './transport';

/** Validated configuration, in the runtime's own names. The wire names live only in `contract/parameters.ts`. */
export interface ConnectorConfig {
  readonly defaultDeliveryStream: DeliveryStreamTarget;
  readonly deliveryStreamQueueSize: number;
  readonly maxDeliveryStreams: number;
  readonly memorySizeKb: number;
  /**
   * Bytes all in-memory queues together may hold: a share of `MemorySize` less the runtime's own reserve, and never
   * less than `MIN_QUEUE_BYTE_BUDGET`.
   */
  readonly queueByteBudget: number;
  /** True when `MemorySize` is below what the process needs with a full queue, which start-up warns about. */
  readonly memorySizeTooSmall: boolean;
  readonly publishIntervalSeconds: number;
  readonly recordSeparator: Buffer;
  /** Which streams get several messages per Firehose record (`RecordPacking`). */
  readonly recordPacking: RecordPacking;
  readonly inputSource: InputSource;
  readonly statusToIoTCore: boolean;
  /** The nucleus's IPC socket and token, when the process was started by the nucleus. */
  readonly ipc?: IpcEndpoint;
  readonly mqtt: MqttConfig;
  readonly queue: QueueConfig;
  readonly recordMaxAttempts: number;
  readonly recordMaxAgeSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly shutdownTimeoutSeconds: number;
  /**
   * True when the process runs as the component and `ShutdownTimeoutSeconds` is longer than a nucleus restart leaves
   * it (`MAX_SHUTDOWN_TIMEOUT_SECONDS`), which start-up warns about.
   */
  readonly shutdownOutlastsNucleusRestart: boolean;
  readonly statsIntervalSeconds: number;
  /** CloudWatch metrics, when `MetricsNamespace` is set. */
  readonly metrics?: MetricsConfig;
  readonly logLevel: LogLevel;
}

export interface MetricsConfig {
  readonly namespace: string;
  readonly periodSeconds: number;
  /** The core device's thing name, with `MetricsPerDevice`: a dimension of every metric sent per device. */
  readonly coreDevice?: string;
}

export interface QueueConfig {
  readonly store: QueueStore;
  /** Folder of the disk queue. */
  readonly directory: string;
  /** Most data bytes the disk queue holds per stream. */
  readonly diskMaxBytes: number;
  readonly diskSync: QueueDiskSync;
  readonly fullPolicy: QueueFullPolicy;
}

/** Heading of the error that lists every configuration problem. */
export const CONFIG_ERROR_HEADING = 'Invalid configuration';

export interface ConfigSources {
  /** Path of a JSON file whose top-level keys are parameter names. */
  readonly file?: string;
  /** Environment variables named exactly like the parameters, as the Greengrass recipe sets them. They win over the file. */
  readonly env?: NodeJS.ProcessEnv;
  /** Values that win over both, used by the local mode for its embedded defaults. */
  readonly overrides?: Partial<Record<ParameterName, string | number>>;
  /** Values used only where no source gives one. */
  readonly fallbacks?: Partial<Record<ParameterName, string | number>>;
}

type RawValues = Partial<Record<ParameterName, unknown>>;

/** Reads every source, validates every parameter, and throws one `ProblemsError` listing all problems. */
export function loadConfig(sources: ConfigSources): ConnectorConfig {
  const problems: string[] = [];
  const raw: RawValues = { ...sources.fallbacks, ...readConfigFile(sources.file, problems) };
  for (const name of PARAMETER_NAMES) {
    const fromEnv = sources.env?.[name];
    if (fromEnv !== undefined) raw[name] = fromEnv;
  }
  Object.assign(raw, sources.overrides);

  const values = {} as Record<ParameterName, string | number | undefined>;
  for (const name of PARAMETER_NAMES) values[name] = parseParameter(name, raw[name], problems);
  const integer = (name: ParameterName): number => values[name] as number;
  const text = (name: ParameterName): string | undefined => values[name] as string | undefined;

  const arn = text('DefaultDeliveryStreamArn');
  const defaultDeliveryStream = arn === undefined ? undefined : parseDeliveryStreamArn(arn);
  const memorySizeKb = integer('MemorySize');
  const mqtt = {
    brokerUrl: text('MqttBrokerUrl') as string,
    clientId: text('MqttClientId') as string,
    caFile: text('MqttCaFile'),
    certFile: text('MqttCertFile'),
    keyFile: text('MqttKeyFile'),
  };
  checkTlsFiles(mqtt, problems);
  const inputSource = text('InputSource') as InputSource;
  const statusToIoTCore = text('StatusToIoTCore') === 'true';
  const ipc = checkIpcEnvironment(inputSource, statusToIoTCore, sources.env ?? {}, problems);
  const metrics = metricsConfig(
    text('MetricsNamespace'),
    integer('MetricsIntervalSeconds'),
    text('MetricsPerDevice') === 'true',
    sources.env ?? {},
    problems,
  );

  if (problems.length > 0 || !defaultDeliveryStream) throw new ProblemsError(CONFIG_ERROR_HEADING, problems);
  return {
    defaultDeliveryStream,
    deliveryStreamQueueSize: integer('DeliveryStreamQueueSize'),
    maxDeliveryStreams: integer('MaxDeliveryStreams'),
    memorySizeKb,
    queueByteBudget: Math.max(MIN_QUEUE_BYTE_BUDGET, queueShare(memorySizeKb)),
    memorySizeTooSmall: queueShare(memorySizeKb) < MIN_QUEUE_BYTE_BUDGET,
    publishIntervalSeconds: integer('PublishInterval'),
    recordSeparator: separatorBytes(text('RecordSeparator') as RecordSeparator),
    recordPacking: text('RecordPacking') as RecordPacking,
    inputSource,
    statusToIoTCore,
    ipc,
    mqtt,
    queue: {
      store: text('QueueStore') as QueueStore,
      directory: text('QueueDirectory') || defaultQueueDirectory(sources.env ?? {}),
      diskMaxBytes: integer('QueueDiskSizeMB') * 1024 * 1024,
      diskSync: text('QueueDiskSync') as QueueDiskSync,
      fullPolicy: text('QueueFullPolicy') as QueueFullPolicy,
    },
    recordMaxAttempts: integer('RecordMaxAttempts'),
    recordMaxAgeSeconds: integer('RecordMaxAgeSeconds'),
    requestTimeoutSeconds: integer('RequestTimeoutSeconds'),
    shutdownTimeoutSeconds: integer('ShutdownTimeoutSeconds'),
    shutdownOutlastsNucleusRestart:
      Boolean(sources.env?.[WORK_DIR_ENV]) &&
      integer('ShutdownTimeoutSeconds') > MAX_SHUTDOWN_TIMEOUT_SECONDS,
    statsIntervalSeconds: integer('StatsIntervalSeconds'),
    metrics,
    logLevel: text('LogLevel') as LogLevel,
  };
}

/** Environment variable in which the Greengrass nucleus gives components the core device's thing name. */
const THING_NAME_ENV = 'AWS_IOT_THING_NAME';

/** Metrics are on with a namespace; per device they need the thing name the nucleus gives every component. */
function metricsConfig(
  namespace: string | undefined,
  periodSeconds: number,
  perDevice: boolean,
  env: NodeJS.ProcessEnv,
  problems: string[],
): MetricsConfig | undefined {
  if (!namespace) return undefined;
  if (!perDevice) return { namespace, periodSeconds };
  const coreDevice = env[THING_NAME_ENV]?.trim();
  if (!coreDevice) {
    problems.push(
      `MetricsPerDevice is "true", which needs the core device's thing name in ${THING_NAME_ENV} (the Greengrass nucleus sets it for every component)`,
    );
    return undefined;
  }
  return { namespace, periodSeconds, coreDevice };
}

function queueShare(memorySizeKb: number): number {
  return Math.floor((memorySizeKb * 1024 - RUNTIME_RESERVE_BYTES) * QUEUE_SHARE_OF_FREE_MEMORY);
}

/** On Greengrass the recipe passes the component's work folder, which survives restarts and updates. */
function defaultQueueDirectory(env: NodeJS.ProcessEnv): string {
  const workDir = env[WORK_DIR_ENV];
  return workDir ? join(workDir, 'queue') : resolve('firehose-connector-queue');
}

function readConfigFile(file: string | undefined, problems: string[]): RawValues {
  if (file === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(`--config ${file}: cannot read a JSON object (${(error as Error).message})`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`--config ${file}: expected a JSON object of parameter names to values`);
    return {};
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in PARAMETERS)) {
      problems.push(`--config ${file}: unknown parameter "${key}" (known: ${PARAMETER_NAMES.join(', ')})`);
    }
  }
  return parsed as RawValues;
}

/** The shared check of `contract/parameters.ts`, with the default for a value that is not set. */
function parseParameter(
  name: ParameterName,
  value: unknown,
  problems: string[],
): string | number | undefined {
  const definition: ParameterDefinition = PARAMETERS[name];
  const check = checkParameterValue(name, value);
  if (!check.valid) {
    problems.push(`${name} is ${JSON.stringify(value)}; expected ${check.expected}`);
    return definition.default;
  }
  if (check.value === undefined && definition.kind === 'string' && definition.required) {
    problems.push(`${name} is required: ${definition.valid}`);
  }
  return check.value ?? definition.default;
}

/** What only the device can tell: the TLS files are readable, and a certificate comes with its key. */
function checkTlsFiles(mqtt: MqttConfig, problems: string[]): void {
  const files: [ParameterName, string | undefined][] = [
    ['MqttCaFile', mqtt.caFile],
    ['MqttCertFile', mqtt.certFile],
    ['MqttKeyFile', mqtt.keyFile],
  ];
  for (const [name, path] of files) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch {
      problems.push(`${name} is ${JSON.stringify(path)}; expected ${describeValidValues(PARAMETERS[name])}`);
    }
  }
  if ((mqtt.certFile === undefined) !== (mqtt.keyFile === undefined)) {
    problems.push(
      'MqttCertFile and MqttKeyFile must be given together (a client certificate and its private key)',
    );
  }
}
