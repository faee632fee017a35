import { type FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { errorOf, firehoseClient, putBatch, putRecord, testRecords } from './firehose-client';
import { type AcceptedRecordsEvent, TestFirehoseEndpoint } from './firehose-endpoint';

describe('TestFirehoseEndpoint', () => {
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

  describe('the call log', () => {
    test('logs each call with its operation, stream, region, record count, bytes and outcome', async () => {
      // Act
      await putBatch(client, testRecords(3, 100));
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
    });

    test('keeps only the most recent calls, oldest first, and counts every call in its totals', async () => {
      // Prepare
      const small = await TestFirehoseEndpoint.start({ streams: ['s1'], callLogSize: 3 });
      const smallClient = firehoseClient(small);

      // Act
      for (const size of [1, 2, 3, 4, 5]) await putBatch(smallClient, testRecords(size));
      await putRecord(smallClient, 'last');
      smallClient.destroy();
      await small.stop();

      // Assess
      expect(small.calls.map((call) => call.recordCount)).toEqual([4, 5, 1]);
      expect(small.callTotals).toEqual({
        calls: 6,
        putRecord: 1,
        putRecordBatch: 5,
        outcomes: { accepted: 6, partial: 0, rejected: 0, hung: 0 },
        storedRecords: 16,
        storedBatchRecords: 15,
      });
    });

    test('clear forgets records, calls, totals and stats', async () => {
      // Prepare
      await putBatch(client, testRecords(2));

      // Act
      endpoint.clear();

      // Assess
      expect(endpoint.records()).toEqual([]);
      expect(endpoint.calls).toEqual([]);
      expect(endpoint.callTotals.calls).toBe(0);
      expect(endpoint.stats.acceptedRecords).toBe(0);
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
      const retryingClient = firehoseClient(endpoint, { maxAttempts: 3 });
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
      const output = await putBatch(client, testRecords(5));

      // Assess
      expect(output.FailedPutCount).toBe(2);
      expect(output.RequestResponses?.map((response) => response.ErrorCode ?? 'stored')).toEqual([
        'ServiceUnavailableException',
        'ServiceUnavailableException',
        'stored',
        'stored',
        'stored',
      ]);
      expect(output.RequestResponses?.[0]?.ErrorMessage).toBe('Slow down.');
      expect(endpoint.records().map((record) => record.data[0])).toEqual([2, 3, 4]);
      expect(endpoint.stats.failedRecords).toBe(2);
    });

    test('failRecords with a rate fails that fraction of records, evenly spread', async () => {
      // Prepare
      endpoint.failRecords({ rate: 0.25, code: 'InternalFailure', message: 'Injected' });

      // Act
      const output = await putBatch(client, testRecords(8));

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

    test('refuses a record fault rate outside (0, 1] and a negative count', () => {
      // Assess
      expect(() => endpoint.failRecords({ rate: 0 })).toThrow(
        'failRecords rate must be above 0 and at most 1, got 0',
      );
      expect(() => endpoint.failCalls({ count: -1 })).toThrow(
        'failCalls count must be a non-negative integer or Infinity, got -1',
      );
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
      const pausedClient = firehoseClient(endpoint);
      const refused = await errorOf(putRecord(pausedClient, 'while paused'));
      pausedClient.destroy();
      await endpoint.resume();
      const resumedClient = firehoseClient(endpoint);
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
      await putBatch(client, testRecords(2));
      await putBatch(client, testRecords(1));

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
      await putBatch(client, testRecords(4, 5));
      unsubscribe();
      await putBatch(client, testRecords(1));

      // Assess
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ streamName: 's1', region: 'eu-west-1', bytes: 20 });
      expect(events[0].records).toHaveLength(4);
      expect(events[0].stats.acceptedRecords).toBe(4);
    });

    test('keepRecords false keeps counting without holding records in memory', async () => {
      // Prepare
      const lean = await TestFirehoseEndpoint.start({ streams: ['s1'], keepRecords: false });
      const leanClient = firehoseClient(lean);

      // Act
      await putBatch(leanClient, testRecords(10));
      leanClient.destroy();
      await lean.stop();

      // Assess
      expect(lean.records()).toEqual([]);
      expect(lean.stats.acceptedRecords).toBe(10);
      expect(lean.callTotals.storedRecords).toBe(10);
    });
  });
});
