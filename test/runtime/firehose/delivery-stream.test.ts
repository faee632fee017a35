import { parseDeliveryStreamArn } from '../../../runtime/firehose/delivery-stream';

describe('parseDeliveryStreamArn', () => {
  it('takes the partition, region, account and stream name from a delivery stream ARN', () => {
    // Act
    const stream = parseDeliveryStreamArn(
      'arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/s.1_x-y',
    );

    // Assess
    expect(stream).toEqual({
      arn: 'arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/s.1_x-y',
      partition: 'aws-cn',
      region: 'cn-north-1',
      accountId: '123456789012',
      name: 's.1_x-y',
    });
  });

  it.each([
    ['an S3 bucket ARN', 'arn:aws:s3:::bucket'],
    ['a Kinesis data stream ARN', 'arn:aws:kinesis:us-east-1:123456789012:stream/s1'],
    ['an account of 11 digits', 'arn:aws:firehose:us-east-1:12345678901:deliverystream/s1'],
    [
      'a stream name of 65 characters',
      `arn:aws:firehose:us-east-1:123456789012:deliverystream/${'s'.repeat(65)}`,
    ],
  ])('is undefined for %s', (_, arn) => {
    // Act
    const stream = parseDeliveryStreamArn(arn);

    // Assess
    expect(stream).toBeUndefined();
  });
});
