import { summarizeMetricData } from '../../../runtime/local/metrics-summary';

const PERIOD = new Date(Date.UTC(2026, 11, 5, 12, 4, 10));

describe('summarizeMetricData', () => {
  it('prints a line per stream and period: sums, rejections by reason, gauges as average and maximum', () => {
    // Prepare
    const stream = { DeliveryStream: 'local-stream' };
    const call = {
      namespace: 'GreengrassFirehoseConnector',
      region: 'us-east-1',
      receivedAt: PERIOD,
      data: [
        { metricName: 'MessagesReceived', dimensions: stream, timestamp: PERIOD, unit: 'Count', value: 3 },
        {
          metricName: 'MessagesRejected',
          dimensions: { ...stream, Reason: 'InvalidJson' },
          timestamp: PERIOD,
          unit: 'Count',
          value: 1,
        },
        {
          metricName: 'OldestRecordAge',
          dimensions: stream,
          timestamp: PERIOD,
          unit: 'Seconds',
          statisticValues: { SampleCount: 4, Sum: 2, Minimum: 0, Maximum: 1.25 },
        },
        {
          metricName: 'MessagesReceived',
          dimensions: { ...stream, CoreDevice: 'core-7' },
          timestamp: PERIOD,
          unit: 'Count',
          value: 3,
        },
      ],
    };

    // Act
    const lines = summarizeMetricData(call);

    // Assess
    expect(lines).toEqual([
      'metrics 12:04:10 local-stream: MessagesReceived 3, MessagesRejected InvalidJson 1, OldestRecordAge 0.5 s (max 1.3 s)',
    ]);
  });
});
