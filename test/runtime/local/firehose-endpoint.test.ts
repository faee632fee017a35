import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type AcceptedRecordsEvent, LocalFirehoseEndpoint } from '../../../runtime/local/firehose-endpoint';

const ACCESS_KEY_ID = 'AKIDLOCALTESTONLY';

function clientFor(
  endpoint: LocalFirehoseEndpoint,
  options: { region?: string; maxAttempts?: number } = {},
): FirehoseClient {
  return new FirehoseClient({
    endpoint: endpoint.url,
    region: options.region ?? 'eu-west-1',
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'not-a-real-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

function putBatch(
  client: FirehoseClient,
  records: readonly Buffer[],
  stream = 's1',
): Promise<PutRecordBatchCommandOutput> {
  return client.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: stream,
      Records: records.map((data) => ({ Data: data })),
    }),
  );
}

function putRecord(client: FirehoseClient, data: Buffer | string, stream = 's1'): Promise<unknown> {
  return client.send(
    new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from(data) } }),
  );
}

/** The error a promise rejects with; fails the test when it resolves. */
async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function records(count: number, size = 10): Buffer[] {
  return Array.from({ length: count }, (_, index) => Buffer.alloc(size, index % 256));
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();
}

describe('LocalFirehoseEndpoint', () => {
  let endpoint: LocalFirehoseEndpoint;
  let client: FirehoseClient;

  beforeEach(async () => {
    endpoint = await LocalFirehoseEndpoint.start({ streams: ['s1'] });
    client = clientFor(endpoint);
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
      const output = (await putRecord(client, data)) as { RecordId?: string; Encrypted?: boolean };

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
      await putBatch(client, records(300));
      await putBatch(client, records(300));

      // Assess
      const ids = endpoint.records().map((record) => record.recordId);
      expect(new Set(ids).size).toBe(600);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/]{200,}$/);
    });

    test('records the region of the SigV4 credential scope with every call and record', async () => {
      // Prepare
      const usClient = clientFor(endpoint, { region: 'us-east-1' });

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
      expect(kept).not.toContain(ACCESS_KEY_ID);
      expect(kept).not.toContain('Signature');
    });

    test('logs each call with its operation, stream, region, record count, bytes and outcome', async () => {
      // Act
      await putBatch(client, records(3, 100));
      await errorOf(putRecord(client, 'x', 'unknown-stream'));

      // Assess
      expect(endpoint.calls).toEqual([
        expect.objectContaining({
          operation: 'PutRecordBatch',
          streamName: 's1',
          region: 'eu-west-1',
          recordCount: 3,
          bytes: 300,
          outcome: 'accepted',
          failedRecordCount: 0,
          errorCode: undefined,
        }),
        expect.objectContaining({
          operation: 'PutRecord',
          streamName: 'unknown-stream',
          recordCount: 1,
          bytes: 1,
          outcome: 'rejected',
          errorCode: 'ResourceNotFoundException',
        }),
      ]);
      expect(endpoint.stats).toEqual({
        calls: 2,
        rejectedCalls: 1,
        acceptedRecords: 3,
        acceptedBytes: 300,
        failedRecords: 0,
      });
    });

    test('accepts any stream name when started with acceptAnyStream', async () => {
      // Prepare
      const open = await LocalFirehoseEndpoint.start({ acceptAnyStream: true });
      const openClient = clientFor(open);

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
      const error = await errorOf(putBatch(client, records(501)));

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
      const batch = [...records(4, 1_024_000), Buffer.alloc(98_305)];

      // Act
      const error = await errorOf(putBatch(client, batch));

      // Assess
      expect(error.name).toBe('InvalidArgumentException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(endpoint.records()).toHaveLength(0);
    });

    test('accepts a call of exactly 4 MiB of data', async () => {
      // Prepare: 4 x 1,024,000 + 98,304 = 4,194,304 bytes
      const batch = [...records(4, 1_024_000), Buffer.alloc(98_304)];

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

  describe('fault injection', () => {
    test('failCalls fails the next N calls with ServiceUnavailableException, HTTP 503, "Slow down."', async () => {
      // Prepare
      endpoint.failCalls({ count: 2 });

      // Act
      const first = await errorOf(putRecord(client, 'a'));
      const second = await errorOf(putRecord(client, 'b'));
      await putRecord(client, 'c');

      // Assess
      for (const error of [first, second]) {
        expect(error.name).toBe('ServiceUnavailableException');
        expect(error.message).toBe('Slow down.');
        expect(error.$metadata?.httpStatusCode).toBe(503);
      }
      expect(endpoint.records().map((record) => record.data.toString())).toEqual(['c']);
    });

    test('failCalls without a count fails every call until clearFaults', async () => {
      // Prepare
      endpoint.failCalls();
      const failures = [await errorOf(putRecord(client, 'a')), await errorOf(putRecord(client, 'b'))];

      // Act
      endpoint.clearFaults();
      await putRecord(client, 'c');

      // Assess
      expect(failures.map((error) => error.name)).toEqual([
        'ServiceUnavailableException',
        'ServiceUnavailableException',
      ]);
      expect(endpoint.records()).toHaveLength(1);
    });

    test('failCalls with InternalFailure answers HTTP 500', async () => {
      // Prepare
      endpoint.failCalls({ code: 'InternalFailure', count: 1 });

      // Act
      const error = await errorOf(putRecord(client, 'a'));

      // Assess
      expect(error.name).toBe('InternalFailure');
      expect(error.$metadata?.httpStatusCode).toBe(500);
    });

    test('failCalls sends any given code, status and message', async () => {
      // Prepare
      endpoint.failCalls({
        code: 'ThrottlingException',
        status: 429,
        message: 'Rate exceeded for test',
        count: 1,
      });

      // Act
      const error = await errorOf(putRecord(client, 'a'));

      // Assess
      expect(error.name).toBe('ThrottlingException');
      expect(error.message).toBe('Rate exceeded for test');
      expect(error.$metadata?.httpStatusCode).toBe(429);
    });

    test('the SDK retries an injected 503 by itself when allowed more than one attempt', async () => {
      // Prepare
      const retryingClient = clientFor(endpoint, { maxAttempts: 3 });
      endpoint.failCalls({ count: 1 });

      // Act
      await putRecord(retryingClient, 'a');
      retryingClient.destroy();

      // Assess
      expect(endpoint.calls.map((call) => call.outcome)).toEqual(['rejected', 'accepted']);
    });

    test('failRecords fails the next N records with ErrorCode and counts them in FailedPutCount', async () => {
      // Prepare
      endpoint.failRecords({ count: 2 });

      // Act
      const output = await putBatch(client, records(5));

      // Assess
      expect(output.FailedPutCount).toBe(2);
      expect(output.RequestResponses?.slice(0, 2)).toEqual([
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
      ]);
      expect(output.RequestResponses?.slice(2).every((response) => response.RecordId !== undefined)).toBe(
        true,
      );
      expect(endpoint.records().map((record) => record.data[0])).toEqual([2, 3, 4]);
      expect(endpoint.stats.failedRecords).toBe(2);
    });

    test('failRecords with a rate fails that fraction of records, evenly spread', async () => {
      // Prepare
      endpoint.failRecords({ rate: 0.25, code: 'InternalFailure', message: 'Injected' });

      // Act
      const output = await putBatch(client, records(8));

      // Assess
      const failedIndexes = output.RequestResponses?.flatMap((response, index) =>
        response.ErrorCode === undefined ? [] : [index],
      );
      expect(failedIndexes).toEqual([3, 7]);
      expect(output.RequestResponses?.[3]).toEqual({
        ErrorCode: 'InternalFailure',
        ErrorMessage: 'Injected',
      });
      expect(endpoint.calls[0].outcome).toBe('partial');
    });

    test('a record fault fails a PutRecord call with that error', async () => {
      // Prepare
      endpoint.failRecords({ count: 1 });

      // Act
      const error = await errorOf(putRecord(client, 'a'));

      // Assess
      expect(error.name).toBe('ServiceUnavailableException');
      expect(endpoint.records()).toHaveLength(0);
    });

    test('setLatency delays every answer by at least that long', async () => {
      // Prepare
      endpoint.setLatency(300);
      const started = Date.now();

      // Act
      await putRecord(client, 'slow');

      // Assess
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    });

    test('hangCalls leaves a call unanswered until the client gives up', async () => {
      // Prepare
      endpoint.hangCalls({ count: 1 });

      // Act
      const error = await errorOf(
        client.send(new PutRecordCommand({ DeliveryStreamName: 's1', Record: { Data: Buffer.from('a') } }), {
          abortSignal: AbortSignal.timeout(300),
        }),
      );
      await putRecord(client, 'b');

      // Assess
      expect(error.name).toBe('AbortError');
      expect(endpoint.calls.map((call) => call.outcome)).toEqual(['hung', 'accepted']);
      expect(endpoint.records().map((record) => record.data.toString())).toEqual(['b']);
    });

    test('pause refuses new connections and resume listens again on the same port', async () => {
      // Prepare
      const port = endpoint.port;
      await putRecord(client, 'before');

      // Act
      await endpoint.pause();
      // Fresh clients: a kept-alive connection cut by pause() fails with ECONNRESET instead.
      const pausedClient = clientFor(endpoint);
      const refused = await errorOf(putRecord(pausedClient, 'while paused'));
      pausedClient.destroy();
      await endpoint.resume();
      const resumedClient = clientFor(endpoint);
      await putRecord(resumedClient, 'after');
      resumedClient.destroy();

      // Assess
      // Under Jest the SDK wraps Node's (other-realm) network errors, dropping `code` but keeping the message.
      expect(refused.message).toContain('connect ECONNREFUSED');
      expect(endpoint.port).toBe(port);
      expect(endpoint.records().map((record) => record.data.toString())).toEqual(['before', 'after']);
    });
  });

  describe('observing records', () => {
    test('waitForRecords resolves with the stream records once the count has arrived', async () => {
      // Prepare
      const waiting = endpoint.waitForRecords('s1', 3, 5000);

      // Act
      await putBatch(client, records(2));
      await putBatch(client, records(1));

      // Assess
      await expect(waiting).resolves.toHaveLength(3);
    });

    test('waitForRecords rejects after its timeout saying how many records arrived', async () => {
      // Prepare
      await putRecord(client, 'only one');

      // Act
      const waiting = endpoint.waitForRecords('s1', 2, 200);

      // Assess
      await expect(waiting).rejects.toThrow(
        'Timed out after 200 ms waiting for 2 records on delivery stream s1; 1 arrived.',
      );
    });

    test('onRecords tells listeners about each call that stored records until they unsubscribe', async () => {
      // Prepare
      const events: AcceptedRecordsEvent[] = [];
      const unsubscribe = endpoint.onRecords((event) => events.push(event));

      // Act
      await putBatch(client, records(4, 5));
      unsubscribe();
      await putBatch(client, records(1));

      // Assess
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ streamName: 's1', region: 'eu-west-1', bytes: 20 });
      expect(events[0].records).toHaveLength(4);
      expect(events[0].stats.acceptedRecords).toBe(4);
    });

    test('keepRecords false keeps counting without holding records in memory', async () => {
      // Prepare
      const lean = await LocalFirehoseEndpoint.start({ streams: ['s1'], keepRecords: false });
      const leanClient = clientFor(lean);

      // Act
      await putBatch(leanClient, records(10));
      leanClient.destroy();
      await lean.stop();

      // Assess
      expect(lean.records()).toEqual([]);
      expect(lean.stats.acceptedRecords).toBe(10);
    });
  });

  describe('dataDir', () => {
    let dataDir: string;
    let writing: LocalFirehoseEndpoint;
    let writingClient: FirehoseClient;

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'firehose-endpoint-test-'));
      writing = await LocalFirehoseEndpoint.start({ streams: ['s1'], dataDir });
      writingClient = clientFor(writing);
    });

    afterEach(async () => {
      writingClient.destroy();
      await writing.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test('writes each accepted call as one S3-style object under <stream>/YYYY/MM/DD/HH/ in UTC', async () => {
      // Prepare
      const before = Date.now();

      // Act
      await putBatch(writingClient, records(2));
      await putRecord(writingClient, 'second call');

      // Assess
      const files = await listFiles(dataDir);
      expect(files).toHaveLength(2);
      for (const file of files) {
        const match =
          /^s1\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/s1-\d{8}-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}$/.exec(
            file,
          );
        expect(match).not.toBeNull();
        const [year, month, day, hour, nameYear, nameMonth, nameDay, nameHour, minute, second] =
          match!.slice(1);
        expect([nameYear, nameMonth, nameDay, nameHour]).toEqual([year, month, day, hour]);
        const written = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
        expect(written).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
        expect(written).toBeLessThanOrEqual(Date.now());
      }
    });

    test('an object holds the accepted records of its call concatenated, byte for byte', async () => {
      // Prepare
      const sent = [Buffer.from('{"a":1}\n'), Buffer.from([0, 1, 2, 255]), Buffer.from('tail')];

      // Act
      await putBatch(writingClient, sent);

      // Assess
      const [file] = await listFiles(dataDir);
      expect((await readFile(join(dataDir, file))).equals(Buffer.concat(sent))).toBe(true);
    });

    test('an object leaves out the records that failed', async () => {
      // Prepare
      writing.failRecords({ count: 1 });

      // Act
      await putBatch(writingClient, [Buffer.from('failed'), Buffer.from('kept')]);

      // Assess
      const [file] = await listFiles(dataDir);
      expect((await readFile(join(dataDir, file))).toString()).toBe('kept');
    });

    test('names objects with increasing sequence numbers so a sorted listing is arrival order', async () => {
      // Act
      for (const text of ['one', 'two', 'three']) await putRecord(writingClient, text);

      // Assess
      const contents = await Promise.all(
        (await listFiles(dataDir)).map(async (file) => (await readFile(join(dataDir, file))).toString()),
      );
      expect(contents).toEqual(['one', 'two', 'three']);
    });
  });
});
