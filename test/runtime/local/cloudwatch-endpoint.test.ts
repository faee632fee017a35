import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { gzipSync } from 'node:zlib';
import { TestCloudWatchEndpoint } from '../../helpers/cloudwatch-endpoint';

const NOW = Date.now();
let endpoint: TestCloudWatchEndpoint;
let client: CloudWatchClient;

beforeAll(async () => {
  endpoint = await TestCloudWatchEndpoint.start();
  client = new CloudWatchClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await endpoint.stop();
});

function datum(overrides: Partial<MetricDatum> = {}): MetricDatum {
  return {
    MetricName: 'MessagesReceived',
    Dimensions: [{ Name: 'DeliveryStream', Value: 'main' }],
    Timestamp: new Date(NOW),
    Unit: 'Count',
    Value: 1,
    ...overrides,
  };
}

function put(data: MetricDatum[], namespace = 'Test/Connector') {
  return client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
}

/** A request as the SDK would send it, from raw JSON, for what the SDK itself would not send. */
function post(body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(endpoint.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'GraniteServiceVersion20100801.PutMetricData',
      ...headers,
    },
    body,
  });
}

describe('the local CloudWatch endpoint', () => {
  it('accepts the calls of the SDK, gzip-compressed ones of 10 KiB and more included, with their timestamps', async () => {
    // Prepare: 200 entries make a body of about 25 KB, which the SDK compresses.
    const data = Array.from({ length: 200 }, (_, index) =>
      datum({ Timestamp: new Date(NOW - index * 1000) }),
    );
    const calls = endpoint.calls.length;

    // Act
    await put(data);

    // Assess
    const [call] = endpoint.calls.slice(calls);
    expect(call.data).toHaveLength(200);
    expect(call.data[199].timestamp).toEqual(new Date(NOW - 199_000));
  });

  it('reads a body its Content-Encoding says is gzip', async () => {
    // Prepare
    const body = gzipSync(
      JSON.stringify({
        Namespace: 'Test/Gzip',
        MetricData: [{ MetricName: 'M', Value: 4, Timestamp: NOW / 1000 }],
      }),
    );

    // Act
    const response = await post(body, { 'Content-Encoding': 'gzip' });

    // Assess
    expect(response.status).toBe(200);
    expect(endpoint.data('Test/Gzip')).toMatchObject([{ metricName: 'M', value: 4 }]);
  });

  it('refuses a point more than two weeks old, as the service does, with the error the SDK names', async () => {
    // Act
    const sent = put([datum({ Timestamp: new Date(NOW - 15 * 24 * 3_600_000) })]);

    // Assess
    await expect(sent).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message:
        'The parameter MetricData.member.1.Timestamp must specify a time no more than two weeks in the past.',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses an entry with both Value and StatisticValues', async () => {
    // Act
    const sent = put([datum({ StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } })]);

    // Assess
    await expect(sent).rejects.toMatchObject({ name: 'InvalidParameterCombinationException' });
  });

  it('refuses more than 1000 entries in a call', async () => {
    // Act
    const sent = put(Array.from({ length: 1001 }, () => datum()));

    // Assess
    await expect(sent).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'The collection MetricData must not have a size greater than 1000.',
    });
  });

  it('refuses a namespace of AWS services', async () => {
    // Act
    const sent = put([datum()], 'AWS/Firehose');

    // Assess
    await expect(sent).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('refuses a body over 1 MB', async () => {
    // Prepare
    const body = JSON.stringify({
      Namespace: 'Test/Large',
      MetricData: [datum()],
      Padding: 'x'.repeat(1_000_000),
    });

    // Act
    const response = await post(body);

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-query-error')).toBe('RequestEntityTooLarge;Sender');
  });

  it('answers an operation other than PutMetricData with InvalidAction, the query code the SDK reports', async () => {
    // Act
    const sent = client.send(
      new GetMetricDataCommand({ MetricDataQueries: [], StartTime: new Date(NOW), EndTime: new Date(NOW) }),
    );

    // Assess
    await expect(sent).rejects.toMatchObject({
      name: 'InvalidAction',
      message: 'The local CloudWatch endpoint answers PutMetricData only, not GetMetricData.',
    });
  });

  it('fails calls while told to, and answers again once cleared', async () => {
    // Prepare
    endpoint.failCalls();
    await expect(put([datum()])).rejects.toMatchObject({ name: 'InternalServiceFault' });

    // Act
    endpoint.clearFaults();

    // Assess
    await expect(put([datum()])).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });
});
