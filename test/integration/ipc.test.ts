import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAccessControl } from '../../lib/access-control';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import type { StatusEntry } from '../../runtime/message/status';
import { startTestBroker } from '../helpers/broker';
import { ConnectorProcess } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { StandInNucleus } from '../helpers/ipc-nucleus';
import { TestMqttClient } from '../helpers/mqtt-client';
import { waitFor } from '../helpers/wait';

/**
 * The connector process (the real bundle) with Greengrass IPC input, against the stand-in nucleus holding the
 * recipe's own accessControl, and the local Firehose endpoint through the real AWS SDK.
 */

const COMPONENT = 'community.greengrass.FirehoseConnector';
const STATUS_TOPIC = 'kinesisfirehose/message/status';

let nucleus: StandInNucleus;
let endpoint: TestFirehoseEndpoint;
let connector: ConnectorProcess | undefined;

beforeEach(async () => {
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
  nucleus = await StandInNucleus.start({
    [COMPONENT]: {
      authToken: 'connector-svcuid',
      accessControl: buildAccessControl({ componentName: COMPONENT, statusToIoTCore: true }),
    },
  });
});

afterEach(async () => {
  await connector?.stop('SIGKILL').catch(() => undefined);
  connector = undefined;
  await nucleus.dispose();
  await endpoint.stop();
});

async function startConnector(parameters: Record<string, string | number> = {}): Promise<ConnectorProcess> {
  connector = await ConnectorProcess.start(
    { DefaultDeliveryStreamArn: streamArn('main'), InputSource: 'ipc', PublishInterval: 0, ...parameters },
    { firehoseUrl: endpoint.url, env: nucleus.environmentFor(COMPONENT) },
  );
  return connector;
}

/** Every status entry the connector published on local publish/subscribe. */
function localStatuses(): StatusEntry[] {
  return nucleus
    .messagesOn(STATUS_TOPIC)
    .flatMap((message) => (JSON.parse(message.payload.toString()) as { response: StatusEntry[] }).response);
}

async function waitForLocalStatuses(count: number, timeoutMs = 15_000): Promise<StatusEntry[]> {
  await waitFor(() => localStatuses().length >= count, timeoutMs, `${count} statuses on ${STATUS_TOPIC}`);
  return localStatuses();
}

/** Records the connector has taken, from its latest stats line. */
function received(running: ConnectorProcess): number {
  const stats = running.logs.filter((line) => line.message === 'stats').pop();
  return stats ? (stats.received as number) : 0;
}

describe('the connector with IPC input', () => {
  it('delivers the seed example byte for byte and publishes its status on local publish/subscribe', async () => {
    // Prepare
    await startConnector();

    // Act
    nucleus.publish('kinesisfirehose/message', {
      json: { request: { data: 'Message from Firehose Connector Test' }, id: 'req_123' },
    });
    const [record] = await endpoint.waitForRecords('main', 1);
    await waitForLocalStatuses(1);

    // Assess
    expect(record.data).toEqual(Buffer.from('Message from Firehose Connector Test'));
    expect(nucleus.messagesOn(STATUS_TOPIC)).toEqual([
      {
        topic: STATUS_TOPIC,
        from: COMPONENT,
        kind: 'binary',
        payload: Buffer.from(
          JSON.stringify({
            response: [{ firehose_record_id: record.recordId, id: 'req_123', status: 'success' }],
          }),
        ),
      },
    ]);
    expect(nucleus.iotCore).toEqual([]);
  });

  it('takes JSON text in a binaryMessage on the JSON topic, as published through an MQTT bridge', async () => {
    // Prepare
    await startConnector();

    // Act
    nucleus.publish('kinesisfirehose/message', {
      binary: Buffer.from('{"request":{"data":{"t":21.5}},"id":"b"}'),
    });
    const [record] = await endpoint.waitForRecords('main', 1);

    // Assess
    expect(record.data.toString()).toBe('{"t":21.5}');
    expect(await waitForLocalStatuses(1)).toEqual([
      { firehose_record_id: record.recordId, id: 'b', status: 'success' },
    ]);
  });

  it('delivers binary messages as they are, with the id taken from the topic', async () => {
    // Prepare
    await startConnector();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0d, 0x22, 0x7b, 0x80]);

    // Act
    nucleus.publish('kinesisfirehose/message/binary/request123', { binary: bytes });
    nucleus.publish('kinesisfirehose/message/binary/', { binary: Buffer.from('no id') });
    const records = await endpoint.waitForRecords('main', 2);
    const statuses = await waitForLocalStatuses(2);

    // Assess
    expect(records.map((record) => record.data)).toEqual([bytes, Buffer.from('no id')]);
    expect(statuses.map((status) => [status.id, status.status])).toEqual([
      ['request123', 'success'],
      ['', 'success'],
    ]);
  });

  it('also publishes every status to AWS IoT Core at QoS 1 when StatusToIoTCore is true', async () => {
    // Prepare
    await startConnector({ StatusToIoTCore: 'true' });

    // Act
    nucleus.publish('kinesisfirehose/message', { json: { request: { data: 'to the console' }, id: 'c1' } });
    await waitFor(() => nucleus.iotCore.length === 1, 10_000, 'a status on AWS IoT Core');
    await waitForLocalStatuses(1);

    // Assess
    expect(nucleus.iotCore).toEqual([
      {
        topicName: STATUS_TOPIC,
        qos: '1',
        payload: nucleus.messagesOn(STATUS_TOPIC)[0].payload,
        from: COMPONENT,
      },
    ]);
  });

  it('answers every bad message with a fail status and still delivers the valid ones around them', async () => {
    // Prepare
    await startConnector();

    // Act
    const publish = (topic: string, message: { json: unknown } | { binary: Buffer }) =>
      nucleus.publish(topic, message);
    publish('kinesisfirehose/message', { json: { request: { data: 'before' }, id: 'ok1' } });
    publish('kinesisfirehose/message', { binary: Buffer.from('{"request": {"data": ') });
    publish('kinesisfirehose/message', { json: { id: 'no-request' } });
    publish('kinesisfirehose/message', {
      json: { request: { delivery_stream_arn: streamArn('main') }, id: 'no-data' },
    });
    publish('kinesisfirehose/message', {
      json: { request: { data: 'x', delivery_stream_arn: 'arn:bad' }, id: 'bad-arn' },
    });
    publish('kinesisfirehose/message/binary/too-big', { binary: Buffer.alloc(1_024_001, 1) });
    // Over 8 MiB as base64: never read, so its topic (and id) is unknown.
    publish('kinesisfirehose/message/binary/far-too-big', { binary: Buffer.alloc(7 * 1024 * 1024, 1) });
    publish('kinesisfirehose/message', { json: { request: { data: 'after' }, id: 'ok2' } });
    const statuses = await waitForLocalStatuses(8);
    const records = await endpoint.waitForRecords('main', 2);

    // Assess
    expect(records.map((record) => record.data.toString())).toEqual(['before', 'after']);
    expect(
      statuses.map((status) => [status.id, status.status, 'ErrorCode' in status ? status.ErrorCode : '']),
    ).toEqual(
      expect.arrayContaining([
        ['ok1', 'success', ''],
        ['', 'fail', 'InvalidJson'],
        ['no-request', 'fail', 'InvalidRequest'],
        ['no-data', 'fail', 'InvalidRequest'],
        ['bad-arn', 'fail', 'InvalidDeliveryStreamArn'],
        ['too-big', 'fail', 'RecordTooLarge'],
        ['', 'fail', 'RecordTooLarge'],
        ['ok2', 'success', ''],
      ]),
    );
    expect(connector!.logs.filter((line) => line.message === 'Could not publish a status message')).toEqual(
      [],
    );
    expect(
      connector!.logs.find(
        (line) => line.message === 'Skipped an IPC message larger than the connector reads',
      ),
    ).toMatchObject({ level: 'warn', subscription: 'kinesisfirehose/message/binary/#' });
  });

  it('reconnects when the nucleus restarts mid-stream, keeping the records it took and taking new ones', async () => {
    // Prepare: records wait in the queue for the next PublishInterval, so the restart happens while they are queued.
    const running = await startConnector({ PublishInterval: 5, StatsIntervalSeconds: 1 });
    const publishBatch = (prefix: string) => {
      for (let index = 0; index < 50; index++) {
        nucleus.publish('kinesisfirehose/message', {
          json: { request: { data: `${prefix}${index}` }, id: `${prefix}${index}` },
        });
      }
    };
    publishBatch('a');
    await waitFor(() => received(running) === 50, 10_000, 'the first 50 records taken');

    // Act
    await nucleus.restart();
    await nucleus.waitForSubscribers('kinesisfirehose/message', 1);
    await nucleus.waitForSubscribers('kinesisfirehose/message/binary/#', 1);
    publishBatch('b');
    const records = await endpoint.waitForRecords('main', 100, 20_000);

    // Assess
    expect(new Set(records.map((record) => record.data.toString())).size).toBe(100);
    await waitFor(() => localStatuses().filter((status) => status.id.startsWith('b')).length === 50, 10_000);
    const steps = running.logs.map((line) => line.message);
    const lost = steps.indexOf('IPC connection to the nucleus lost');
    expect(lost).toBeGreaterThan(-1);
    expect(steps.slice(lost)).toEqual(
      expect.arrayContaining([
        'Reconnecting to the nucleus',
        'Connected to the Greengrass nucleus over IPC',
        'Subscribed over IPC',
      ]),
    );
  });

  it('ends its subscriptions on SIGTERM, delivers what it took, and exits 0', async () => {
    // Prepare
    const running = await startConnector({ PublishInterval: 60, StatsIntervalSeconds: 1 });
    nucleus.publish('kinesisfirehose/message', { json: { request: { data: 'flushed' }, id: 'last' } });
    await waitFor(() => received(running) === 1, 10_000, 'the record taken');

    // Act
    const code = await running.stop('SIGTERM');

    // Assess
    expect(code).toBe(0);
    expect(endpoint.records('main').map((record) => record.data.toString())).toEqual(['flushed']);
    expect(nucleus.subscribers('kinesisfirehose/message')).toEqual([]);
  });

  it('refuses to start with InputSource ipc when the nucleus did not start it, and exits 2', async () => {
    // Prepare
    const configFile = join(mkdtempSync(join(tmpdir(), 'connector-')), 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ DefaultDeliveryStreamArn: streamArn('main'), InputSource: 'ipc' }),
    );

    // Act
    const result = await ConnectorProcess.runToExit(['--config', configFile]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'InputSource "ipc" needs Greengrass IPC, but AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID ' +
        'are not both set: the process was not started by the Greengrass nucleus.',
    );
  });
});

describe('the connector with both inputs', () => {
  it('takes messages from the broker and from IPC, and publishes every status on both status topics', async () => {
    // Prepare
    const broker = await startTestBroker();
    const mqttClient = await TestMqttClient.connect(broker.url);
    try {
      await startConnector({
        InputSource: 'both',
        MqttBrokerUrl: broker.url,
        MqttClientId: `both-${Date.now()}`,
      });

      // Act
      await mqttClient.publishJson({ request: { data: 'over MQTT' }, id: 'm' });
      nucleus.publish('kinesisfirehose/message', { json: { request: { data: 'over IPC' }, id: 'i' } });
      const records = await endpoint.waitForRecords('main', 2);
      await mqttClient.waitForStatuses(2);
      await waitForLocalStatuses(2);

      // Assess
      expect(records.map((record) => record.data.toString()).sort()).toEqual(['over IPC', 'over MQTT']);
      expect(mqttClient.statuses.map((status) => status.id).sort()).toEqual(['i', 'm']);
      expect(
        localStatuses()
          .map((status) => status.id)
          .sort(),
      ).toEqual(['i', 'm']);
    } finally {
      await mqttClient.close();
      await connector?.stop('SIGKILL').catch(() => undefined);
      connector = undefined;
      await broker.stop();
    }
  });
});
