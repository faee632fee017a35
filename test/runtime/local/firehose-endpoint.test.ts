import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFirehoseEndpoint } from '../../../runtime/local/firehose-endpoint';
import {
  errorOf,
  filesUnder,
  firehoseClient,
  putBatch,
  putRecord,
  testRecords,
} from '../../helpers/firehose-client';

// The endpoint as the local mode runs it: any stream name, records written as S3-style objects under dataDir.
describe('LocalFirehoseEndpoint', () => {
  let workDir: string;
  let dataDir: string;
  let endpoint: LocalFirehoseEndpoint;
  let client: FirehoseClient;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'firehose-endpoint-test-'));
    dataDir = join(workDir, 'data');
    endpoint = await LocalFirehoseEndpoint.start({ acceptAnyStream: true, dataDir });
    client = firehoseClient(endpoint);
  });

  afterEach(async () => {
    client.destroy();
    await endpoint.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 on the port the system picked', () => {
    // Assess
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
  });

  test('writes each accepted call as one S3-style object under <stream>/YYYY/MM/DD/HH/ in UTC', async () => {
    // Prepare
    const before = Date.now();

    // Act
    await putBatch(client, testRecords(2));
    await putRecord(client, 'second call');

    // Assess
    const files = await filesUnder(dataDir);
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
    await putBatch(client, sent);

    // Assess
    const [file] = await filesUnder(dataDir);
    expect((await readFile(join(dataDir, file))).equals(Buffer.concat(sent))).toBe(true);
  });

  test('names objects with increasing sequence numbers so a sorted listing is arrival order', async () => {
    // Act
    for (const text of ['one', 'two', 'three']) await putRecord(client, text);

    // Assess
    const contents = await Promise.all(
      (await filesUnder(dataDir)).map(async (file) => (await readFile(join(dataDir, file))).toString()),
    );
    expect(contents).toEqual(['one', 'two', 'three']);
  });

  test('counts what it accepted in its stats, with the bytes the service would bill', async () => {
    // Act
    await putBatch(client, testRecords(3, 100));

    // Assess
    expect(endpoint.stats).toEqual({
      calls: 1,
      rejectedCalls: 0,
      acceptedRecords: 3,
      acceptedBytes: 300,
      billedBytes: 3 * 5120,
      failedRecords: 0,
    });
  });

  test.each(['.', '..'])(
    'writes nothing for the stream %j, inside or outside its data folder',
    async (name) => {
      // Act
      const error = await errorOf(putRecord(client, 'escaped?', name));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
      expect(await readdir(workDir)).toEqual([]);
    },
  );

  test('an object leaves out the records its stream quota refused', async () => {
    // Prepare
    const throttled = await LocalFirehoseEndpoint.start({
      acceptAnyStream: true,
      dataDir,
      quotas: { recordsPerSecond: 1, bytesPerSecond: 1000, requestsPerSecond: 10 },
      now: () => 0,
    });
    const throttledClient = firehoseClient(throttled);

    // Act
    const output = await putBatch(throttledClient, [Buffer.from('kept'), Buffer.from('refused')]);
    throttledClient.destroy();
    await throttled.stop();

    // Assess
    expect(output.FailedPutCount).toBe(1);
    const [file] = await filesUnder(dataDir);
    expect((await readFile(join(dataDir, file))).toString()).toBe('kept');
  });

  test('refuses connections once stopped', async () => {
    // Prepare
    await endpoint.stop();
    const fresh = firehoseClient(endpoint);

    // Act
    const error = await errorOf(putRecord(fresh, 'late'));
    fresh.destroy();

    // Assess
    expect(error.message).toContain('connect ECONNREFUSED');
  });
});
