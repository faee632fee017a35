import { lstatSync, mkdtempSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { ConnectorProcess, type LogLine } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { TestMqttClient } from '../helpers/mqtt-client';
import { sleep, waitFor } from '../helpers/wait';

/**
 * Fault tests of the disk queue, across real processes: the connector is killed, the broker restarted, the
 * Firehose endpoint taken away, and every message the broker accepted must still arrive. What these faults cost
 * (duplicates, time, CPU) is measured by the benchmark, not here.
 */

const STREAM_ARN = streamArn('main');

let broker: TestBroker;
let endpoint: TestFirehoseEndpoint;
let publisher: TestMqttClient;
let queueDirectory: string;
const running: ConnectorProcess[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.stop();
});

beforeEach(async () => {
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
  publisher = await TestMqttClient.connect(broker.url);
  queueDirectory = mkdtempSync(join(tmpdir(), 'disk-queue-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((connector) => connector.stop('SIGKILL').catch(() => undefined)));
  await publisher.close();
  await endpoint.stop();
});

function diskParameters(clientId: string, parameters: Record<string, string | number> = {}) {
  return {
    DefaultDeliveryStreamArn: STREAM_ARN,
    MqttBrokerUrl: broker.url,
    MqttClientId: clientId,
    PublishInterval: 0,
    QueueStore: 'disk',
    QueueDirectory: queueDirectory,
    ...parameters,
  };
}

function diskConnector(
  clientId: string,
  parameters: Record<string, string | number> = {},
): Promise<ConnectorProcess> {
  return ConnectorProcess.start(diskParameters(clientId, parameters), { firehoseUrl: endpoint.url }).then(
    (connector) => {
      running.push(connector);
      return connector;
    },
  );
}

/** The messages the endpoint received: each record's data, or with packing the messages in it, one a line. */
function delivered(): string[] {
  return endpoint
    .records('main')
    .flatMap((record) => record.data.toString().split('\n'))
    .filter((data) => data !== '');
}

/** Which of `m<0>` to `m<total - 1>` (or another prefix) the endpoint has not received. */
function missing(total: number, prefix = 'm'): string[] {
  const received = new Set(delivered());
  return Array.from({ length: total }, (_, index) => `${prefix}${index}`).filter(
    (data) => !received.has(data),
  );
}

/** The connector's log lines of failed or throttled calls, each with the backoff it chose. */
function backoffs(connector: ConnectorProcess): LogLine[] {
  return connector.logs.filter(
    (line) => line.message === 'Firehose call failed or was throttled whole; backing off',
  );
}

describe('the disk queue', () => {
  it.each([
    ['one record per message', {}],
    ['messages packed into records', { RecordPacking: 'default-stream', RecordSeparator: '\\n' }],
  ])(
    'loses no message the broker accepted while the connector is killed with SIGKILL again and again, %s',
    async (_, packing) => {
      // Prepare: the endpoint is slow, so records sit in the queue and in flight when the kills come.
      endpoint.setLatency(150);
      const clientId = `kill-${Date.now()}`;
      const parameters = { PublishInterval: 1, ...packing };
      await diskConnector(clientId, parameters);
      const total = 3000;
      const kills = 5;
      const chunk = total / (kills + 1);
      const killedPids: number[] = [];
      const lockTakenOverFrom: unknown[] = [];

      // Act: publish in chunks; once the endpoint has the first record of a chunk, kill the connector and restart it.
      for (let first = 0; first < total; first += chunk) {
        for (let index = first; index < first + chunk; index++) {
          await publisher.publishJson({ request: { data: `m${index}` }, id: `${index}` });
        }
        if (first + chunk === total) break;
        await waitFor(() => delivered().includes(`m${first}`), 30_000, `record m${first}`);
        const killed = running.pop()!;
        await killed.stop('SIGKILL');
        killedPids.push(killed.pid);
        const restarted = await diskConnector(clientId, parameters);
        lockTakenOverFrom.push(restarted.logs.find((line) => line.message.startsWith('Taking over'))?.pid);
      }
      endpoint.setLatency(0);
      await waitFor(() => missing(total).length === 0, 60_000, `${total} distinct records`);

      // Assess: each restart took over the lock the killed connector left.
      expect(missing(total)).toEqual([]);
      expect(new Set(delivered()).size).toBe(total);
      expect(lockTakenOverFrom).toEqual(killedPids);
    },
    120_000,
  );

  it('keeps statuses and acknowledgements flowing under load with an fsync before every acknowledgement', async () => {
    // Prepare
    await diskConnector(`always-${Date.now()}`, { QueueDiskSync: 'always', PublishInterval: 1 });
    const total = 2000;

    // Act
    await Promise.all(
      Array.from({ length: total }, (_, index) =>
        publisher.publishJson({ request: { data: `a${index}` }, id: `${index}` }),
      ),
    );
    await publisher.waitForStatuses(total, 60_000);

    // Assess
    expect(publisher.statuses.filter((status) => status.status !== 'success')).toEqual([]);
    expect(missing(total, 'a')).toEqual([]);
    expect(new Set(delivered()).size).toBe(total);
  }, 90_000);

  it('reconnects after a broker restart mid-stream and loses nothing', async () => {
    // Prepare
    await diskConnector(`broker-restart-${Date.now()}`);
    const total = 1000;

    // Act
    for (let index = 0; index < total / 2; index++)
      await publisher.publishJson({ request: { data: `m${index}` } });
    await publisher.close();
    await broker.restart();
    publisher = await TestMqttClient.connect(broker.url);
    for (let index = total / 2; index < total; index++)
      await publisher.publishJson({ request: { data: `m${index}` } });
    await waitFor(() => missing(total).length === 0, 30_000, `${total} distinct records`);

    // Assess
    expect(missing(total)).toEqual([]);
    expect(new Set(delivered()).size).toBe(total);
  }, 60_000);

  it('rides out a long Firehose outage: fills to its bound, refuses the rest, backs off, then delivers everything', async () => {
    // Prepare: 503s first, then the endpoint gone altogether (connection refused).
    endpoint.failCalls({
      count: Infinity,
      code: 'ServiceUnavailableException',
      status: 503,
      message: 'Slow down.',
    });
    const connector = await diskConnector(`outage-${Date.now()}`, { QueueDiskSizeMB: 1, PublishInterval: 1 });
    const payload = 'x'.repeat(1000);

    // Act
    for (let index = 0; index < 1200; index++) {
      await publisher.publishJson({ request: { data: `${index}:${payload}` }, id: `${index}` });
    }
    await publisher.waitForStatuses(100, 10_000);
    const failuresBeforeOutage = backoffs(connector).length;
    await endpoint.pause();
    await waitFor(
      () =>
        backoffs(connector)
          .slice(failuresBeforeOutage)
          .some((line) => line.errorCode !== 'ServiceUnavailableException'),
      60_000,
      'a call failing while the endpoint is away',
    );
    endpoint.clearFaults();
    await endpoint.resume();
    const refused = publisher.statuses.filter((status) => status.status === 'fail');
    await waitFor(() => delivered().length >= 1200 - refused.length, 90_000, 'the queued records');

    // Assess
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((status) => status.status !== 'fail' || status.ErrorCode !== 'QueueFull')).toEqual(
      [],
    );
    expect(new Set(delivered()).size).toBe(1200 - refused.length);
  }, 120_000);

  it('slows down through a throttling storm without losing a record or spinning', async () => {
    // Prepare: half of every call refused with ServiceUnavailableException, however slowly the stream is sent.
    endpoint.failRecords({ rate: 0.5 });
    const connector = await diskConnector(`throttle-${Date.now()}`, { PublishInterval: 1 });

    // Act: the storm goes on for 3 s after the connector says it is slowing down.
    for (let index = 0; index < 2000; index++)
      await publisher.publishJson({ request: { data: `t${index}` } });
    await connector.waitForLog(
      'Firehose is throttling the stream (at its quota); sending more slowly',
      30_000,
    );
    const callsBefore = endpoint.callTotals.calls;
    await sleep(3000);
    const callsDuringStorm = endpoint.callTotals.calls - callsBefore;
    endpoint.clearFaults();
    await waitFor(() => missing(2000, 't').length === 0, 60_000, '2000 distinct records');

    // Assess: paced calls, ten a second at most, not a retry loop.
    expect(missing(2000, 't')).toEqual([]);
    expect(new Set(delivered()).size).toBe(2000);
    expect(callsDuringStorm).toBeLessThan(60);
  }, 90_000);

  it('reports a truncated queue file at start-up and delivers every other record', async () => {
    // Prepare: records stored while Firehose is down, then the connector killed and its last file cut short.
    endpoint.failCalls({ count: Infinity });
    const clientId = `truncate-${Date.now()}`;
    const first = await diskConnector(clientId, { PublishInterval: 900, StatsIntervalSeconds: 1 });
    for (let index = 0; index < 100; index++) await publisher.publishJson({ request: { data: `r${index}` } });
    // The broker acknowledges the publisher before the connector has the messages; on a loaded machine too few may
    // be on disk yet to fill a segment worth cutting.
    await waitFor(
      () => first.logs.some((line) => line.message === 'stats' && Number(line.queued) >= 100),
      15_000,
      'all 100 records queued on disk',
    );
    await first.stop('SIGKILL');
    running.pop();
    const segments = listFiles(queueDirectory).filter((file) => statSync(file).size > 1000);
    const last = segments.sort().at(-1)!;
    truncateSync(last, statSync(last).size - 5);

    // Act
    endpoint.clearFaults();
    const second = await diskConnector(clientId, { PublishInterval: 1 });
    await waitFor(() => missing(100, 'r').length <= 1, 15_000, '99 distinct records');

    // Assess: at most the record cut short is lost. It may still arrive: if the first run was killed before it
    // acknowledged that message, the broker delivers it again.
    expect(missing(100, 'r').length).toBeLessThanOrEqual(1);
    expect(second.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining('truncated it after the last whole one') as string,
      }),
    );
  }, 60_000);

  it('refuses a second connector on the same queue folder at start-up, naming the folder and the first one', async () => {
    // Prepare
    const first = await diskConnector(`first-${Date.now()}`);
    const configFile = join(mkdtempSync(join(tmpdir(), 'connector-')), 'config.json');
    writeFileSync(configFile, JSON.stringify(diskParameters(`second-${Date.now()}`)));

    // Act
    const second = await ConnectorProcess.runToExit(['--config', configFile], {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_ENDPOINT_URL_FIREHOSE: endpoint.url,
    });
    await publisher.publishJson({ request: { data: 'after the refusal' }, id: 'after' });
    await waitFor(() => delivered().includes('after the refusal'), 15_000, 'the first connector to deliver');

    // Assess
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      `QueueDirectory ${queueDirectory} is in use by another connector process (pid ${first.pid}, since `,
    );
  }, 60_000);
});

/** The regular files under `folder`: segments, acknowledgements, stream.json (the lock is a symbolic link). */
function listFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(folder, entry))
    .filter((path) => lstatSync(path).isFile());
}
