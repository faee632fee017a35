/**
 * The wire format of Firehose's `PutRecord` and `PutRecordBatch` as the service speaks it (AWS JSON 1.1): reading a
 * request, the service's validation messages, error bodies and response shapes.
 *
 * API reference: https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { writeAwsJson } from './aws-json-response';

/**
 * The per-call limits the service enforces. https://docs.aws.amazon.com/firehose/latest/dev/limits.html
 *
 * Written out here rather than imported from runtime/firehose/limits.ts: the endpoint is what the connector is
 * tested against, so a wrong value in the connector must not pass both.
 */
export const FIREHOSE_LIMITS = {
  /** Records in one PutRecordBatch call. */
  maxRecordsPerBatch: 500,
  /** Bytes of one record, before base64 encoding. */
  maxRecordBytes: 1_024_000,
  /** Bytes of all records of one call, before base64 encoding. */
  maxCallBytes: 4 * 1024 * 1024,
} as const;

export type FirehoseOperation = 'PutRecord' | 'PutRecordBatch';

/** An error answer: `code` goes out as `__type`, which the SDK turns into the exception's `name`. */
export interface ServiceError {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/** A well-formed PutRecord or PutRecordBatch request, its records base64-decoded. */
export interface ParsedCall {
  readonly operation: FirehoseOperation;
  readonly streamName: string;
  readonly records: readonly Buffer[];
  /** Decoded bytes of all records. */
  readonly bytes: number;
}

/** Response bodies, shaped as the service's. */
export interface PutRecordOutput {
  readonly RecordId: string;
  readonly Encrypted: false;
}

export interface PutRecordBatchOutput {
  readonly FailedPutCount: number;
  readonly Encrypted: false;
  readonly RequestResponses: ReadonlyArray<
    { RecordId: string } | { ErrorCode: string; ErrorMessage: string }
  >;
}

const TARGET_PREFIX = 'Firehose_20150804.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** `DeliveryStreamName`: "Length Constraints: Minimum length of 1. Maximum length of 64. Pattern: [a-zA-Z0-9_.-]+". */
export const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;

/** Status and message the service sends with the error codes it uses for throttling and internal errors. */
const KNOWN_ERRORS: Readonly<Record<string, { readonly status: number; readonly message: string }>> = {
  ServiceUnavailableException: { status: 503, message: 'Slow down.' },
  InternalFailure: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ThrottlingException: { status: 400, message: 'Rate exceeded' },
};

/** An error with the service's status and message for `code` unless given; unknown codes answer 400. */
export function serviceError(
  code: string,
  overrides: { readonly status?: number; readonly message?: string } = {},
): ServiceError {
  const known = KNOWN_ERRORS[code];
  return {
    code,
    status: overrides.status ?? known?.status ?? 400,
    message: overrides.message ?? known?.message ?? `${code}.`,
  };
}

/**
 * The answer of a stream over its throughput quota: ServiceUnavailableException, HTTP 503, "Slow down.", the only
 * throttling error in the PutRecord and PutRecordBatch models (the SDK's model maps it to 503).
 */
export const SLOW_DOWN: ServiceError = serviceError('ServiceUnavailableException');

export function validationError(message: string): ServiceError {
  return serviceError('ValidationException', { message: `1 validation error detected: ${message}` });
}

/** The operation named by `X-Amz-Target` without the `Firehose_20150804.` prefix; '' when there is none. */
export function operationOf(headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(TARGET_PREFIX)
    ? target.slice(TARGET_PREFIX.length)
    : '';
}

export function unknownOperation(headers: IncomingHttpHeaders): ServiceError {
  const target = headers['x-amz-target'];
  const shown = typeof target === 'string' ? target : '(no X-Amz-Target header)';
  return serviceError('UnknownOperationException', { message: `Unknown operation ${shown}.` });
}

export function isFirehoseOperation(operation: string): operation is FirehoseOperation {
  return operation === 'PutRecord' || operation === 'PutRecordBatch';
}

/** Decodes a request body, answering malformed requests as the service's front end does. */
export function parseCall(operation: FirehoseOperation, body: Buffer): ParsedCall | ServiceError {
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return serviceError('SerializationException', {
      message: 'Start of structure or map found where not expected.',
    });
  }
  if (typeof input !== 'object' || input === null) {
    return serviceError('SerializationException', { message: 'Expected a JSON object as request body.' });
  }
  const { DeliveryStreamName: streamName, Record: record, Records: batch } = input as Record<string, unknown>;
  if (typeof streamName !== 'string') {
    return validationError(
      "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!STREAM_NAME_PATTERN.test(streamName)) {
    return validationError(
      `Value '${streamName}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
    );
  }
  const rawRecords = operation === 'PutRecord' ? [record] : batch;
  if (!Array.isArray(rawRecords)) {
    return validationError("Value null at 'records' failed to satisfy constraint: Member must not be null");
  }
  const records: Buffer[] = [];
  let bytes = 0;
  for (const raw of rawRecords) {
    const data = (raw as { Data?: unknown } | null | undefined)?.Data;
    if (typeof data !== 'string') {
      return validationError(
        "Value null at 'record.data' failed to satisfy constraint: Member must not be null",
      );
    }
    const decoded = Buffer.from(data, 'base64');
    records.push(decoded);
    bytes += decoded.length;
  }
  return { operation, streamName, records, bytes };
}

/** Applies the per-call limits, in the order the service reports them: shape, then size. */
export function checkCallLimits(call: ParsedCall): ServiceError | undefined {
  const { records } = call;
  if (call.operation === 'PutRecordBatch') {
    if (records.length === 0) {
      return validationError(
        "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (records.length > FIREHOSE_LIMITS.maxRecordsPerBatch) {
      return validationError(
        `Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordsPerBatch}`,
      );
    }
  }
  const tooLarge = records.findIndex((data) => data.length > FIREHOSE_LIMITS.maxRecordBytes);
  if (tooLarge >= 0) {
    const field = call.operation === 'PutRecord' ? 'record.data' : `records.${tooLarge + 1}.member.data`;
    return validationError(
      `Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordBytes}`,
    );
  }
  if (call.bytes > FIREHOSE_LIMITS.maxCallBytes) {
    return serviceError('InvalidArgumentException', { message: 'Records size exceeds 4 MB limit' });
  }
  return undefined;
}

export function writeError(response: ServerResponse, error: ServiceError): void {
  writeJson(response, error.status, { __type: error.code, message: error.message });
}

export function writeJson(response: ServerResponse, status: number, body: object): void {
  writeAwsJson(response, CONTENT_TYPE, status, body);
}
