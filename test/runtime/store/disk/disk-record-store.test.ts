import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DiskRecordStore } from '../../../../runtime/store/disk/disk-record-store';
import type { DiskRecordStoreOptions } from '../../../../runtime/store/disk/options';
import { storedStreamArns } from '../../../../runtime/store/disk/queue-folder';
import { tableCrc32 } from '../../../../runtime/store/disk/segment';
import type { QueuedRecord } from '../../../../runtime/store/record-store';
import { startDiskQueueWriter } from '../../../helpers/disk-queue-writer';
import {
  queuedRecord,
  requestIds,
  sizedRecord,
  streamArn,
  TEST_ENQUEUED_AT,
  variedRecords,
} from '../../../helpers/factories';
import { settle, useFakeTime } from '../../../helpers/fake-time';
import { captureLogger, type LogEntry, logged } from '../../../helpers/log-capture';
import { appendAll, leaseAll, recordStoreSuite, storeCounts } from '../../../helpers/record-store-suite';

const ARN = streamArn();
const OTHER_ARN = streamArn('s2', 'eu-west-1');
const HEADER_BYTES = 32;

const folders: string[] = [];
const stores: DiskRecordStore[] = [];
let logs: LogEntry[];

function tempFolder(): string {
  const folder = fs.mkdtempSync(join(tmpdir(), 'disk-queue-'));
  folders.push(folder);
  return folder;
}

function open(directory: string, options: Partial<DiskRecordStoreOptions> = {}): DiskRecordStore {
  const store = DiskRecordStore.open({ directory, streamArn: ARN, logger: captureLogger(logs), ...options });
  stores.push(store);
  return store;
}

function frameBytes(queued: QueuedRecord): number {
  return HEADER_BYTES + Buffer.byteLength(queued.requestId) + queued.data.length;
}

function files(folder: string, extension: string): string[] {
  return fs
    .readdirSync(folder)
    .filter((name) => name.endsWith(extension))
    .sort();
}

/** The stream folder's first segment file, where tests damage records. */
function firstSegment(store: DiskRecordStore): string {
  return join(store.streamDirectory, files(store.streamDirectory, '.seg')[0]);
}

function flipByte(file: string, offset: number): void {
  const content = fs.readFileSync(file);
  content[offset] ^= 0xff;
  fs.writeFileSync(file, content);
}

/** An error as Node.js's fs functions throw it. */
function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** Files under `folder` this process holds open (Linux). */
function openHandles(folder: string): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(folder) ? [target] : [];
    } catch {
      return []; // the descriptor readdir itself used, closed by now
    }
  });
}

beforeEach(() => {
  logs = [];
});

afterEach(async () => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  await Promise.all(stores.splice(0).map((store) => store.close()));
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

describe('DiskRecordStore', () => {
  // Small segment files, so that the rules hold across files too.
  recordStoreSuite(() => open(tempFolder(), { segmentBytes: 1024 }));

  describe('keeping records', () => {
    it('returns records after close and reopen in order, byte for byte', async () => {
      // Prepare
      const folder = tempFolder();
      const written = variedRecords();
      const store = open(folder);
      await appendAll(store, written);
      await store.close();

      // Act
      const leased = leaseAll(open(folder));

      // Assess
      expect(leased).toEqual(written);
    });

    it('does not return released records after reopen', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(
        store,
        [0, 1, 2, 3, 4].map((index) => queuedRecord(index)),
      );
      const leased = leaseAll(store);

      // Act
      await store.release([leased[0], leased[2]]);
      await store.release([leased[3]]);
      await store.close();

      // Assess
      expect(requestIds(leaseAll(open(folder)))).toEqual(['r1', 'r4']);
    });

    it('returns records that were leased but never released after reopen', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );

      // Act
      store.lease(2, Number.MAX_SAFE_INTEGER);
      await store.close();

      // Assess
      expect(requestIds(leaseAll(open(folder)))).toEqual(['r0', 'r1', 'r2']);
    });

    it('keeps requeued records at the end after reopen, without their old copies', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      const leased = store.lease(2, Number.MAX_SAFE_INTEGER);
      leased.forEach((queued) => (queued.attempts = 2));

      // Act
      await store.requeue(leased);
      await store.close();

      // Assess
      expect(leaseAll(open(folder))).toEqual([
        queuedRecord(2),
        queuedRecord(0, { attempts: 2 }),
        queuedRecord(1, { attempts: 2 }),
      ]);
    });

    it('rejects an append of a record of another stream', async () => {
      // Prepare
      const store = open(tempFolder());

      // Act
      const appended = store.append(queuedRecord(0, { streamArn: OTHER_ARN }));

      // Assess
      await expect(appended).rejects.toThrow(
        `A record of ${OTHER_ARN} cannot go to the disk queue of ${ARN}`,
      );
      expect(store.count).toBe(0);
    });
  });

  describe('counting', () => {
    it('counts the records found on reopen', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder, { segmentBytes: 1024 });
      await appendAll(store, [
        sizedRecord(0, 300),
        sizedRecord(1, 200),
        sizedRecord(2, 400),
        sizedRecord(3, 100),
        sizedRecord(4, 500),
      ]);
      await store.release(store.lease(2, Number.MAX_SAFE_INTEGER));
      await store.close();

      // Act
      const reopened = open(folder);

      // Assess
      expect(storeCounts(reopened)).toEqual({ count: 3, bytes: 1000, readyCount: 3, readyBytes: 1000 });
    });
  });

  describe('segment files', () => {
    it('starts a new segment file when the next record would take the active one past segmentBytes', async () => {
      // Prepare
      const store = open(tempFolder(), { segmentBytes: 1024 });
      const records = Array.from({ length: 10 }, (_, index) => sizedRecord(index, 300));

      // Act
      await appendAll(store, records);

      // Assess
      expect(frameBytes(records[0])).toBe(334);
      expect(files(store.streamDirectory, '.seg')).toEqual([
        '000000000001.seg',
        '000000000002.seg',
        '000000000003.seg',
        '000000000004.seg',
      ]);
    });

    it('deletes a segment and its acknowledgements once every record in it is released', async () => {
      // Prepare
      const store = open(tempFolder(), { segmentBytes: 1024 });
      await appendAll(
        store,
        Array.from({ length: 6 }, (_, index) => sizedRecord(index, 300)),
      );
      const firstThree = store.lease(3, Number.MAX_SAFE_INTEGER);
      await store.release(firstThree.slice(0, 2));
      const whileOneLeft = [...files(store.streamDirectory, '.seg'), ...files(store.streamDirectory, '.ack')];

      // Act
      await store.release(firstThree.slice(2));

      // Assess
      expect(whileOneLeft).toEqual(['000000000001.seg', '000000000002.seg', '000000000001.ack']);
      expect([...files(store.streamDirectory, '.seg'), ...files(store.streamDirectory, '.ack')]).toEqual([
        '000000000002.seg',
      ]);
    });

    it('deletes a segment whose records were all released while it still took appends, once appends move on', async () => {
      // Prepare: each round fills about two thirds of a segment and is delivered before the next round arrives.
      const store = open(tempFolder(), { segmentBytes: 1024, sync: 'never' });
      for (let round = 0; round < 6; round++) {
        await appendAll(store, [sizedRecord(2 * round, 300), sizedRecord(2 * round + 1, 300)]);
        await store.release(leaseAll(store));
      }

      // Act: closing the retired segments is all that is left to do; with 'never' it needs no I/O callback.
      await settle();

      // Assess
      expect(files(store.streamDirectory, '.seg')).toEqual(['000000000004.seg']);
    });

    it('removes the stream folder when closed with no record left', async () => {
      // Prepare
      const store = open(tempFolder());
      await appendAll(store, [queuedRecord(0), queuedRecord(1)]);
      await store.release(leaseAll(store));

      // Act
      await store.close();

      // Assess
      expect(fs.existsSync(store.streamDirectory)).toBe(false);
    });

    it('writes records in the documented format', async () => {
      // Prepare
      const store = open(tempFolder());
      const written = queuedRecord(0, { requestId: 'id-1', data: Buffer.from('hello'), attempts: 5 });

      // Act
      await store.append(written);

      // Assess
      const frame = fs.readFileSync(firstSegment(store));
      expect(frame.length).toBe(HEADER_BYTES + 4 + 5);
      expect([...frame.subarray(0, 4)]).toEqual([0x46, 0x48, 0x51, 0x01]);
      expect(frame.readUInt32LE(4)).toBe(5);
      expect(frame.readUInt32LE(8)).toBe(4);
      expect(Number(frame.readBigUInt64LE(12))).toBe(TEST_ENQUEUED_AT);
      expect(frame.readUInt32LE(20)).toBe(5);
      expect(frame.readUInt32LE(24)).toBe(crc32(frame.subarray(HEADER_BYTES)));
      expect(frame.readUInt32LE(28)).toBe(crc32(frame.subarray(0, 28)));
      expect(frame.toString('utf8', HEADER_BYTES)).toBe('id-1hello');
      expect(JSON.parse(fs.readFileSync(join(store.streamDirectory, 'stream.json'), 'utf8'))).toEqual({
        streamArn: ARN,
        format: 1,
      });
    });

    it('computes the same CRC-32 as zlib in the fallback for Node.js versions without zlib.crc32', () => {
      // Prepare
      const samples = [
        Buffer.alloc(0),
        Buffer.from('123456789'),
        Buffer.from(Array.from({ length: 1000 }, (_, i) => i)),
      ];

      // Act
      const fallback = samples.map((sample) => [tableCrc32(sample), tableCrc32(sample, 0x12345678)]);

      // Assess
      expect(fallback).toEqual(samples.map((sample) => [crc32(sample), crc32(sample, 0x12345678)]));
    });
  });

  describe('recovering damaged files', () => {
    it.each([
      ['in the header', (offset: number) => offset + 10],
      ['right after the header', (offset: number) => offset + HEADER_BYTES],
      ['in the data', (offset: number) => offset + HEADER_BYTES + 2 + 250],
      ['one byte before its end', (offset: number) => offset + HEADER_BYTES + 2 + 499],
    ])(
      'keeps the records before a last record cut short %s, reports it and truncates the file',
      async (_, cut) => {
        // Prepare
        const folder = tempFolder();
        const store = open(folder);
        await appendAll(store, [sizedRecord(0, 100), sizedRecord(1, 200), sizedRecord(2, 500)]);
        await store.close();
        const file = firstSegment(store);
        const lastOffset = frameBytes(sizedRecord(0, 100)) + frameBytes(sizedRecord(1, 200));
        fs.truncateSync(file, cut(lastOffset));

        // Act
        const reopened = open(folder);

        // Assess
        expect(requestIds(leaseAll(reopened))).toEqual(['r0', 'r1']);
        expect(logs).toContainEqual(
          logged('warn', 'partly written record', {
            file,
            offset: lastOffset,
            droppedBytes: cut(lastOffset) - lastOffset,
          }),
        );
        expect(fs.statSync(file).size).toBe(lastOffset);
      },
    );

    it('treats a zero-filled tail, as a power cut can leave, as a record cut short', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(store, [queuedRecord(0), queuedRecord(1)]);
      await store.close();
      const file = firstSegment(store);
      const size = fs.statSync(file).size;
      fs.appendFileSync(file, Buffer.alloc(4096));

      // Act
      const reopened = open(folder);

      // Assess
      expect(requestIds(leaseAll(reopened))).toEqual(['r0', 'r1']);
      expect(logs).toContainEqual(
        logged('warn', 'partly written record', { file, offset: size, droppedBytes: 4096 }),
      );
      expect(fs.statSync(file).size).toBe(size);
    });

    it('skips only a record whose data has a flipped byte, and reports it', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      const written = [sizedRecord(0, 100), sizedRecord(1, 100), sizedRecord(2, 100)];
      await appendAll(store, written);
      await store.close();
      const file = firstSegment(store);
      const damagedOffset = frameBytes(written[0]);
      flipByte(file, damagedOffset + HEADER_BYTES + 2 + 50);

      // Act
      const reopened = open(folder);

      // Assess
      expect(leaseAll(reopened)).toEqual([written[0], written[2]]);
      expect(logs).toContainEqual(
        logged('error', 'failed its checksum', {
          file,
          offset: damagedOffset,
          droppedBytes: frameBytes(written[1]),
        }),
      );
    });

    it('skips the rest of a segment after a damaged header, and keeps the other segments', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder, { segmentBytes: 1024 });
      await appendAll(
        store,
        Array.from({ length: 6 }, (_, index) => sizedRecord(index, 300)),
      );
      await store.close();
      const file = firstSegment(store);
      const damagedOffset = frameBytes(sizedRecord(1, 300));
      flipByte(file, damagedOffset + 5);

      // Act
      const reopened = open(folder);

      // Assess
      expect(requestIds(leaseAll(reopened))).toEqual(['r0', 'r3', 'r4', 'r5']);
      expect(logs).toContainEqual(
        logged('error', 'unreadable', {
          file,
          offset: damagedOffset,
          droppedBytes: 2 * frameBytes(sizedRecord(1, 300)),
        }),
      );
    });

    it('reports garbage after the last record, keeps every record, and appends after it to a new file', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(store, [queuedRecord(0), queuedRecord(1)]);
      await store.close();
      const file = firstSegment(store);
      const size = fs.statSync(file).size;
      const garbage = Buffer.from('this is not a record, just some noise at the end of the file');
      fs.appendFileSync(file, garbage);
      const reopened = open(folder);
      await reopened.append(queuedRecord(2));
      await reopened.close();

      // Act
      const leased = leaseAll(open(folder));

      // Assess
      expect(requestIds(leased)).toEqual(['r0', 'r1', 'r2']);
      expect(logs).toContainEqual(
        logged('error', 'unreadable', { file, offset: size, droppedBytes: garbage.length }),
      );
    });

    it('sends again the records of an acknowledgement entry cut short, and reports it', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(
        store,
        [0, 1, 2, 3].map((index) => queuedRecord(index)),
      );
      const leased = leaseAll(store);
      await store.release(leased.slice(0, 2));
      await store.release(leased.slice(2, 3));
      await store.close();
      const ackFile = join(store.streamDirectory, '000000000001.ack');
      const ackBytes = fs.statSync(ackFile).size;
      fs.truncateSync(ackFile, ackBytes - 2);

      // Act
      const reopened = open(folder);

      // Assess
      expect(requestIds(leaseAll(reopened))).toEqual(['r2', 'r3']);
      expect(logs).toContainEqual(
        logged('warn', 'acknowledgement file', { file: ackFile, offset: ackBytes - 16, droppedBytes: 14 }),
      );
    });

    it('drops and reports the rest of a segment damaged after opening, keeping the counts true', async () => {
      // Prepare
      const store = open(tempFolder());
      const written = [sizedRecord(0, 100), sizedRecord(1, 100), sizedRecord(2, 100)];
      await appendAll(store, written);
      const file = firstSegment(store);
      flipByte(file, frameBytes(written[0]) + HEADER_BYTES + 2 + 10);

      // Act
      const leased = leaseAll(store);

      // Assess
      expect(requestIds(leased)).toEqual(['r0']);
      expect(storeCounts(store)).toEqual({ count: 1, bytes: 100, readyCount: 0, readyBytes: 0 });
      expect(logs).toContainEqual(
        logged('error', 'became unreadable', {
          file,
          offset: frameBytes(written[0]),
          reason: 'the record failed its checksum',
          records: 2,
          bytes: 200,
        }),
      );
    });
  });

  describe('syncing', () => {
    it("calls fdatasync once for the appends of one turn with 'always', before they resolve", async () => {
      // Prepare
      const fdatasync = jest.spyOn(fs, 'fdatasync');
      const store = open(tempFolder(), { sync: 'always' });

      // Act
      await appendAll(
        store,
        Array.from({ length: 20 }, (_, index) => queuedRecord(index)),
      );

      // Assess
      expect(fdatasync).toHaveBeenCalledTimes(1);
    });

    it("syncs written files within the interval with 'periodic'", async () => {
      // Prepare
      useFakeTime();
      const fdatasync = jest.spyOn(fs, 'fdatasync');
      const store = open(tempFolder(), { sync: 'periodic', syncIntervalMs: 20 });
      await store.append(queuedRecord(0));
      jest.advanceTimersByTime(19);
      await settle();
      const beforeInterval = fdatasync.mock.calls.length;

      // Act
      jest.advanceTimersByTime(1);
      await settle();

      // Assess
      expect(beforeInterval).toBe(0);
      expect(fdatasync).toHaveBeenCalled();
    });

    it("leaves syncing to the OS with 'never' until the store closes", async () => {
      // Prepare
      useFakeTime();
      const fdatasync = jest.spyOn(fs, 'fdatasync');
      const store = open(tempFolder(), { sync: 'never' });
      await store.append(queuedRecord(0));
      jest.advanceTimersByTime(3_600_000);
      await settle();
      const beforeClose = fdatasync.mock.calls.length;

      // Act
      await store.close();

      // Assess
      expect(beforeClose).toBe(0);
      expect(fdatasync).toHaveBeenCalled();
    });

    it('keeps records whose append resolved in a process then killed with SIGKILL', async () => {
      // Prepare
      const folder = tempFolder();
      const writer = await startDiskQueueWriter(folder, ARN, 500, 'never');

      // Act
      writer.child.kill('SIGKILL');
      const signal = await writer.exited;

      // Assess
      const leased = leaseAll(open(folder));
      expect(signal).toBe('SIGKILL');
      expect(leased.map((queued) => `${queued.requestId}=${queued.data.toString()}`)).toEqual(
        Array.from({ length: 500 }, (_, index) => `r${index}=record ${index}`),
      );
    });
  });

  describe('write failures', () => {
    it('leases records again at once when their requeue fails on a full disk, instead of stranding them until a restart', async () => {
      // Prepare
      const store = open(tempFolder());
      await appendAll(store, [sizedRecord(0, 100), sizedRecord(1, 100), sizedRecord(2, 100)]);
      const leased = store.lease(2, Number.MAX_SAFE_INTEGER);
      leased.forEach((queued) => (queued.attempts = 1));
      const diskFull = jest.spyOn(fs, 'writeSync').mockImplementation(() => {
        throw errnoError('ENOSPC', 'no space left on device, write');
      });

      // Act
      await store.requeue(leased);
      diskFull.mockRestore();
      const afterFailure = storeCounts(store);
      const leasedAgain = leaseAll(store);

      // Assess
      expect(afterFailure).toEqual({ count: 3, bytes: 300, readyCount: 3, readyBytes: 300 });
      expect(leasedAgain).toEqual([
        { ...sizedRecord(0, 100), attempts: 1 },
        { ...sizedRecord(1, 100), attempts: 1 },
        sizedRecord(2, 100),
      ]);
      expect(logs).toContainEqual(
        logged('error', 'Could not requeue records', {
          stream: ARN,
          records: 2,
          errorName: 'Error',
          errorMessage: expect.stringContaining('ENOSPC: no space left on device') as string,
        }),
      );
    });

    it('moves records put back by a failed requeue to the tail once a requeue succeeds, leaving one copy of each', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(store, [queuedRecord(0), queuedRecord(1), queuedRecord(2)]);
      const diskFull = jest.spyOn(fs, 'writeSync').mockImplementation(() => {
        throw errnoError('ENOSPC', 'no space left on device, write');
      });
      await store.requeue(store.lease(1, Number.MAX_SAFE_INTEGER));
      diskFull.mockRestore();
      const [putBack] = store.lease(1, Number.MAX_SAFE_INTEGER);
      putBack.attempts = 2;

      // Act
      await store.requeue([putBack]);
      await store.close();

      // Assess
      expect(leaseAll(open(folder))).toEqual([
        queuedRecord(1),
        queuedRecord(2),
        queuedRecord(0, { attempts: 2 }),
      ]);
    });

    it('keeps the records of a requeue that cannot start a new segment file, and leases them again', async () => {
      // Prepare: the first record fills the active segment, so the copy needs a new file.
      const store = open(tempFolder(), { segmentBytes: 1024 });
      await appendAll(store, [sizedRecord(0, 900)]);
      const leased = store.lease(1, Number.MAX_SAFE_INTEGER);
      const noHandles = jest.spyOn(fs, 'openSync').mockImplementation(() => {
        throw errnoError('EMFILE', 'too many open files, open');
      });

      // Act
      await store.requeue(leased);
      noHandles.mockRestore();

      // Assess
      expect(requestIds(leaseAll(store))).toEqual(['r0']);
      expect(logs).toContainEqual(
        logged('error', 'Could not requeue records', {
          stream: ARN,
          records: 1,
          errorName: 'Error',
          errorMessage: 'Cannot start a new segment file: EMFILE: too many open files, open',
        }),
      );
    });
  });

  describe('permissions', () => {
    function modeOf(path: string): string {
      return (fs.statSync(path).mode & 0o777).toString(8);
    }

    /** The modes of a stream folder and of each file in it, by name. */
    function modesIn(folder: string): Record<string, string> {
      const modes: Record<string, string> = { '(folder)': modeOf(folder) };
      for (const name of fs.readdirSync(folder)) modes[name] = modeOf(join(folder, name));
      return modes;
    }

    it('creates folders 0700 and files 0600, even when the process umask would let everyone read them', async () => {
      // Prepare
      const queueDirectory = join(tempFolder(), 'queue');
      const umask = process.umask(0);
      let store: DiskRecordStore;
      try {
        // Act
        store = open(queueDirectory);
        await store.append(queuedRecord(0));
        await store.release(leaseAll(store));
      } finally {
        process.umask(umask);
      }

      // Assess
      expect(modeOf(queueDirectory)).toBe('700');
      expect(modesIn(store.streamDirectory)).toEqual({
        '(folder)': '700',
        'stream.json': '600',
        '000000000001.seg': '600',
        '000000000001.ack': '600',
      });
    });

    it('restricts a stream folder that an older version left open to others, with its files, and reports it', async () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);
      await appendAll(store, [queuedRecord(0), queuedRecord(1)]);
      await store.close();
      fs.chmodSync(store.streamDirectory, 0o755);
      for (const name of fs.readdirSync(store.streamDirectory)) {
        fs.chmodSync(join(store.streamDirectory, name), 0o644);
      }

      // Act
      const reopened = open(folder);

      // Assess
      expect(modesIn(reopened.streamDirectory)).toEqual({
        '(folder)': '700',
        'stream.json': '600',
        '000000000001.seg': '600',
      });
      expect(logs).toContainEqual(
        logged('warn', 'Restricted a disk queue folder', {
          folder: reopened.streamDirectory,
          previousMode: '0755',
        }),
      );
      expect(requestIds(leaseAll(reopened))).toEqual(['r0', 'r1']);
    });
  });

  describe('opening', () => {
    it('rejects invalid options, naming every problem', () => {
      // Act
      const opening = () =>
        DiskRecordStore.open({
          directory: '',
          streamArn: ARN,
          sync: 'sometimes' as 'always',
          syncIntervalMs: 0,
          segmentBytes: 10,
        });

      // Assess
      expect(opening).toThrow(
        'Invalid disk queue options: directory must be a folder path, got ""; sync must be one of always, periodic, never, got "sometimes"; syncIntervalMs must be an integer from 1 to 3600000, got 0; segmentBytes must be an integer from 1024 to 1073741824, got 10',
      );
    });

    it('throws naming the folder when it cannot be created', () => {
      // Prepare
      const file = join(tempFolder(), 'a-file');
      fs.writeFileSync(file, '');

      // Act
      const opening = () => open(join(file, 'queue'));

      // Assess
      expect(opening).toThrow(`Cannot open the disk queue of ${ARN} in ${join(file, 'queue')}`);
    });

    it('holds no file handle or timer once closed, and opens again in the same process', async () => {
      // Prepare: a store with a segment, acknowledgements, a read position and a record leased.
      useFakeTime();
      const folder = tempFolder();
      const store = open(folder, { sync: 'periodic' });
      await appendAll(store, [queuedRecord(0), queuedRecord(1), queuedRecord(2)]);
      await store.release(store.lease(1, Number.MAX_SAFE_INTEGER));
      store.lease(1, Number.MAX_SAFE_INTEGER);
      const whileOpen = { handles: openHandles(folder).length, timers: jest.getTimerCount() };

      // Act
      await store.close();
      const afterClose = { handles: openHandles(folder), timers: jest.getTimerCount() };
      const reopened = open(folder);

      // Assess
      expect(whileOpen.handles).toBeGreaterThan(0);
      expect(whileOpen.timers).toBe(1);
      expect(afterClose).toEqual({ handles: [], timers: 0 });
      expect(requestIds(leaseAll(reopened))).toEqual(['r1', 'r2']);
    });

    it('names the stream, the folder and the reason when it cannot open a file, leaving nothing behind', async () => {
      // Prepare
      useFakeTime();
      const folder = tempFolder();
      const store = open(folder);
      await store.append(queuedRecord(0));
      await store.close();
      const noHandles = jest.spyOn(fs, 'openSync').mockImplementation(() => {
        throw errnoError('EMFILE', 'too many open files, open');
      });

      // Act
      const opening = () => open(folder);

      // Assess
      expect(opening).toThrow(
        `Cannot open the disk queue of ${ARN} in ${store.streamDirectory}: EMFILE: too many open files, open`,
      );
      expect(jest.getTimerCount()).toBe(0);
      noHandles.mockRestore();
      expect(requestIds(leaseAll(open(folder)))).toEqual(['r0']);
    });

    it('refuses to open a stream whose queue is already open in this process', () => {
      // Prepare
      const folder = tempFolder();
      const store = open(folder);

      // Act
      const opening = () => open(folder);

      // Assess
      expect(opening).toThrow(`The disk queue of ${ARN} in ${store.streamDirectory} is already open`);
    });
  });

  describe('storedStreamArns', () => {
    it('lists the streams with stored records, and not those left empty', async () => {
      // Prepare
      const folder = tempFolder();
      const withRecords = open(folder);
      await withRecords.append(queuedRecord(0));
      const second = open(folder, { streamArn: OTHER_ARN });
      await second.append(queuedRecord(0, { streamArn: OTHER_ARN }));
      const emptied = open(folder, { streamArn: `${ARN}-emptied` });
      await emptied.append(queuedRecord(0, { streamArn: `${ARN}-emptied` }));
      await emptied.release(leaseAll(emptied));
      open(folder, { streamArn: `${ARN}-unused` });
      await Promise.all(stores.map((store) => store.close()));

      // Act
      const arns = storedStreamArns(folder);

      // Assess
      expect(arns).toEqual([ARN, OTHER_ARN].sort());
    });

    it('lists nothing when the folder does not exist', () => {
      // Act
      const arns = storedStreamArns(join(tempFolder(), 'missing'));

      // Assess
      expect(arns).toEqual([]);
    });
  });

  describe('the head of the queue', () => {
    it('reads when the record leased next entered the queue from the file, after a reopen', async () => {
      // Prepare
      const folder = tempFolder();
      const first = open(folder);
      await appendAll(
        first,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      await first.close();
      const store = open(folder);
      store.lease(1, Number.MAX_SAFE_INTEGER);

      // Act
      const next = store.nextEnqueuedAt();

      // Assess
      expect(next).toBe(TEST_ENQUEUED_AT + 1);
    });

    it('tells the enqueue time of a record appended in this turn, not yet written', () => {
      // Prepare
      const store = open(tempFolder());
      void store.append(queuedRecord(5));

      // Act
      const next = store.nextEnqueuedAt();

      // Assess
      expect(next).toBe(TEST_ENQUEUED_AT + 5);
    });
  });
});
