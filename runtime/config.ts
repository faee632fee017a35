import { accessSync, constants, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DiskSyncPolicy } from './disk-record-store';
import type { QueueFullPolicy } from './stream-dispatcher';
import { DeliveryStreamTarget, parseDeliveryStreamArn } from './delivery-stream-arn';
import { checkIpcEnvironment, IpcEndpoint } from './ipc/environment';
import {
  describeValidValues,
  InputSource,
  LogLevel,
  PARAMETER_NAMES,
  ParameterDefinition,
  ParameterName,
  PARAMETERS,
} from './parameters';

/**
 * Memory kept back from `MemorySize` for the process itself before queued records get any: an idle connector
 * (Node.js 20, the AWS SDK, two MQTT connections) has a resident size of about 76 MiB, and garbage collection and
 * a call in flight take up to some 36 MiB more with a full queue (measured with `npm run bench`).
 */
export const RUNTIME_RESERVE_BYTES = 112 * 1024 * 1024;

/**
 * Share of what is left after the reserve that queued records may take: the process's resident size grows by
 * about 1.35 bytes per byte queued (allocator and garbage-collector overhead), measured with `npm run bench`;
 * 0.6 leaves a margin for calls in flight and bursts.
 */
export const QUEUE_SHARE_OF_FREE_MEMORY = 0.6;

/** The least the queues get, so that a `MemorySize` below what Node.js needs still leaves a working connector. */
export const MIN_QUEUE_BYTE_BUDGET = 8 * 1024 * 1024;

/** Validated configuration, in the runtime's own names. The wire names live only in `parameters.ts`. */
export interface ConnectorConfig {
  readonly defaultDeliveryStream: DeliveryStreamTarget;
  readonly deliveryStreamQueueSize: number;
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
  readonly statsIntervalSeconds: number;
  readonly logLevel: LogLevel;
}

export type QueueStoreKind = 'memory' | 'disk';

export interface QueueConfig {
  readonly store: QueueStoreKind;
  /** Folder of the disk queue. */
  readonly directory: string;
  /** Most data bytes the disk queue holds per stream. */
  readonly diskMaxBytes: number;
  readonly diskSync: DiskSyncPolicy;
  readonly fullPolicy: QueueFullPolicy;
}

export interface MqttConfig {
  readonly brokerUrl: string;
  readonly clientId: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Every problem found in the configuration, reported together so a user fixes them in one pass. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

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

/** Reads every source, validates every parameter, and throws one `ConfigError` listing all problems. */
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
  if (arn !== undefined && !defaultDeliveryStream) problems.unshift(invalid('DefaultDeliveryStreamArn', arn));
  const memorySizeKb = integer('MemorySize');
  const mqtt = {
    brokerUrl: text('MqttBrokerUrl') as string,
    clientId: text('MqttClientId') as string,
    caFile: text('MqttCaFile'),
    certFile: text('MqttCertFile'),
    keyFile: text('MqttKeyFile'),
  };
  checkMqtt(mqtt, problems);
  const inputSource = text('InputSource') as InputSource;
  const statusToIoTCore = text('StatusToIoTCore') === 'true';
  const ipc = checkIpcEnvironment(inputSource, statusToIoTCore, sources.env ?? {}, problems);

  if (problems.length > 0 || !defaultDeliveryStream) throw new ConfigError(problems);
  return {
    defaultDeliveryStream,
    deliveryStreamQueueSize: integer('DeliveryStreamQueueSize'),
    memorySizeKb,
    queueByteBudget: Math.max(MIN_QUEUE_BYTE_BUDGET, queueShare(memorySizeKb)),
    memorySizeTooSmall: queueShare(memorySizeKb) < MIN_QUEUE_BYTE_BUDGET,
    publishIntervalSeconds: integer('PublishInterval'),
    recordSeparator: Buffer.from(unescapeSeparator(text('RecordSeparator') ?? '')),
    inputSource,
    statusToIoTCore,
    ipc,
    mqtt,
    queue: {
      store: text('QueueStore') as QueueStoreKind,
      directory: text('QueueDirectory') || defaultQueueDirectory(sources.env ?? {}),
      diskMaxBytes: integer('QueueDiskSizeMB') * 1024 * 1024,
      diskSync: text('QueueDiskSync') as DiskSyncPolicy,
      fullPolicy: text('QueueFullPolicy') as QueueFullPolicy,
    },
    recordMaxAttempts: integer('RecordMaxAttempts'),
    recordMaxAgeSeconds: integer('RecordMaxAgeSeconds'),
    requestTimeoutSeconds: integer('RequestTimeoutSeconds'),
    shutdownTimeoutSeconds: integer('ShutdownTimeoutSeconds'),
    statsIntervalSeconds: integer('StatsIntervalSeconds'),
    logLevel: text('LogLevel') as LogLevel,
  };
}

/** The least `MemorySize` that gives the queues their minimum budget without overrunning it. */
export const MIN_MEMORY_SIZE_KB = Math.ceil(
  (RUNTIME_RESERVE_BYTES + MIN_QUEUE_BYTE_BUDGET / QUEUE_SHARE_OF_FREE_MEMORY) / 1024,
);

function queueShare(memorySizeKb: number): number {
  return Math.floor((memorySizeKb * 1024 - RUNTIME_RESERVE_BYTES) * QUEUE_SHARE_OF_FREE_MEMORY);
}

/** On Greengrass the recipe passes the component's work folder, which survives restarts and updates. */
function defaultQueueDirectory(env: NodeJS.ProcessEnv): string {
  const workDir = env.FIREHOSE_CONNECTOR_WORK_DIR;
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

/** Greengrass delivers configuration as strings; JSON files may hold numbers. An empty string means "not set". */
function parseParameter(
  name: ParameterName,
  value: unknown,
  problems: string[],
): string | number | undefined {
  const definition: ParameterDefinition = PARAMETERS[name];
  if (value === undefined || value === null || value === '') {
    if (definition.kind === 'string' && definition.required)
      problems.push(`${name} is required: ${definition.valid}`);
    return definition.default;
  }
  switch (definition.kind) {
    case 'integer': {
      const number = typeof value === 'number' ? value : typeof value === 'string' ? toInteger(value) : NaN;
      if (!Number.isInteger(number) || number < definition.min || number > definition.max) {
        problems.push(invalid(name, value));
        return definition.default;
      }
      return number;
    }
    case 'choice': {
      const choice = typeof value === 'string' ? normalizeChoice(name, value) : undefined;
      if (choice === undefined || !definition.choices.includes(choice)) {
        problems.push(invalid(name, value));
        return definition.default;
      }
      return choice;
    }
    case 'string':
      if (typeof value !== 'string') {
        problems.push(invalid(name, value));
        return definition.default;
      }
      return value.trim();
  }
}

function toInteger(value: string): number {
  return /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
}

const SEPARATOR_ESCAPES: Record<string, string> = { '\\n': '\n', '\\r\\n': '\r\n', '\\t': '\t' };

/** Accepts a separator as its literal character(s) or escaped, since environment variables rarely carry a newline. */
function normalizeChoice(name: ParameterName, value: string): string {
  if (name !== 'RecordSeparator') return value.trim();
  const literal = Object.entries(SEPARATOR_ESCAPES).find(([, character]) => character === value);
  return literal ? literal[0] : value;
}

function unescapeSeparator(value: string): string {
  return SEPARATOR_ESCAPES[value] ?? value;
}

function invalid(name: ParameterName, value: unknown): string {
  return `${name} is ${JSON.stringify(value)}; expected ${describeValidValues(PARAMETERS[name])}`;
}

function checkMqtt(mqtt: MqttConfig, problems: string[]): void {
  let url: URL | undefined;
  try {
    url = new URL(mqtt.brokerUrl);
  } catch {
    url = undefined;
  }
  if (!url || !['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) {
    problems.push(invalid('MqttBrokerUrl', mqtt.brokerUrl));
  }
  if (mqtt.clientId.length < 1 || mqtt.clientId.length > 128)
    problems.push(invalid('MqttClientId', mqtt.clientId));
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
