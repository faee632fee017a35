import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { ConnectorProcess } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { TestMqttClient } from '../helpers/mqtt-client';

/**
 * The connector end to end, as users run it: the real bundle in its own process, a real MQTT broker, and the
 * real AWS SDK talking HTTP to the local Firehose endpoint. Nothing on the record's path is mocked.
 */

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
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main', 'other'] });
  client = await TestMqttClient.connect(broker.url);
});

afterEach(async () => {
  await connector?.stop('SIGKILL').catch(() => undefined);
  connector = undefined;
  await client.close();
  await endpoint.stop();
});

/** Starts the connector with a unique client id (the broker keeps each one's session) and test-friendly defaults. */
async function startConnector(parameters: Record<string, string | number> = {}): Promise<ConnectorProcess> {
  connector = await ConnectorProcess.start(
    {
      DefaultDeliveryStreamArn: streamArn('main'),
      MqttBrokerUrl: broker.url,
      MqttClientId: `connector-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
      PublishInterval: 0,
      ...parameters,
    },
    { firehoseUrl: endpoint.url },
  );
  return connector;
}

describe('the connector, end to end', () => {
  it('delivers the seed example message byte for byte and reports its Firehose record id', async () => {
    // Prepare
    await startConnector();

    // Act
    await client.publishJson({ request: { data: 'Message from Firehose Connector Test' }, id: 'req_123' });
    const [record] = await endpoint.waitForRecords('main', 1);
    const [status] = await client.waitForStatuses(1);

    // Assess
    expect(record.data.toString('utf8')).toBe('Message from Firehose Connector Test');
    expect(status).toEqual({ firehose_record_id: record.recordId, id: 'req_123', status: 'success' });
  });

  it('publishes statuses in the v2-4 format: one {"response": [...]} message per batch', async () => {
    await startConnector({ PublishInterval: 1 });

    for (let index = 0; index < 3; index++)
      await client.publishJson({ request: { data: `m${index}` }, id: `id${index}` });
    await client.waitForStatuses(3);

    expect(client.statusMessages).toHaveLength(1);
    const message = JSON.parse(client.statusMessages[0]) as { response: unknown[] };
    expect(Object.keys(message)).toEqual(['response']);
    expect(message.response).toHaveLength(3);
  });

  it('delivers binary messages as they are, with the id taken from the topic', async () => {
    await startConnector();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0d, 0x22, 0x7b, 0x80]);

    await client.publish('kinesisfirehose/message/binary/request123', bytes);
    await client.publish('kinesisfirehose/message/binary/', Buffer.from('no id'));
    const records = await endpoint.waitForRecords('main', 2);
    await client.waitForStatuses(2);

    expect(records.map((record) => record.data)).toEqual(
      expect.arrayContaining([bytes, Buffer.from('no id')]),
    );
    expect(client.statusFor('request123')).toMatchObject({ status: 'success' });
    expect(client.statusFor('')).toMatchObject({ status: 'success' });
  });

  it('sends an overriding stream in another region there, signed for that region', async () => {
    await startConnector();

    await client.publishJson({
      request: { data: 'to frankfurt', delivery_stream_arn: streamArn('other', 'eu-central-1') },
      id: 'x',
    });
    const [record] = await endpoint.waitForRecords('other', 1);

    expect(record.data.toString()).toBe('to frankfurt');
    expect(record.region).toBe('eu-central-1');
    expect(endpoint.records('main')).toHaveLength(0);
  });

  it('appends the configured record separator to every record', async () => {
    await startConnector({ RecordSeparator: '\\n' });

    await client.publishJson({ request: { data: { temperature: 21.5 } }, id: 'a' });
    const [record] = await endpoint.waitForRecords('main', 1);

    expect(record.data.toString()).toBe('{"temperature":21.5}\n');
  });

  it('answers every bad message with a fail status and still delivers the valid ones around them', async () => {
    await startConnector();

    await client.publishJson({ request: { data: 'before' }, id: 'ok1' });
    await client.publish('kinesisfirehose/message', '{"request": {"data": ');
    await client.publishJson({ id: 'no-request' });
    await client.publishJson({ request: { delivery_stream_arn: streamArn('main') }, id: 'no-data' });
    await client.publishJson({
      request: { data: 'x', delivery_stream_arn: 'arn:aws:firehose:bad' },
      id: 'bad-arn',
    });
    await client.publish('kinesisfirehose/message/binary/too-big', Buffer.alloc(1_024_001, 1));
    await client.publishJson({ request: { data: 'after' }, id: 'ok2' });
    await client.waitForStatuses(7);
    const records = await endpoint.waitForRecords('main', 2);

    expect(records.map((record) => record.data.toString()).sort()).toEqual(['after', 'before']);
    expect(client.statuses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'ok1', status: 'success' }),
        expect.objectContaining({ id: 'ok2', status: 'success' }),
        expect.objectContaining({ id: '', status: 'fail', ErrorCode: 'InvalidJson' }),
        expect.objectContaining({ id: 'no-request', status: 'fail', ErrorCode: 'InvalidRequest' }),
        expect.objectContaining({ id: 'no-data', status: 'fail', ErrorCode: 'InvalidRequest' }),
        expect.objectContaining({ id: 'bad-arn', status: 'fail', ErrorCode: 'InvalidDeliveryStreamArn' }),
        expect.objectContaining({ id: 'too-big', status: 'fail', ErrorCode: 'RecordTooLarge' }),
      ]),
    );
    expect(endpoint.calls.filter((call) => call.bytes > 1_024_000 * 2)).toEqual([]);
  });

  it('reports a stream that does not exist with the service ResourceNotFoundException', async () => {
    await startConnector();

    await client.publishJson({
      request: { data: 'x', delivery_stream_arn: streamArn('missing') },
      id: 'lost',
    });
    const [status] = await client.waitForStatuses(1);

    expect(status).toEqual({
      ErrorCode: 'ResourceNotFoundException',
      ErrorMessage: expect.stringContaining('missing'),
      id: 'lost',
      status: 'fail',
    });
  });

  it('sends at most 500 records per PutRecordBatch call under load', async () => {
    await startConnector({ PublishInterval: 1 });

    await Promise.all(
      Array.from({ length: 1600 }, (_, index) =>
        client.publishJson({ request: { data: `r${index}` }, id: `${index}` }),
      ),
    );
    const records = await endpoint.waitForRecords('main', 1600, 20_000);
    await client.waitForStatuses(1600);

    expect(new Set(records.map((record) => record.data.toString())).size).toBe(1600);
    expect(Math.max(...endpoint.calls.map((call) => call.recordCount))).toBe(500);
    expect(endpoint.calls.length).toBeLessThanOrEqual(8);
  });

  it('rejects records with QueueFull beyond DeliveryStreamQueueSize and delivers the rest after an outage', async () => {
    // Prepare: the service refuses every call, so records pile up.
    endpoint.failCalls({
      count: Infinity,
      code: 'ServiceUnavailableException',
      status: 503,
      message: 'Slow down.',
    });
    await startConnector({ DeliveryStreamQueueSize: 2000, PublishInterval: 1 });

    // Act
    await Promise.all(
      Array.from({ length: 2100 }, (_, index) =>
        client.publishJson({ request: { data: `r${index}` }, id: `${index}` }),
      ),
    );
    await client.waitForStatuses(100);
    endpoint.clearFaults();
    await client.waitForStatuses(2100, 30_000);

    // Assess
    const rejected = client.statuses.filter((status) => status.status === 'fail');
    expect(rejected).toHaveLength(100);
    expect(rejected.every((status) => status.status === 'fail' && status.ErrorCode === 'QueueFull')).toBe(
      true,
    );
    expect(endpoint.records('main')).toHaveLength(2000);
  }, 60_000);

  it('survives whole-call 503s and per-record failures without losing or duplicating a record', async () => {
    // The SDK makes three attempts per call: six failures fail two of the connector's calls whole.
    endpoint.failCalls({ count: 6, code: 'ServiceUnavailableException', status: 503, message: 'Slow down.' });
    endpoint.failRecords({ rate: 0.3 });
    await startConnector({ PublishInterval: 1 });

    await Promise.all(
      Array.from({ length: 1000 }, (_, index) =>
        client.publishJson({ request: { data: `r${index}` }, id: `${index}` }),
      ),
    );
    await client.waitForStatuses(100);
    endpoint.clearFaults();
    await client.waitForStatuses(1000, 40_000);

    const delivered = endpoint.records('main').map((record) => record.data.toString());
    expect(new Set(delivered).size).toBe(1000);
    expect(delivered).toHaveLength(1000);
    expect(client.statuses.filter((status) => status.status !== 'success')).toEqual([]);
    const logged = new Set(connector!.logs.map((line) => line.message));
    expect(logged).toContain('Firehose call failed or was throttled whole; backing off');
    expect(logged).toContain('Firehose is throttling the stream (at its quota); sending more slowly');
  }, 60_000);

  it('flushes queued records and publishes their statuses on SIGTERM, then exits 0', async () => {
    const running = await startConnector({ PublishInterval: 900 });
    for (let index = 0; index < 50; index++)
      await client.publishJson({ request: { data: `r${index}` }, id: `${index}` });
    await new Promise((settle) => setTimeout(settle, 300));
    expect(endpoint.records('main')).toHaveLength(0);

    const started = Date.now();
    const code = await running.stop('SIGTERM');

    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(endpoint.records('main')).toHaveLength(50);
    await client.waitForStatuses(50);
    expect(client.statuses.filter((status) => status.status !== 'success')).toEqual([]);
  });

  it('keeps messages published while it is stopped and delivers them after a restart', async () => {
    const clientId = `persistent-${Date.now()}`;
    const first = await startConnector({ MqttClientId: clientId });
    await first.stop('SIGTERM');

    await client.publishJson({ request: { data: 'while away' }, id: 'late' });
    await startConnector({ MqttClientId: clientId });
    const [record] = await endpoint.waitForRecords('main', 1);

    expect(record.data.toString()).toBe('while away');
  });

  it('reconnects after the broker restarts and goes on delivering', async () => {
    const running = await startConnector();
    await client.close();

    await broker.restart();
    client = await TestMqttClient.connect(broker.url);
    await running.waitForLog('Connected to the MQTT broker');
    await new Promise((settle) => setTimeout(settle, 1500));
    await client.publishJson({ request: { data: 'after restart' }, id: 'r' });
    const [record] = await endpoint.waitForRecords('main', 1, 15_000);

    expect(record.data.toString()).toBe('after restart');
  });
});

describe('credentials on a Greengrass core', () => {
  it('takes credentials from the token exchange service even though its URI says localhost', async () => {
    // Prepare: a stand-in for the nucleus's token exchange service, listening on 127.0.0.1 only, as it does.
    const requests: (string | undefined)[] = [];
    const tes = createServer((request, response) => {
      requests.push(request.headers.authorization);
      response.setHeader('Content-Type', 'application/json');
      response.end(
        JSON.stringify({
          AccessKeyId: 'ASIATESTTES',
          SecretAccessKey: 'secret',
          Token: 'session-token',
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((listening) => tes.listen(0, '127.0.0.1', listening));
    const port = (tes.address() as AddressInfo).port;

    // Act
    connector = await ConnectorProcess.start(
      {
        DefaultDeliveryStreamArn: streamArn('main'),
        MqttBrokerUrl: broker.url,
        MqttClientId: `tes-${Date.now()}`,
        PublishInterval: 0,
      },
      {
        firehoseUrl: endpoint.url,
        env: {
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://localhost:${port}/2016-11-01/credentialprovider/`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: 'tes-token',
        },
      },
    );
    await client.publishJson({ request: { data: 'with TES credentials' }, id: 'tes' });
    const [record] = await endpoint.waitForRecords('main', 1);
    tes.close();

    // Assess
    expect(record.data.toString()).toBe('with TES credentials');
    expect(requests).toContain('tes-token');
  });
});

describe('the command line', () => {
  it('explains every parameter in --help', async () => {
    const { code, stdout } = await ConnectorProcess.runToExit(['--help']);

    expect(code).toBe(0);
    for (const name of [
      'DefaultDeliveryStreamArn',
      'DeliveryStreamQueueSize',
      'MemorySize',
      'PublishInterval',
      'MqttBrokerUrl',
    ]) {
      expect(stdout).toContain(name);
    }
  });

  it('refuses to start with invalid parameters, naming each with its valid range, and exits 2', async () => {
    const { code, stderr } = await ConnectorProcess.runToExit([], {
      DefaultDeliveryStreamArn: 'not-an-arn',
      PublishInterval: '1000',
    });

    expect(code).toBe(2);
    expect(stderr).toContain('DefaultDeliveryStreamArn is "not-an-arn"; expected arn:<partition>:firehose:');
    expect(stderr).toContain('PublishInterval is "1000"; expected an integer from 0 to 900 (seconds)');
  });

  it('refuses an unknown option', async () => {
    const { code, stderr } = await ConnectorProcess.runToExit(['--frobnicate']);

    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--frobnicate'");
  });
});
