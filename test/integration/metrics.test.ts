import { startTestBroker, type TestBroker } from '../helpers/broker';
import { TestCloudWatchEndpoint } from '../helpers/cloudwatch-endpoint';
import { ConnectorProcess } from '../helpers/connector-process';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { TestMqttClient } from '../helpers/mqtt-client';
import { sleep } from '../helpers/wait';

/**
 * The connector's CloudWatch metrics end to end: the real bundle in its own process, a real broker, and the real
 * AWS SDK sending PutMetricData to the local CloudWatch endpoint through AWS_ENDPOINT_URL_CLOUDWATCH.
 */

const NAMESPACE = 'Test/FirehoseConnector';
const MAIN = { DeliveryStream: 'main' };

let broker: TestBroker;
let firehose: TestFirehoseEndpoint;
let cloudWatch: TestCloudWatchEndpoint;
let client: TestMqttClient;
let connector: ConnectorProcess | undefined;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.stop();
});

beforeEach(async () => {
  firehose = await TestFirehoseEndpoint.start({ streams: ['main'] });
  cloudWatch = await TestCloudWatchEndpoint.start();
  client = await TestMqttClient.connect(broker.url);
});

afterEach(async () => {
  await connector?.stop('SIGKILL').catch(() => undefined);
  connector = undefined;
  await client.close();
  await firehose.stop();
  await cloudWatch.stop();
});

/** The connector with metrics every second. */
async function startConnector(): Promise<ConnectorProcess> {
  connector = await ConnectorProcess.start(
    {
      DefaultDeliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/main',
      MqttBrokerUrl: broker.url,
      MqttClientId: `connector-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
      PublishInterval: 0,
      MetricsNamespace: NAMESPACE,
      MetricsIntervalSeconds: 1,
    },
    { firehoseUrl: firehose.url, env: { AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatch.url } },
  );
  return connector;
}

async function publish(count: number, prefix: string): Promise<void> {
  for (let index = 0; index < count; index++) {
    await client.publishJson({ request: { data: `${prefix}-${index}` }, id: `${prefix}-${index}` });
  }
}

describe('CloudWatch metrics, end to end', () => {
  it('sends the counts of the records it took, delivered and refused, per stream, in the namespace and region', async () => {
    // Prepare
    await startConnector();

    // Act
    await publish(40, 'ok');
    for (let index = 0; index < 3; index++) await client.publish('kinesisfirehose/message', 'not json');
    await client.waitForStatuses(43);
    await cloudWatch.waitFor(
      () => cloudWatch.sum('MessagesDelivered', MAIN) === 40,
      'MessagesDelivered to add up to 40',
    );
    // A period sampled wholly after the last delivery: the queue is back to empty.
    await cloudWatch.waitFor(
      () => cloudWatch.matching('QueueDepth', MAIN).at(-1)?.statisticValues?.Maximum === 0,
      'a period with an empty queue',
    );
    await sleep(1500);

    // Assess
    expect(cloudWatch.sum('MessagesReceived', MAIN)).toBe(40);
    expect(cloudWatch.sum('MessagesDelivered', MAIN)).toBe(40);
    expect(cloudWatch.sum('MessagesRejected', { ...MAIN, Reason: 'InvalidJson' })).toBe(3);
    expect(cloudWatch.sum('FirehoseCalls', MAIN)).toBe(firehose.callTotals.calls);
    expect(cloudWatch.sum('MessagesFailed', MAIN)).toBe(0);
    expect(new Set(cloudWatch.calls.map((call) => `${call.namespace} ${call.region}`))).toEqual(
      new Set([`${NAMESPACE} eu-west-1`]),
    );
  });

  it('keeps the points of the periods CloudWatch was down, and sends them afterwards with their own timestamps', async () => {
    // Prepare
    const running = await startConnector();
    await publish(10, 'before');
    await cloudWatch.waitFor(() => cloudWatch.sum('MessagesReceived', MAIN) === 10, '10 messages counted');

    // Act: 20 messages while the endpoint is down, for a few periods.
    await cloudWatch.pause();
    await publish(20, 'during');
    await client.waitForStatuses(30);
    await running.waitForLog('Could not send metrics to CloudWatch; keeping them to send later');
    await sleep(2500);
    const resumedAt = Date.now();
    await cloudWatch.resume();
    await cloudWatch.waitFor(() => cloudWatch.sum('MessagesReceived', MAIN) === 30, '30 messages counted');

    // Assess: the 20 arrived after the endpoint came back, in points stamped with the periods of the outage.
    const late = cloudWatch.calls
      .filter((call) => call.receivedAt.getTime() >= resumedAt)
      .flatMap((call) => call.data)
      .filter(
        (datum) => datum.metricName === 'MessagesReceived' && datum.timestamp.getTime() < resumedAt - 1000,
      );
    expect(late.reduce((total, datum) => total + (datum.value ?? 0), 0)).toBe(20);
    expect(new Set(late.map((datum) => datum.timestamp.getTime())).size).toBeGreaterThanOrEqual(3);
    await running.waitForLog('Metrics reach CloudWatch again; sent the points kept meanwhile');
    const outageLines = running.logs.filter((line) => line.message.startsWith('Could not send metrics'));
    expect(outageLines).toHaveLength(1);
  });
});
