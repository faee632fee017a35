import { CloudWatchSender, type CloudWatchSenderOptions } from '../../../runtime/metrics/cloudwatch-sender';
import type { MetricPoint } from '../../../runtime/metrics/metric-point';
import { TestCloudWatchEndpoint } from '../../helpers/cloudwatch-endpoint';

const TIMESTAMP = Date.UTC(2026, 11, 5, 12, 0, 0);
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

let endpoint: TestCloudWatchEndpoint;
const senders: CloudWatchSender[] = [];

beforeAll(async () => {
  endpoint = await TestCloudWatchEndpoint.start();
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = endpoint.url;
});

afterEach(() => {
  for (const sender of senders.splice(0)) sender.destroy();
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_CLOUDWATCH;
  await endpoint.stop();
});

function sender(options: Partial<CloudWatchSenderOptions> = {}): CloudWatchSender {
  const created = new CloudWatchSender({
    namespace: 'Test/Connector',
    region: 'eu-west-1',
    credentials: CREDENTIALS,
    ...options,
  });
  senders.push(created);
  return created;
}

const POINTS: MetricPoint[] = [
  { metric: 'MessagesReceived', stream: 'main', timestamp: TIMESTAMP, value: 12 },
  { metric: 'MessagesRejected', stream: 'main', reason: 'InvalidJson', timestamp: TIMESTAMP, value: 2 },
  {
    metric: 'OldestRecordAge',
    stream: 'main',
    timestamp: TIMESTAMP,
    value: { sampleCount: 6, sum: 3, minimum: 0, maximum: 1.5 },
  },
];

describe('CloudWatchSender', () => {
  it('sends each point as an entry of the namespace, with its stream, unit and timestamp, in one call', async () => {
    // Prepare
    const calls = endpoint.calls.length;

    // Act
    await sender().send(POINTS);

    // Assess
    expect(endpoint.calls.slice(calls)).toHaveLength(1);
    const [call] = endpoint.calls.slice(calls);
    expect(call.namespace).toBe('Test/Connector');
    expect(call.region).toBe('eu-west-1');
    expect(call.data).toEqual([
      {
        metricName: 'MessagesReceived',
        dimensions: { DeliveryStream: 'main' },
        timestamp: new Date(TIMESTAMP),
        unit: 'Count',
        value: 12,
        storageResolution: 60,
      },
      {
        metricName: 'MessagesRejected',
        dimensions: { DeliveryStream: 'main', Reason: 'InvalidJson' },
        timestamp: new Date(TIMESTAMP),
        unit: 'Count',
        value: 2,
        storageResolution: 60,
      },
      {
        metricName: 'OldestRecordAge',
        dimensions: { DeliveryStream: 'main' },
        timestamp: new Date(TIMESTAMP),
        unit: 'Seconds',
        statisticValues: { SampleCount: 6, Sum: 3, Minimum: 0, Maximum: 1.5 },
        storageResolution: 60,
      },
    ]);
  });

  it('with a core device, sends each point for the stream and again for the stream and the device', async () => {
    // Prepare
    const calls = endpoint.calls.length;

    // Act
    await sender({ coreDevice: 'core-7' }).send(POINTS.slice(0, 1));

    // Assess
    const [call] = endpoint.calls.slice(calls);
    expect(call.data.map((datum) => datum.dimensions)).toEqual([
      { DeliveryStream: 'main' },
      { DeliveryStream: 'main', CoreDevice: 'core-7' },
    ]);
  });

  it('fits a full call with the longest names in what the service accepts', async () => {
    // Prepare: a 64-character stream, a 128-character thing name, the longest error code.
    const perDevice = sender({ coreDevice: 'd'.repeat(128) });
    const points: MetricPoint[] = Array.from({ length: perDevice.pointsPerCall }, (_, index) => ({
      metric: 'MessagesRejected',
      stream: 's'.repeat(64),
      reason: 'InvalidDeliveryStreamArn',
      timestamp: TIMESTAMP + index,
      value: { sampleCount: 123456, sum: 1234567.5, minimum: 0.001, maximum: 98765.4321 },
    }));
    const calls = endpoint.calls.length;

    // Act
    await perDevice.send(points);

    // Assess
    expect(endpoint.calls.slice(calls).map((call) => call.data.length)).toEqual([1000]);
  });

  it('rejects with the error of a call that fails', async () => {
    // Prepare
    endpoint.failCalls();

    // Act
    const sent = sender().send(POINTS);

    // Assess
    await expect(sent).rejects.toMatchObject({ name: 'InternalServiceFault' });
    endpoint.clearFaults();
  });
});
