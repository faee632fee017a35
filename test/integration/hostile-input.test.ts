import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusEntry } from '../../runtime/message/status';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { ConnectorProcess } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { TestMqttClient } from '../helpers/mqtt-client';
import { idsNotAnsweredOnce, processMetrics } from '../helpers/process-metrics';
import { createSmallDisk, type SmallDisk } from '../helpers/small-disk';
import { waitFor } from '../helpers/wait';

/**
 * What any program that can publish to the broker can do to the connector: deep, huge, malformed and endlessly
 * varied messages, and a disk that fills up. The real connector process, a real broker and the real AWS SDK
 * against the local Firehose endpoint, with the deployment's memory size. After each attack a valid message must
 * still be delivered, and every message must have had exactly one status.
 */

const MEMORY_SIZE_KB = 131072;
const MIB = 1024 * 1024;

let broker: TestBroker;
let endpoint: TestFirehoseEndpoint;
let client: TestMqttClient;
let connector: ConnectorProcess | undefined;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.stop();
});

beforeEach(async () => {
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
  client = await TestMqttClient.connect(broker.url);
});

afterEach(async () => {
  await connector?.stop('SIGKILL').catch(() => undefined);
  connector = undefined;
  await client.close();
  await endpoint.stop();
});

type Store = 'memory' | 'disk';

async function startConnector(
  store: Store,
  parameters: Record<string, string | number> = {},
  options: { shellPrefix?: string } = {},
): Promise<ConnectorProcess> {
  const queue: Record<string, string> =
    store === 'disk'
      ? { QueueStore: 'disk', QueueDirectory: mkdtempSync(join(tmpdir(), 'hostile-queue-')) }
      : {};
  connector = await ConnectorProcess.start(
    {
      DefaultDeliveryStreamArn: streamArn('main'),
      MqttBrokerUrl: broker.url,
      MqttClientId: `hostile-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
      PublishInterval: 0,
      MemorySize: MEMORY_SIZE_KB,
      ...queue,
      ...parameters,
    },
    { firehoseUrl: endpoint.url, shellPrefix: options.shellPrefix },
  );
  return connector;
}

/** The error code of a status, or `success`. */
function outcome(status: StatusEntry): string {
  return status.status === 'fail' ? status.ErrorCode : status.status;
}

/** Publishes a valid message and waits for its success status: the connector still takes in and delivers. */
async function expectStillDelivering(id: string): Promise<void> {
  await client.publishJson({ request: { data: `still delivering ${id}` }, id });
  await waitFor(() => client.statusFor(id) !== undefined, 15_000, `the status of ${id}`);
  expect(client.statusFor(id)).toMatchObject({ id, status: 'success' });
}

describe.each<Store>(['memory', 'disk'])('the connector under hostile input (%s queue)', (store) => {
  it('answers 25 JSON messages nested 100,000 levels deep and keeps taking in messages', async () => {
    // Prepare: about 200 KB each, more than mosquitto's 20 messages in flight.
    await startConnector(store);
    const levels = 100_000;
    const deep = `{"request":{"data":${'['.repeat(levels)}${']'.repeat(levels)}},"id":"deep"}`;

    // Act
    for (let index = 0; index < 25; index++) await client.publish('kinesisfirehose/message', deep);
    await client.waitForStatuses(25);

    // Assess
    expect(client.statuses).toHaveLength(25);
    expect(new Set(client.statuses.map(outcome))).toEqual(new Set(['InvalidRequest']));
    await expectStillDelivering('after-deep');
  });

  it('refuses a payload that is not UTF-8 with InvalidJson', async () => {
    await startConnector(store);

    await client.publish(
      'kinesisfirehose/message',
      Buffer.concat([
        Buffer.from('{"request":{"data":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}}'),
      ]),
    );
    await client.waitForStatuses(1);

    expect(client.statuses).toEqual([
      expect.objectContaining({ ErrorCode: 'InvalidJson', id: '', status: 'fail' }),
    ]);
    await expectStillDelivering('after-utf8');
  });

  it.each([
    ['JSON', 'kinesisfirehose/message', ''],
    ['binary', 'kinesisfirehose/message/binary/huge', 'huge'],
  ])(
    'refuses a 40 MiB %s message with RecordTooLarge, and its peak memory stays under 128 MiB',
    async (_, topic, id) => {
      // Prepare
      await startConnector(store);
      const payload = Buffer.alloc(40 * MIB, 0x61);
      if (topic === 'kinesisfirehose/message') payload.write('{"request":{"data":"', 0);

      // Act
      await client.publish(topic, payload);
      await client.waitForStatuses(1, 30_000);

      // Assess
      expect(client.statuses).toEqual([
        expect.objectContaining({ ErrorCode: 'RecordTooLarge', id, status: 'fail' }),
      ]);
      expect(processMetrics(connector!.pid).peakRssMiB).toBeLessThan(128);
      await expectStillDelivering('after-huge');
    },
  );

  it('answers messages to 3,000 distinct streams once each, within idle memory + 24 MiB and 64 open files', async () => {
    // Prepare
    await startConnector(store);
    await expectStillDelivering('warm-up');
    const idle = processMetrics(connector!.pid);
    const ids = Array.from({ length: 3000 }, (_, index) => `stream-${index}`);

    // Act: none of these streams exists.
    for (const id of ids) {
      await client.publishJson({
        request: { data: 'x', delivery_stream_arn: streamArn(`unknown-${id}`) },
        id,
      });
    }
    await client.waitForStatuses(3001, 60_000);
    const after = processMetrics(connector!.pid);
    // Streams are released once their last status is out, and a disk queue's files close just after: the bound is
    // on what stays open, so give the last releases a moment rather than count files mid-close.
    const openFiles = await settledOpenFiles(connector!.pid, 64);

    // Assess
    const answered = client.statuses.map((status) => status.id);
    expect(idsNotAnsweredOnce(ids, answered)).toEqual([]);
    const codes = new Set(client.statuses.filter((status) => status.id !== 'warm-up').map(outcome));
    const unexpected = [...codes].filter(
      (code) => code !== 'ResourceNotFoundException' && code !== 'TooManyDeliveryStreams',
    );
    expect(unexpected).toEqual([]);
    expect(after.rssMiB).toBeLessThanOrEqual(idle.rssMiB + 24);
    expect(openFiles).toBeLessThanOrEqual(64);
    await expectStillDelivering('after-streams');
  }, 120_000);
});

describe('the connector with a full disk', () => {
  let disk: SmallDisk;

  beforeEach(() => {
    disk = createSmallDisk(512 * 1024);
  });

  afterEach(async () => {
    // The connector holds files on the disk: stop it before unmounting.
    await connector?.stop('SIGKILL').catch(() => undefined);
    connector = undefined;
    disk.dispose();
  });

  it('answers every message once, QueueWriteFailed for those the disk cannot hold, and delivers the rest', async () => {
    // Prepare: Firehose away, so that records stay on disk.
    await startConnector('disk', { QueueDirectory: disk.path }, { shellPrefix: disk.shellPrefix });
    await endpoint.pause();
    const ids = Array.from({ length: 300 }, (_, index) => `full-${index}`);

    // Act: 300 records of 4 KiB do not fit in 512 KiB.
    for (const id of ids) await client.publishJson({ request: { data: 'd'.repeat(4096) }, id });
    await waitFor(
      () => client.statuses.some((status) => outcome(status) === 'QueueWriteFailed'),
      20_000,
      'a QueueWriteFailed status',
    );
    await endpoint.resume();
    await client.waitForStatuses(300, 60_000);

    // Assess
    expect(
      idsNotAnsweredOnce(
        ids,
        client.statuses.map((status) => status.id),
      ),
    ).toEqual([]);
    const outcomes = new Set(client.statuses.map(outcome));
    expect([...outcomes].sort()).toEqual(['QueueWriteFailed', 'success']);
    const delivered = client.statuses.filter((status) => status.status === 'success').length;
    expect(endpoint.records('main')).toHaveLength(delivered);
    await expectStillDelivering('after-full-disk');
    // Records that met the outage wait out a backoff of up to some seconds before they are resent.
  }, 120_000);
});

/** The process's open files once they are at most `bound`, or after 10 s, whatever they are then. */
async function settledOpenFiles(pid: number, bound: number): Promise<number> {
  await waitFor(() => processMetrics(pid).openFiles <= bound, 10_000, `open files <= ${bound}`).catch(
    () => undefined,
  );
  return processMetrics(pid).openFiles;
}
