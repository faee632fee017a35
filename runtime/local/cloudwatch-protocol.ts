/**
 * The wire format of CloudWatch's `PutMetricData` as the AWS SDK for JavaScript 3.x speaks it: AWS JSON 1.0,
 * `X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`, `x-amzn-query-mode: true` (the service also speaks
 * its older query protocol, and the SDK asks for query-compatible errors), timestamps in epoch seconds, and bodies
 * of 10 KiB or more gzip-compressed (`Content-Encoding: gzip`). Read from @aws-sdk/client-cloudwatch 3.1178
 * (`runtimeConfig.shared.js`, `commandBuilder.js`) and checked against the requests it sends.
 *
 * API reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { writeAwsJson } from './aws-json-response';

/**
 * The limits the service enforces on one call. Written out here rather than imported from the runtime: the endpoint
 * is what the connector is tested against, so a wrong value in the connector must not pass both.
 */
export const PUT_METRIC_DATA_LIMITS = {
  /** Bytes of one request body. */
  maxBodyBytes: 1_000_000,
  /** Entries of `MetricData`. */
  maxData: 1000,
  /** Dimensions of one entry. */
  maxDimensions: 30,
  /** Entries of `Values` (and `Counts`). */
  maxValues: 150,
  /** How far back a timestamp may be. */
  maxAgeMs: 14 * 24 * 3_600_000,
  /** How far ahead a timestamp may be. */
  maxAheadMs: 2 * 3_600_000,
} as const;

const TARGET = 'GraniteServiceVersion20100801.PutMetricData';
const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** The units `MetricDatum.Unit` accepts (`StandardUnit` in the API). */
const UNITS: ReadonlySet<string> = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/** An error answer: `code` as the SDK names the exception, with its query-protocol code and status. */
export interface CloudWatchError {
  readonly code: string;
  readonly queryCode: string;
  readonly status: number;
  readonly message: string;
}

/** The query-protocol code and status of each error PutMetricData (and any AWS JSON service) answers with. */
const ERRORS: Readonly<Record<string, { readonly queryCode: string; readonly status: number }>> = {
  InvalidParameterValueException: { queryCode: 'InvalidParameterValue', status: 400 },
  InvalidParameterCombinationException: { queryCode: 'InvalidParameterCombination', status: 400 },
  MissingRequiredParameterException: { queryCode: 'MissingParameter', status: 400 },
  InternalServiceFault: { queryCode: 'InternalServiceError', status: 500 },
  UnknownOperationException: { queryCode: 'InvalidAction', status: 400 },
  SerializationException: { queryCode: 'MalformedInput', status: 400 },
  RequestEntityTooLargeException: { queryCode: 'RequestEntityTooLarge', status: 413 },
};

export function cloudWatchError(code: keyof typeof ERRORS, message: string): CloudWatchError {
  return { code, message, ...ERRORS[code] };
}

const invalid = (message: string): CloudWatchError =>
  cloudWatchError('InvalidParameterValueException', message);

export interface StatisticValues {
  readonly SampleCount: number;
  readonly Sum: number;
  readonly Minimum: number;
  readonly Maximum: number;
}

/** One `MetricData` entry as received, its timestamp decoded. */
export interface ReceivedDatum {
  readonly metricName: string;
  /** Dimension values by name. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The entry's timestamp, or when the call arrived if it has none. */
  readonly timestamp: Date;
  readonly unit?: string;
  readonly value?: number;
  readonly statisticValues?: StatisticValues;
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
  readonly storageResolution?: number;
}

/** A well-formed PutMetricData call. */
export interface MetricDataCall {
  readonly namespace: string;
  readonly data: readonly ReceivedDatum[];
}

/** Whether the request names PutMetricData; anything else is answered with UnknownOperationException. */
export function isPutMetricData(headers: IncomingHttpHeaders): boolean {
  return headers['x-amz-target'] === TARGET;
}

export function unknownOperation(headers: IncomingHttpHeaders): CloudWatchError {
  const target = headers['x-amz-target'];
  const operation =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : target;
  return cloudWatchError(
    'UnknownOperationException',
    `The local CloudWatch endpoint answers PutMetricData only, not ${operation ?? '(no X-Amz-Target header)'}.`,
  );
}

/** Decodes and checks a request body, as the service does; `receivedAt` bounds the timestamps. */
export function parsePutMetricData(
  headers: IncomingHttpHeaders,
  raw: Buffer,
  receivedAt: Date,
): MetricDataCall | CloudWatchError {
  let body = raw;
  if (headers['content-encoding'] === 'gzip') {
    try {
      body = gunzipSync(raw, { maxOutputLength: PUT_METRIC_DATA_LIMITS.maxBodyBytes + 1 });
    } catch {
      return cloudWatchError(
        'SerializationException',
        'The body is not gzip data, or is larger than 1 MB uncompressed.',
      );
    }
  }
  if (body.length > PUT_METRIC_DATA_LIMITS.maxBodyBytes) {
    return cloudWatchError('RequestEntityTooLargeException', 'Request size exceeded 1000000 bytes.');
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return cloudWatchError('SerializationException', 'The body is not JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return cloudWatchError('SerializationException', 'Expected a JSON object as request body.');
  }
  const { Namespace: namespace, MetricData: rawData } = input as Record<string, unknown>;
  if (typeof namespace !== 'string') {
    return cloudWatchError('MissingRequiredParameterException', 'The parameter Namespace is required.');
  }
  if (!/^[\x20-\x7e]{1,255}$/.test(namespace) || namespace.startsWith(':') || namespace.startsWith('AWS/')) {
    return invalid(`The value ${namespace} for parameter Namespace is invalid.`);
  }
  if (!Array.isArray(rawData) || rawData.length === 0) {
    return cloudWatchError('MissingRequiredParameterException', 'The parameter MetricData is required.');
  }
  if (rawData.length > PUT_METRIC_DATA_LIMITS.maxData) {
    return invalid(
      `The collection MetricData must not have a size greater than ${PUT_METRIC_DATA_LIMITS.maxData}.`,
    );
  }
  try {
    const data = rawData.map((entry, index) =>
      parseDatum(entry, `MetricData.member.${index + 1}`, receivedAt),
    );
    return { namespace, data };
  } catch (error) {
    if (error instanceof Refusal) return error.answer;
    throw error;
  }
}

/** Thrown by the checks of one entry, carrying the answer. */
class Refusal extends Error {
  override readonly name = 'Refusal';

  constructor(readonly answer: CloudWatchError) {
    super(answer.message);
  }
}

function refuse(code: keyof typeof ERRORS, message: string): never {
  throw new Refusal(cloudWatchError(code, message));
}

function parseDatum(entry: unknown, path: string, receivedAt: Date): ReceivedDatum {
  if (typeof entry !== 'object' || entry === null) {
    refuse('InvalidParameterValueException', `The parameter ${path} is not a structure.`);
  }
  const fields = entry as Record<string, unknown>;
  const {
    MetricName,
    Dimensions,
    Timestamp,
    Unit,
    Value,
    StatisticValues,
    Values,
    Counts,
    StorageResolution,
  } = fields;
  if (typeof MetricName !== 'string' || MetricName.length === 0 || MetricName.length > 255) {
    refuse('MissingRequiredParameterException', `The parameter ${path}.MetricName is required.`);
  }
  const kinds = [Value, StatisticValues, Values].filter((field) => field !== undefined).length;
  if (kinds > 1) {
    refuse(
      'InvalidParameterCombinationException',
      `The parameters ${path}.Value, ${path}.StatisticValues and ${path}.Values are mutually exclusive.`,
    );
  }
  if (kinds === 0) {
    refuse(
      'MissingRequiredParameterException',
      `One of ${path}.Value, ${path}.StatisticValues or ${path}.Values is required.`,
    );
  }
  if (Value !== undefined && !isFiniteNumber(Value)) {
    refuse('InvalidParameterValueException', `The parameter ${path}.Value is not a number.`);
  }
  if (Unit !== undefined && (typeof Unit !== 'string' || !UNITS.has(Unit))) {
    refuse(
      'InvalidParameterValueException',
      `The value ${String(Unit)} for parameter ${path}.Unit is invalid.`,
    );
  }
  if (StorageResolution !== undefined && StorageResolution !== 1 && StorageResolution !== 60) {
    refuse('InvalidParameterValueException', `The parameter ${path}.StorageResolution must be 1 or 60.`);
  }
  const values = Values === undefined ? undefined : parseValues(Values, Counts, path);
  return {
    metricName: MetricName,
    dimensions: parseDimensions(Dimensions, path),
    timestamp: Timestamp === undefined ? receivedAt : parseTimestamp(Timestamp, path, receivedAt),
    unit: Unit,
    value: Value,
    statisticValues: StatisticValues === undefined ? undefined : parseStatistics(StatisticValues, path),
    values: values?.values,
    counts: values?.counts,
    storageResolution: StorageResolution,
  };
}

function parseDimensions(raw: unknown, path: string): Record<string, string> {
  if (raw === undefined) return {};
  if (!Array.isArray(raw) || raw.length > PUT_METRIC_DATA_LIMITS.maxDimensions) {
    refuse(
      'InvalidParameterValueException',
      `The collection ${path}.Dimensions must not have a size greater than ${PUT_METRIC_DATA_LIMITS.maxDimensions}.`,
    );
  }
  const dimensions: Record<string, string> = {};
  for (const [index, dimension] of raw.entries()) {
    const { Name, Value } = (dimension ?? {}) as Record<string, unknown>;
    const at = `${path}.Dimensions.member.${index + 1}`;
    if (typeof Name !== 'string' || Name.length === 0 || Name.length > 255) {
      refuse('MissingRequiredParameterException', `The parameter ${at}.Name is required.`);
    }
    if (typeof Value !== 'string' || Value.length === 0 || Value.length > 1024) {
      refuse('MissingRequiredParameterException', `The parameter ${at}.Value is required.`);
    }
    if (Object.hasOwn(dimensions, Name)) {
      refuse('InvalidParameterValueException', `The dimension ${Name} appears more than once in ${path}.`);
    }
    dimensions[Name] = Value;
  }
  return dimensions;
}

function parseStatistics(raw: unknown, path: string): StatisticValues {
  const { SampleCount, Sum, Minimum, Maximum } = (raw ?? {}) as Record<string, unknown>;
  if (![SampleCount, Sum, Minimum, Maximum].every(isFiniteNumber)) {
    refuse(
      'MissingRequiredParameterException',
      `The parameters ${path}.StatisticValues.SampleCount, Sum, Minimum and Maximum are all required.`,
    );
  }
  const statistics = { SampleCount, Sum, Minimum, Maximum } as StatisticValues;
  if (statistics.SampleCount <= 0 || statistics.Minimum > statistics.Maximum) {
    refuse(
      'InvalidParameterValueException',
      `The parameter ${path}.StatisticValues is not a consistent statistic set.`,
    );
  }
  return statistics;
}

function parseValues(
  rawValues: unknown,
  rawCounts: unknown,
  path: string,
): { values: number[]; counts?: number[] } {
  if (!Array.isArray(rawValues) || !rawValues.every(isFiniteNumber)) {
    refuse('InvalidParameterValueException', `The parameter ${path}.Values must be a list of numbers.`);
  }
  if (rawValues.length > PUT_METRIC_DATA_LIMITS.maxValues) {
    refuse(
      'InvalidParameterValueException',
      `The collection ${path}.Values must not have a size greater than ${PUT_METRIC_DATA_LIMITS.maxValues}.`,
    );
  }
  if (rawCounts === undefined) return { values: rawValues };
  if (
    !Array.isArray(rawCounts) ||
    !rawCounts.every(isFiniteNumber) ||
    rawCounts.length !== rawValues.length
  ) {
    refuse(
      'InvalidParameterValueException',
      `The parameters ${path}.Values and ${path}.Counts must be lists of the same length.`,
    );
  }
  return { values: rawValues, counts: rawCounts };
}

/** AWS JSON encodes timestamps as epoch seconds, with a fraction for milliseconds. */
function parseTimestamp(raw: unknown, path: string, receivedAt: Date): Date {
  if (!isFiniteNumber(raw))
    refuse('InvalidParameterValueException', `The parameter ${path}.Timestamp is not a timestamp.`);
  const timestamp = new Date(raw * 1000);
  const ageMs = receivedAt.getTime() - timestamp.getTime();
  if (ageMs > PUT_METRIC_DATA_LIMITS.maxAgeMs) {
    refuse(
      'InvalidParameterValueException',
      `The parameter ${path}.Timestamp must specify a time no more than two weeks in the past.`,
    );
  }
  if (-ageMs > PUT_METRIC_DATA_LIMITS.maxAheadMs) {
    refuse(
      'InvalidParameterValueException',
      `The parameter ${path}.Timestamp must specify a time no more than two hours in the future.`,
    );
  }
  return timestamp;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function writeCloudWatchError(response: ServerResponse, error: CloudWatchError): void {
  writeAwsJson(
    response,
    CONTENT_TYPE,
    error.status,
    { __type: `com.amazonaws.cloudwatch#${error.code}`, message: error.message },
    {
      // How a query-compatible AWS JSON service tells the SDK the error's query code and fault.
      'x-amzn-query-error': `${error.queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}`,
    },
  );
}

/** PutMetricData's answer: an empty structure. */
export function writeAccepted(response: ServerResponse): void {
  writeAwsJson(response, CONTENT_TYPE, 200, {});
}
