import type { FirehoseClient } from '@aws-sdk/client-firehose';
import {
  errorOf,
  firehoseClient,
  putBatch,
  putRecord,
  TEST_ACCESS_KEY_ID,
  testRecords,
} from '../../helpers/firehose-client';
import { TestFirehoseEndpoint } from '../../helpers/firehose-endpoint';

// The service as the SDK sees it, through the instrumented endpoint of test/helpers, which keeps what it accepts.
describe('FirehoseService', () => {
  let endpoint: TestFirehoseEndpoint;
  let client: FirehoseClient;

  beforeEach(async () => {
    endpoint = await TestFirehoseEndpoint.start({ streams: ['s1'] });
    client = firehoseClient(endpoint);
  });

  afterEach(async () => {
    client.destroy();
    await endpoint.stop();
  });

  describe('accepting records', () => {
    test('PutRecord stores the record byte for byte and answers with its RecordId', async () => {
      // Prepare
      const data = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));

      // Act
      const output = await putRecord(client, data);

      // Assess
      const [stored] = endpoint.records('s1');
      expect(stored.data.equals(data)).toBe(true);
      expect(stored.recordId).toBe(output.RecordId);
      expect(output.Encrypted).toBe(false);
    });

    test('PutRecordBatch stores every record in order and answers one RecordId per record', async () => {
      // Prepare
      const sent = [Buffer.from('first\n'), Buffer.from([0, 255, 10, 13]), Buffer.from('{"a":1}')];

      // Act
      const output = await putBatch(client, sent);

      // Assess
      const stored = endpoint.records('s1');
      expect(stored.map((record) => record.data)).toEqual(sent);
      expect(output.FailedPutCount).toBe(0);
      expect(output.Encrypted).toBe(false);
      expect(output.RequestResponses).toEqual(stored.map((record) => ({ RecordId: record.recordId })));
    });

    test('record ids are long base64 strings, unique across calls', async () => {
      // Act
      await putBatch(client, testRecords(300));
      await putBatch(client, testRecords(300));

      // Assess
      const ids = endpoint.records().map((record) => record.recordId);
      expect(new Set(ids).size).toBe(600);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/]{200,}$/);
    });

    test('records the region of the SigV4 credential scope with every call and record', async () => {
      // Prepare
      const usClient = firehoseClient(endpoint, { region: 'us-east-1' });

      // Act
      await putRecord(client, 'from eu');
      await putRecord(usClient, 'from us');
      usClient.destroy();

      // Assess
      expect(endpoint.records().map((record) => [record.data.toString(), record.region])).toEqual([
        ['from eu', 'eu-west-1'],
        ['from us', 'us-east-1'],
      ]);
      expect(endpoint.calls.map((call) => call.region)).toEqual(['eu-west-1', 'us-east-1']);
    });

    test('keeps neither the Authorization header nor the access key id', async () => {
      // Act
      await putRecord(client, 'secret-free');

      // Assess
      const kept = JSON.stringify({
        calls: endpoint.calls,
        records: endpoint.records(),
        stats: endpoint.stats,
      });
      expect(kept).not.toContain(TEST_ACCESS_KEY_ID);
      expect(kept).not.toContain('Signature');
    });

    test('counts calls, rejected calls, accepted records and bytes in its stats, with the bytes the service would bill', async () => {
      // Act
      await putBatch(client, testRecords(3, 100));
      await errorOf(putRecord(client, 'x', 'unknown-stream'));

      // Assess
      expect(endpoint.stats).toEqual({
        calls: 2,
        rejectedCalls: 1,
        acceptedRecords: 3,
        acceptedBytes: 300,
        billedBytes: 3 * 5120,
        failedRecords: 0,
      });
    });

    test('accepts any stream name when started with acceptAnyStream', async () => {
      // Prepare
      const open = await TestFirehoseEndpoint.start({ acceptAnyStream: true });
      const openClient = firehoseClient(open);

      // Act
      await putRecord(openClient, 'anything', 'never-declared');
      openClient.destroy();
      await open.stop();

      // Assess
      expect(open.records('never-declared').map((record) => record.data.toString())).toEqual(['anything']);
    });

    test('accepts records for a stream added while running', async () => {
      // Prepare
      endpoint.addStream('late');

      // Act
      await putRecord(client, 'hello', 'late');

      // Assess
      expect(endpoint.records('late')).toHaveLength(1);
    });
  });

  describe('service limits', () => {
    test('rejects a batch of 501 records with ValidationException', async () => {
      // Act
      const error = await errorOf(putBatch(client, testRecords(501)));

      // Assess
      expect(error.name).toBe('ValidationException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(endpoint.records()).toHaveLength(0);
    });

    test('rejects an empty batch with ValidationException', async () => {
      // Act
      const error = await errorOf(putBatch(client, []));

      // Assess
      expect(error.name).toBe('ValidationException');
    });

    test('rejects a record of 1,024,001 bytes with ValidationException', async () => {
      // Act
      const error = await errorOf(putBatch(client, [Buffer.alloc(10), Buffer.alloc(1_024_001)]));

      // Assess
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain("'records.2.member.data'");
      expect(endpoint.records()).toHaveLength(0);
    });

    test('accepts a record of exactly 1,024,000 bytes', async () => {
      // Act
      await putRecord(client, Buffer.alloc(1_024_000, 7));

      // Assess
      expect(endpoint.records('s1')[0].data.length).toBe(1_024_000);
    });

    test('rejects a call of more than 4 MiB of data with InvalidArgumentException', async () => {
      // Prepare: 4 x 1,024,000 + 98,305 = 4 MiB + 1 byte
      const batch = [...testRecords(4, 1_024_000), Buffer.alloc(98_305)];

      // Act
      const error = await errorOf(putBatch(client, batch));

      // Assess
      expect(error.name).toBe('InvalidArgumentException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(endpoint.records()).toHaveLength(0);
    });

    test('accepts a call of exactly 4 MiB of data', async () => {
      // Prepare: 4 x 1,024,000 + 98,304 = 4,194,304 bytes
      const batch = [...testRecords(4, 1_024_000), Buffer.alloc(98_304)];

      // Act
      const output = await putBatch(client, batch);

      // Assess
      expect(output.FailedPutCount).toBe(0);
      expect(endpoint.stats.acceptedBytes).toBe(4_194_304);
    });

    test('rejects an unknown delivery stream with ResourceNotFoundException naming stream and account', async () => {
      // Act
      const error = await errorOf(putRecord(client, 'x', 'missing'));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
      expect(error.message).toBe('Firehose missing not found under account 123456789012.');
    });

    test('rejects a stream removed while running with ResourceNotFoundException', async () => {
      // Prepare
      endpoint.removeStream('s1');

      // Act
      const error = await errorOf(putRecord(client, 'x'));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
    });

    test('answers an unknown X-Amz-Target with UnknownOperationException and HTTP 400', async () => {
      // Act
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'X-Amz-Target': 'Firehose_20150804.DeleteDeliveryStream',
          'Content-Type': 'application/x-amz-json-1.1',
        },
        body: '{}',
      });

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        __type: 'UnknownOperationException',
        message: 'Unknown operation Firehose_20150804.DeleteDeliveryStream.',
      });
    });
  });

  describe('stream names', () => {
    test('rejects a name outside [a-zA-Z0-9_.-] with ValidationException quoting the pattern', async () => {
      // Act
      const error = await errorOf(putRecord(client, 'x', 'a/b'));

      // Assess
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
    });

    test.each(['.', '..'])(
      'answers ResourceNotFoundException for the stream %j even when any stream name is accepted',
      async (name) => {
        // Prepare
        const open = await TestFirehoseEndpoint.start({ acceptAnyStream: true });
        const openClient = firehoseClient(open);

        // Act
        const error = await errorOf(putRecord(openClient, 'x', name));
        openClient.destroy();
        await open.stop();

        // Assess
        expect(error.name).toBe('ResourceNotFoundException');
        expect(error.message).toBe(`Firehose ${name} not found under account 123456789012.`);
        expect(open.records()).toEqual([]);
      },
    );

    test.each(['.', '..', 'a/b', ''])('refuses to create the stream %j', (name) => {
      // Act
      const create = (): void => endpoint.addStream(name);

      // Assess
      expect(create).toThrow(
        `Delivery stream names are 1 to 64 characters of [a-zA-Z0-9_.-], other than . and .., got ${JSON.stringify(name)}`,
      );
    });
  });

  describe('quotas', () => {
    let throttled: TestFirehoseEndpoint;
    let throttledClient: FirehoseClient;
    /** The quotas' clock, in milliseconds: it moves only when a test moves it. */
    let now: number;

    async function startThrottled(options: Parameters<typeof TestFirehoseEndpoint.start>[0]): Promise<void> {
      throttled = await TestFirehoseEndpoint.start({ streams: ['s1', 's2'], now: () => now, ...options });
      throttledClient = firehoseClient(throttled);
    }

    beforeEach(() => {
      now = 0;
    });

    afterEach(async () => {
      throttledClient.destroy();
      await throttled.stop();
    });

    const lenient = { recordsPerSecond: 1_000_000, bytesPerSecond: 1e9, requestsPerSecond: 1_000_000 };

    test('fails the records over the records quota inside a PutRecordBatch with ServiceUnavailableException "Slow down."', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, recordsPerSecond: 3 } });

      // Act
      const output = await putBatch(throttledClient, testRecords(5));

      // Assess
      expect(output.FailedPutCount).toBe(2);
      expect(output.RequestResponses?.slice(3)).toEqual([
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
      ]);
      expect(throttled.records('s1').map((record) => record.data[0])).toEqual([0, 1, 2]);
      expect(throttled.stats.failedRecords).toBe(2);
    });

    test('refills the records quota continuously: half a second later, half of it passes again', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, recordsPerSecond: 4 } });
      await putBatch(throttledClient, testRecords(4));

      // Act
      now += 500;
      const output = await putBatch(throttledClient, testRecords(4));

      // Assess
      expect(output.FailedPutCount).toBe(2);
      expect(throttled.stats.acceptedRecords).toBe(6);
    });

    test('fails the records over the bytes quota and still takes a later record that fits', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, bytesPerSecond: 100 } });
      const batch = [Buffer.alloc(60, 1), Buffer.alloc(60, 2), Buffer.alloc(40, 3)];

      // Act
      const output = await putBatch(throttledClient, batch);

      // Assess
      expect(output.RequestResponses?.map((response) => response.ErrorCode ?? 'stored')).toEqual([
        'stored',
        'ServiceUnavailableException',
        'stored',
      ]);
      expect(throttled.records('s1').map((record) => record.data[0])).toEqual([1, 3]);
    });

    test('fails a PutRecord over the records quota whole, with HTTP 503 ServiceUnavailableException', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, recordsPerSecond: 1 } });
      await putRecord(throttledClient, 'first');

      // Act
      const error = await errorOf(putRecord(throttledClient, 'second'));

      // Assess
      expect(error.name).toBe('ServiceUnavailableException');
      expect(error.message).toBe('Slow down.');
      expect(error.$metadata?.httpStatusCode).toBe(503);
      expect(throttled.records().map((record) => record.data.toString())).toEqual(['first']);
    });

    test('fails a call over the request quota whole, with HTTP 503, until the quota refills', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, requestsPerSecond: 2 } });
      await putBatch(throttledClient, testRecords(1));
      await putBatch(throttledClient, testRecords(1));

      // Act
      const refused = await errorOf(putBatch(throttledClient, testRecords(3)));
      now += 500;
      const later = await putBatch(throttledClient, testRecords(3));

      // Assess
      expect(refused.name).toBe('ServiceUnavailableException');
      expect(refused.$metadata?.httpStatusCode).toBe(503);
      expect(later.FailedPutCount).toBe(0);
      expect(throttled.calls.map((call) => call.outcome)).toEqual([
        'accepted',
        'accepted',
        'rejected',
        'accepted',
      ]);
      expect(throttled.stats.acceptedRecords).toBe(5);
    });

    test('gives each stream a quota of its own', async () => {
      // Prepare
      await startThrottled({ quotas: { ...lenient, recordsPerSecond: 2 } });
      await putBatch(throttledClient, testRecords(2), 's1');

      // Act
      const other = await putBatch(throttledClient, testRecords(2), 's2');

      // Assess
      expect(other.FailedPutCount).toBe(0);
    });

    test('regional defaults give eu-west-1 streams 5 MiB/s and eu-central-1 streams 1 MiB/s', async () => {
      // Prepare
      await startThrottled({ quotas: 'regional-defaults' });
      const frankfurt = firehoseClient(throttled, { region: 'eu-central-1' });
      const twoMegabytes = testRecords(2, 1_000_000);

      // Act
      const ireland = await putBatch(throttledClient, twoMegabytes);
      const central = await putBatch(frankfurt, twoMegabytes);
      frankfurt.destroy();

      // Assess
      expect(ireland.FailedPutCount).toBe(0);
      expect(central.FailedPutCount).toBe(1);
    });

    test('enforces no quota unless configured', async () => {
      // Prepare
      await startThrottled({});

      // Act: 4 MiB and 1,000 records in one instant, over every default quota of eu-central-1.
      const frankfurt = firehoseClient(throttled, { region: 'eu-central-1' });
      const big = await putBatch(frankfurt, testRecords(4, 1_000_000));
      const many = [await putBatch(frankfurt, testRecords(500)), await putBatch(frankfurt, testRecords(500))];
      frankfurt.destroy();

      // Assess
      expect([big, ...many].map((output) => output.FailedPutCount)).toEqual([0, 0, 0]);
    });
  });
});
