import type { StatusEntry } from '../../runtime/message/status';
import { ConnectorProcess } from '../helpers/connector-process';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { StandInNucleus } from '../helpers/ipc-nucleus';
import { ScriptedBroker } from '../helpers/scripted-broker';
import { waitFor } from '../helpers/wait';

/**
 * The connector process when only part of its input comes up: the nucleus or the broker grants one input topic
 * and refuses the other (a hand-written accessControl, a broker ACL on binary/#), or the broker refuses the status
 * connection (a client policy that allows `firehose-connector` but not `firehose-connector-status`). What it takes
 * in on the granted topic goes out every PublishInterval, and a SIGTERM flushes it and reports it.
 */

const COMPONENT = 'community.greengrass.FirehoseConnector';
const JSON_TOPIC = 'kinesisfirehose/message';
const BINARY_FILTER = 'kinesisfirehose/message/binary/#';
const STATUS_TOPIC = 'kinesisfirehose/message/status';
const STREAM_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/main';

/** An accessControl that grants the JSON topic and the status topic, and forgets the binary topics. */
const jsonOnlyAccessControl = {
  'aws.greengrass.ipc.pubsub': {
    [`${COMPONENT}:pubsub:1`]: {
      operations: ['aws.greengrass#SubscribeToTopic', 'aws.greengrass#PublishToTopic'],
      resources: [JSON_TOPIC, STATUS_TOPIC],
    },
  },
};

let endpoint: TestFirehoseEndpoint;
let connector: ConnectorProcess | undefined;

beforeEach(async () => {
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
});

afterEach(async () => {
  await connector?.stop('SIGKILL').catch(() => undefined);
  connector = undefined;
  await endpoint.stop();
});

function statusesIn(payloads: readonly Buffer[]): StatusEntry[] {
  return payloads.flatMap(
    (payload) => (JSON.parse(payload.toString()) as { response: StatusEntry[] }).response,
  );
}

/** Records the connector has taken, from its latest stats line. */
function received(running: ConnectorProcess): number {
  const stats = running.logs.filter((line) => line.message === 'stats').pop();
  return stats ? (stats.received as number) : 0;
}

describe('the connector with IPC input while the nucleus refuses one input subscription', () => {
  let nucleus: StandInNucleus;

  beforeEach(async () => {
    nucleus = await StandInNucleus.start({
      [COMPONENT]: { authToken: 'connector-svcuid', accessControl: jsonOnlyAccessControl },
    });
  });

  afterEach(async () => {
    await nucleus.dispose();
  });

  async function startConnector(parameters: Record<string, string | number>): Promise<ConnectorProcess> {
    connector = await ConnectorProcess.start(
      { DefaultDeliveryStreamArn: STREAM_ARN, InputSource: 'ipc', ...parameters },
      { firehoseUrl: endpoint.url, env: nucleus.environmentFor(COMPONENT), waitUntilSubscribed: false },
    );
    await nucleus.waitForSubscribers(JSON_TOPIC, 1);
    return connector;
  }

  it('sends what the granted topic takes in every PublishInterval', async () => {
    // Prepare
    const running = await startConnector({ PublishInterval: 1 });

    // Act
    for (const id of ['a', 'b', 'c']) nucleus.publish(JSON_TOPIC, { json: { request: { data: id }, id } });
    const records = await endpoint.waitForRecords('main', 3, 10_000);
    await waitFor(() => nucleus.messagesOn(STATUS_TOPIC).length > 0, 10_000, 'a status message');

    // Assess
    expect(records.map((record) => record.data.toString())).toEqual(['a', 'b', 'c']);
    expect(statusesIn(nucleus.messagesOn(STATUS_TOPIC).map((message) => message.payload))).toEqual([
      expect.objectContaining({ id: 'a', status: 'success' }),
      expect.objectContaining({ id: 'b', status: 'success' }),
      expect.objectContaining({ id: 'c', status: 'success' }),
    ]);
    expect(running.logs.find((line) => line.level === 'error')).toMatchObject({
      message:
        "The nucleus refused the subscription: the component's accessControl must allow " +
        `aws.greengrass#SubscribeToTopic on ${BINARY_FILTER} (aws.greengrass.ipc.pubsub)`,
    });
    expect(running.logs.map((line) => line.message)).not.toContain('Ready');
  });

  it('flushes what it took on SIGTERM, publishes the statuses and exits 0', async () => {
    // Prepare
    const running = await startConnector({ PublishInterval: 900, StatsIntervalSeconds: 1 });
    for (const id of ['a', 'b', 'c']) nucleus.publish(JSON_TOPIC, { json: { request: { data: id }, id } });
    await waitFor(() => received(running) === 3, 10_000, 'three records taken');

    // Act
    const code = await running.stop('SIGTERM');

    // Assess
    expect(code).toBe(0);
    expect(endpoint.records('main').map((record) => record.data.toString())).toEqual(['a', 'b', 'c']);
    expect(
      statusesIn(nucleus.messagesOn(STATUS_TOPIC).map((message) => message.payload)).map((s) => s.status),
    ).toEqual(['success', 'success', 'success']);
  });
});

describe('the connector with MQTT input while the broker refuses part of it', () => {
  let broker: ScriptedBroker | undefined;

  afterEach(async () => {
    await connector?.stop('SIGKILL').catch(() => undefined);
    connector = undefined;
    await broker?.stop();
    broker = undefined;
  });

  async function startConnector(
    scripted: ScriptedBroker,
    parameters: Record<string, string | number>,
  ): Promise<ConnectorProcess> {
    connector = await ConnectorProcess.start(
      { DefaultDeliveryStreamArn: STREAM_ARN, MqttBrokerUrl: scripted.url, ...parameters },
      { firehoseUrl: endpoint.url, waitUntilSubscribed: false },
    );
    await waitFor(() => scripted.subscribersOf(JSON_TOPIC).length === 1, 10_000, 'the JSON subscription');
    return connector;
  }

  it('sends what the granted topic takes in every PublishInterval while the broker refuses binary/#', async () => {
    // Prepare
    broker = await ScriptedBroker.start({ refuseSubscription: (_, filter) => filter === BINARY_FILTER });
    const running = await startConnector(broker, { PublishInterval: 1 });

    // Act
    for (const id of ['a', 'b', 'c'])
      broker.publish(JSON_TOPIC, JSON.stringify({ request: { data: id }, id }));
    const records = await endpoint.waitForRecords('main', 3, 10_000);
    await waitFor(() => broker!.messagesOn(STATUS_TOPIC).length > 0, 10_000, 'a status message');

    // Assess
    expect(records.map((record) => record.data.toString())).toEqual(['a', 'b', 'c']);
    expect(statusesIn(broker.messagesOn(STATUS_TOPIC).map((message) => message.payload))).toHaveLength(3);
    expect(running.logs.find((line) => line.level === 'error')).toMatchObject({
      message: 'The broker refused the subscription to the input topics; retrying',
      topics: [BINARY_FILTER],
    });
    expect(running.logs.find((line) => line.message === 'Subscribed')).toMatchObject({
      topics: [JSON_TOPIC],
    });
    expect(running.logs.map((line) => line.message)).not.toContain('Ready');
  });

  it('sends what it takes in every PublishInterval while the broker refuses the status connection', async () => {
    // Prepare
    broker = await ScriptedBroker.start({ refuseConnect: (clientId) => clientId.endsWith('-status') });
    await startConnector(broker, { PublishInterval: 1 });

    // Act
    for (const id of ['a', 'b', 'c'])
      broker.publish(JSON_TOPIC, JSON.stringify({ request: { data: id }, id }));
    const records = await endpoint.waitForRecords('main', 3, 10_000);

    // Assess
    expect(records.map((record) => record.data.toString())).toEqual(['a', 'b', 'c']);
    expect(broker.refusedConnections).toContain('firehose-connector-status');
  });

  it('flushes what it took on SIGTERM and exits 0 while the broker refuses binary/#', async () => {
    // Prepare
    broker = await ScriptedBroker.start({ refuseSubscription: (_, filter) => filter === BINARY_FILTER });
    const running = await startConnector(broker, { PublishInterval: 900, StatsIntervalSeconds: 1 });
    for (const id of ['a', 'b', 'c'])
      broker.publish(JSON_TOPIC, JSON.stringify({ request: { data: id }, id }));
    await waitFor(() => received(running) === 3, 10_000, 'three records taken');

    // Act
    const code = await running.stop('SIGTERM');

    // Assess
    expect(code).toBe(0);
    expect(endpoint.records('main').map((record) => record.data.toString())).toEqual(['a', 'b', 'c']);
    expect(statusesIn(broker.messagesOn(STATUS_TOPIC).map((message) => message.payload))).toHaveLength(3);
  });
});
