import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { ConnectorProcess } from '../helpers/connector-process';
import { TestMqttClient } from '../helpers/mqtt-client';
import { waitFor } from '../helpers/wait';

/**
 * RecordPacking end to end: the real connector process, a real broker, and the real AWS SDK talking to the local
 * Firehose endpoint, which writes each call as an S3-style object the way Firehose concatenates records.
 */

const STREAM_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/main';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.stop();
});

interface Message {
  readonly id: string;
  readonly topic: string;
  readonly payload: Buffer;
  /** What the record holds for it, before its separator. */
  readonly data: Buffer;
}

/**
 * JSON messages whose data is a string or an object, binary ones of any bytes (newlines included), and six of
 * 600,000 bytes, each too large to share a record with another of them: 446 messages and 3.7 MB, one call either
 * way.
 */
function mixedMessages(): Message[] {
  const messages: Message[] = [];
  for (let index = 0; index < 446; index++) {
    const id = `m${index}`;
    if (index % 75 === 74) {
      const data = randomBytes(600_000);
      messages.push({ id, topic: `kinesisfirehose/message/binary/${id}`, payload: data, data });
    } else if (index % 10 === 3) {
      const data = randomBytes(50 + (index % 200));
      messages.push({ id, topic: `kinesisfirehose/message/binary/${id}`, payload: data, data });
    } else if (index % 2 === 0) {
      const data = { device: `sensor-${index}`, temperature: 20 + index / 10, ok: true };
      const payload = Buffer.from(JSON.stringify({ request: { data }, id }));
      messages.push({
        id,
        topic: 'kinesisfirehose/message',
        payload,
        data: Buffer.from(JSON.stringify(data)),
      });
    } else {
      const data = `reading ${index}: ${'é'.repeat(index % 40)}`;
      const payload = Buffer.from(JSON.stringify({ request: { data }, id }));
      messages.push({ id, topic: 'kinesisfirehose/message', payload, data: Buffer.from(data) });
    }
  }
  return messages;
}

interface Run {
  /** The endpoint's objects for the stream, oldest first. */
  readonly objects: Buffer[];
  readonly endpoint: TestFirehoseEndpoint;
  readonly client: TestMqttClient;
}

/**
 * Publishes `messages` to a connector that queues them all (a 900 s interval), then stops it with SIGTERM, so that
 * its shutdown flush sends them: one call, so one object, whatever the timing.
 */
async function deliver(messages: readonly Message[], parameters: Record<string, string>): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'packing-objects-'));
  const endpoint = await TestFirehoseEndpoint.start({ streams: ['main'], dataDir });
  const client = await TestMqttClient.connect(broker.url);
  const connector = await ConnectorProcess.start(
    {
      DefaultDeliveryStreamArn: STREAM_ARN,
      MqttBrokerUrl: broker.url,
      MqttClientId: `packing-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
      PublishInterval: 900,
      StatsIntervalSeconds: 1,
      RecordSeparator: '\\n',
      ...parameters,
    },
    { firehoseUrl: endpoint.url },
  );
  try {
    for (const message of messages) await client.publish(message.topic, message.payload);
    await waitFor(
      () => connector.logs.some((line) => line.message === 'stats' && line.received === messages.length),
      30_000,
      `all ${messages.length} messages queued`,
    );
    await connector.stop('SIGTERM');
    await client.waitForStatuses(messages.length);
    await endpoint.stop();
  } catch (error) {
    await connector.stop('SIGKILL').catch(() => undefined);
    await client.close();
    await endpoint.stop();
    throw error;
  }
  const folder = join(dataDir, 'main');
  const files = readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(folder, entry))
    .filter((path) => statSync(path).isFile())
    .sort((a, b) => objectSequence(a) - objectSequence(b));
  return { objects: files.map((file) => readFileSync(file)), endpoint, client };
}

/** The sequence number in an object's name, `<stream>-<seq>-YYYY-...`. */
function objectSequence(path: string): number {
  return Number(/main-(\d+)-/.exec(path)![1]);
}

const runs: TestMqttClient[] = [];

afterEach(async () => {
  await Promise.all(runs.splice(0).map((client) => client.close()));
});

describe('record packing, end to end', () => {
  it('writes the same objects, byte for byte, with packing on and off', async () => {
    // Prepare
    const messages = mixedMessages();

    // Act
    const off = await deliver(messages, { RecordPacking: 'off' });
    const on = await deliver(messages, { RecordPacking: 'default-stream' });
    runs.push(off.client, on.client);

    // Assess
    const expected = Buffer.concat(messages.flatMap((message) => [message.data, Buffer.from('\n')]));
    expect(off.objects).toHaveLength(1);
    expect(on.objects).toHaveLength(1);
    expect(on.objects[0].equals(off.objects[0])).toBe(true);
    expect(on.objects[0].equals(expected)).toBe(true);
    expect(off.endpoint.stats.acceptedRecords).toBe(446);
    expect(on.endpoint.stats.acceptedRecords).toBeLessThan(446 / 40);
  }, 120_000);

  it('answers every message once with success, those packed together sharing the id of their record', async () => {
    // Prepare
    const messages = mixedMessages();

    // Act
    const { endpoint, client } = await deliver(messages, { RecordPacking: 'all-streams' });
    runs.push(client);

    // Assess
    const records = endpoint.records('main');
    expect(records.length).toBeLessThan(messages.length / 40);
    const idsOfRecords = records.map((record) => record.recordId);
    const statusIds = client.statuses.map((status) => status.id);
    expect(statusIds.sort()).toEqual(messages.map((message) => message.id).sort());
    expect(client.statuses.filter((status) => status.status !== 'success')).toEqual([]);
    const recordOf = new Map(
      client.statuses.map((status) => [
        status.id,
        'firehose_record_id' in status ? status.firehose_record_id : '',
      ]),
    );
    // Messages go into records in order: the first message of each record starts a new record id.
    const sequence = messages.map((message) => recordOf.get(message.id));
    const runsOfIds = sequence.filter((id, index) => index === 0 || id !== sequence[index - 1]);
    expect(runsOfIds).toEqual(idsOfRecords);
    expect(records.map((record) => record.data.length).reduce((a, b) => a + b)).toBe(
      messages.reduce((total, message) => total + message.data.length + 1, 0),
    );
  }, 60_000);

  it('retries a record Firehose refuses with all its messages, each answered once', async () => {
    // Prepare: the endpoint refuses the first record it gets, as a stream at its quota does.
    const dataDir = mkdtempSync(join(tmpdir(), 'packing-retry-'));
    const endpoint = await TestFirehoseEndpoint.start({ streams: ['main'], dataDir });
    endpoint.failRecords({ count: 1 });
    const client = await TestMqttClient.connect(broker.url);
    runs.push(client);
    const connector = await ConnectorProcess.start(
      {
        DefaultDeliveryStreamArn: STREAM_ARN,
        MqttBrokerUrl: broker.url,
        MqttClientId: `packing-retry-${Date.now()}`,
        PublishInterval: 1,
        RecordSeparator: '\\n',
        RecordPacking: 'default-stream',
      },
      { firehoseUrl: endpoint.url },
    );
    try {
      // Act
      await Promise.all(
        Array.from({ length: 300 }, (_, index) =>
          client.publishJson({ request: { data: `r${index}` }, id: `${index}` }),
        ),
      );
      await client.waitForStatuses(300, 30_000);

      // Assess
      const delivered = endpoint
        .records('main')
        .flatMap((record) => record.data.toString().split('\n').slice(0, -1));
      expect(delivered.sort()).toEqual(Array.from({ length: 300 }, (_, index) => `r${index}`).sort());
      expect(client.statuses.filter((status) => status.status !== 'success')).toEqual([]);
      expect(new Set(client.statuses.map((status) => status.id)).size).toBe(300);
      // The refused record was the call's only one, so the call (PutRecord) failed whole.
      expect(endpoint.stats.rejectedCalls + endpoint.stats.failedRecords).toBe(1);
      expect(endpoint.records('main').length).toBeLessThan(300);
    } finally {
      await connector.stop('SIGKILL').catch(() => undefined);
      await endpoint.stop();
    }
  }, 60_000);
});
