/**
 * Status payloads published on `kinesisfirehose/message/status`, in the v2-4 connector's wire format:
 * `{"response":[...]}` with one entry per record. Wire names (`firehose_record_id`, `ErrorCode`...) appear only here.
 */

export interface SuccessStatus {
  readonly firehose_record_id: string;
  readonly id: string;
  readonly status: 'success';
}

export interface FailStatus {
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
  readonly id: string;
  readonly status: 'fail';
}

export type StatusEntry = SuccessStatus | FailStatus;

/** Error codes of the connector's own making. Failures reported by Firehose keep the service's code. */
export const ConnectorErrorCode = {
  /** The payload on `kinesisfirehose/message` is not JSON. */
  InvalidJson: 'InvalidJson',
  /** The JSON lacks `request` or `request.data`, or a field has the wrong type. */
  InvalidRequest: 'InvalidRequest',
  /** `request.delivery_stream_arn` is not a delivery stream ARN. */
  InvalidDeliveryStreamArn: 'InvalidDeliveryStreamArn',
  /** The record (with its separator) is over Firehose's 1,000 KiB limit; it was never sent. */
  RecordTooLarge: 'RecordTooLarge',
  /** The stream's queue is full (records or memory); the record was rejected. */
  QueueFull: 'QueueFull',
  /** The queue could not store the record (for example a full or missing disk). */
  QueueWriteFailed: 'QueueWriteFailed',
  /** The connector stopped before the record could be delivered. */
  ShuttingDown: 'ConnectorShuttingDown',
  /**
   * The message names a delivery stream beyond `MaxDeliveryStreams` while every stream served holds records; the
   * record was refused so that no publisher can make the connector grow without bound.
   */
  TooManyDeliveryStreams: 'TooManyDeliveryStreams',
  /** An unexpected fault of the connector's own; the log has the details. */
  InternalError: 'InternalError',
} as const;

export function successStatus(id: string, recordId: string): SuccessStatus {
  return { firehose_record_id: recordId, id, status: 'success' };
}

export function failStatus(id: string, errorCode: string, errorMessage: string): FailStatus {
  return { ErrorCode: errorCode, ErrorMessage: errorMessage, id, status: 'fail' };
}

export function statusPayload(entries: readonly StatusEntry[]): string {
  return JSON.stringify({ response: entries });
}
