import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInside, ObjectWriter } from '../../../runtime/local/object-writer';
import { filesUnder } from '../../helpers/firehose-client';

describe('ObjectWriter', () => {
  let workDir: string;
  let dataDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'object-writer-test-'));
    dataDir = join(workDir, 'data');
  });

  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  test('writes a stream’s records into one object under its data folder', async () => {
    // Prepare
    const writer = new ObjectWriter(dataDir);

    // Act
    await writer.write('s1', [Buffer.from('a'), Buffer.from('b')], new Date('2026-03-04T05:06:07Z'));

    // Assess
    const files = await filesUnder(dataDir);
    expect(files).toEqual([expect.stringMatching(/^s1\/2026\/03\/04\/05\/s1-00000001-2026-03-04-05-06-07-/)]);
  });

  test.each(['..', '../..', 'a/../..'])(
    'refuses a stream name (%j) whose objects would land outside the data folder, writing nothing',
    async (streamName) => {
      // Prepare
      const writer = new ObjectWriter(dataDir);

      // Act
      const writing = writer.write(streamName, [Buffer.from('x')], new Date('2026-03-04T05:06:07Z'));

      // Assess
      await expect(writing).rejects.toThrow(/^Refusing to write .*: it is outside the data folder /);
      expect(await readdir(workDir)).toEqual([]);
    },
  );

  test('settled waits for every write started', async () => {
    // Prepare
    const writer = new ObjectWriter(dataDir);
    const at = new Date('2026-03-04T05:06:07Z');
    for (let index = 0; index < 5; index++) void writer.write('s1', [Buffer.from(String(index))], at);

    // Act
    await writer.settled();

    // Assess
    expect(await filesUnder(dataDir)).toHaveLength(5);
  });
});

describe('isInside', () => {
  test.each([
    ['/data', '/data/s1/2026/x', true],
    ['/data', '/data/..s1/x', true],
    ['/data', '/data', false],
    ['/data', '/data/../x', false],
    ['/data', '/database/x', false],
    ['/data', '/', false],
  ])('isInside(%j, %j) is %j', (root, path, inside) => {
    // Assess
    expect(isInside(root, path)).toBe(inside);
  });
});
