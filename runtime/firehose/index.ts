/**
 * The way out to Firehose: delivery-stream addresses, the service's limits, and the sender that makes
 * `PutRecordBatch` and `PutRecord` calls with the AWS SDK (request bodies written in one pass).
 */
export { parseDeliveryStreamArn } from './delivery-stream';
export type { DeliveryStreamTarget } from './delivery-stream';
export { FirehoseSender } from './firehose-sender';
export type { RecordOutcome, RecordSender } from './firehose-sender';
export { FirehoseLimits } from './limits';
