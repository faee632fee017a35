/** The real AWS SDK's Firehose client against a local endpoint, and the calls the endpoint tests make with it. */
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
  PutRecordCommand,
  type PutRecordCommandOutput,
} from '@aws-sdk/client-firehose';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Never a real key: the endpoint tests check that it is not kept. */
export const TEST_ACCESS_KEY_ID = 'AKIDLOCALTESTONLY';

/** A client for `endpoint.url`, one attempt per call unless told, so each failure shows. */
export function firehoseClient(
  endpoint: { readonly url: string },
  options: { readonly region?: string; readonly maxAttempts?: number } = {},
): FirehoseClient {
  return new FirehoseClient({
    endpoint: endpoint.url,
    region: options.region ?? 'eu-west-1',
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'not-a-real-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

export function putBatch(
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

export function putRecord(
  client: FirehoseClient,
  data: Buffer | string,
  stream = 's1',
): Promise<PutRecordCommandOutput> {
  return client.send(
    new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from(data) } }),
  );
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** `count` records of `size` bytes, record n filled with byte n % 256. */
export function testRecords(count: number, size = 10): Buffer[] {
  return Array.from({ length: count }, (_, index) => Buffer.alloc(size, index % 256));
}

/** Every file under `folder`, as paths relative to it, sorted. */
export async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .sort();
}
