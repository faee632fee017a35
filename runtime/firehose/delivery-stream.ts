import { DELIVERY_STREAM_ARN_PATTERN } from '../contract';

/** The parts of a delivery stream ARN the connector needs: where to send, and what to call the stream. */
export interface DeliveryStreamTarget {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** PutRecord and PutRecordBatch address a stream by name; the region comes from the ARN. */
  readonly name: string;
}

/** Parses a delivery stream ARN, or returns undefined when it is not one. */
export function parseDeliveryStreamArn(arn: string): DeliveryStreamTarget | undefined {
  const match = DELIVERY_STREAM_ARN_PATTERN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, accountId, name] = match;
  return { arn, partition, region, accountId, name };
}
