import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  BlockReader,
  bodyMatches,
  decodeHeader,
  encodeAck,
  encodeRecord,
  MAX_DATA_BYTES,
  MAX_REQUEST_ID_BYTES,
  parseAcks,
  RECORD_HEADER_BYTES,
  RecordHeader,
  scanSegment,
  SegmentProblem,
} from './disk-segment';
import { createLogger, describeError, Logger } from './logger';
import { PARAMETERS, QueueDiskSync } from './parameters';
import type { QueuedRecord, RecordStore } from './record-store';

/**
 * When the disk queue forces its writes to the device. Every write reaches the operating system before the call
 * that made it resolves, which alone survives a kill (SIGKILL) or a crash of the process with nothing lost; the
 * policy decides what a power cut or a kernel crash may take:
 * - `always`: `fdatasync` before `append` and `release` resolve (calls of one event-loop turn share one); nothing
 *   whose append resolved is lost, and nothing whose release resolved is sent again.
 * - `periodic`: `fdatasync` of the files written to, every `syncIntervalMs`; records appended in the last interval
 *   may be lost, and records released in it sent again.
 * - `never`: the operating system writes when it likes (about 30 s on Linux); that much may be lost or sent again,
 *   including records requeued in that time.
 *
 * Except with `never`, a requeue syncs the copies at the tail before it acknowledges the old copies, so a power
 * cut can duplicate a retried record but never lose it.
 */
export type DiskSyncPolicy = QueueDiskSync;

export interface DiskRecordStoreOptions {
  /** Root folder of the disk queue; each delivery stream gets a folder of its own inside it. */
  readonly directory: string;
  /** ARN of the delivery stream whose records the store holds. */
  readonly streamArn: string;
  /** When writes are forced to the device. @default 'periodic' */
  readonly sync?: DiskSyncPolicy;
  /** Time between two syncs of the `periodic` policy. @default 1000 */
  readonly syncIntervalMs?: number;
  /** Size from which appends go to a new segment file; delivered segments are deleted whole. @default 16 MiB */
  readonly segmentBytes?: number;
  /** Receives reports of damaged files and of write failures. @default a logger of warnings and errors to stdout */
  readonly logger?: Logger;
}

const DEFAULTS = {
  sync: 'periodic',
  syncIntervalMs: 1000,
  segmentBytes: 16 * 1024 * 1024,
} as const satisfies Partial<DiskRecordStoreOptions>;

const SYNC_POLICIES: readonly DiskSyncPolicy[] = PARAMETERS.QueueDiskSync.choices;
const MIN_SEGMENT_BYTES = 1024;
/** Acknowledgements hold offsets as 32-bit numbers. */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const MAX_SYNC_INTERVAL_MS = 3_600_000;
const METADATA_FILE = 'stream.json';
const SEGMENT_FILE = /^(\d+)\.seg$/;
const ACK_FILE = /^(\d+)\.ack$/;

/** One segment file and what the store knows of it; no per-record state beyond what recovery found acknowledged. */
interface Segment {
  readonly id: number;
  readonly path: string;
  readonly ackPath: string;
  /** Bytes of whole records; the next record goes there. */
  size: number;
  /** Records not acknowledged: ready, leased, or left for the next start after a failed requeue. */
  live: number;
  ready: number;
  readyBytes: number;
  /** Where reading starts: the first record not acknowledged when the store opened. */
  readonly startOffset: number;
  /** Offsets acknowledged before the store opened, after `startOffset`, ascending; walked once by the cursor. */
  readonly acked: Uint32Array;
  ackedIndex: number;
  /** Damaged ranges found when the store opened, ascending. */
  readonly skips: readonly { readonly start: number; readonly end: number }[];
  skipIndex: number;
  writer?: SyncedFile;
  /** Settles once the writer is synced (unless the policy is `never`) and closed. */
  writerClosed?: Promise<void>;
  /** Appends go to a new segment: a write failed and could not be undone, or the segment was found damaged. */
  sealed: boolean;
  ackFile?: SyncedFile;
  /** Requeues waiting for their copies to be durable before they acknowledge records of this segment. */
  pendingAcks: number;
  deleted: boolean;
}

interface PendingAppends extends Deferred {
  readonly segment: Segment;
  readonly start: number;
  readonly frames: Buffer[];
  bytes: number;
  dataBytes: number;
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

interface Lease {
  readonly record: QueuedRecord;
  readonly segment: Segment;
  readonly offset: number;
  readonly dataBytes: number;
}

/**
 * A delivery stream's queue in append-only files, so that records survive a kill, a crash and (depending on
 * `sync`) a power cut; see `disk-segment.ts` for the format. Memory holds a few numbers per segment file and the
 * records currently leased, never the backlog: leased records are read back from disk.
 *
 * Delivery is at least once: a record whose release had not reached the disk before a crash is sent again.
 * Files from a previous run are only read, acknowledged and deleted: appends go to a new segment, so nothing is
 * ever written after bytes that a crash may have damaged.
 */
export class DiskRecordStore implements RecordStore {
  /** Stream folders open in this process: two stores appending to one folder would interleave their writes. */
  private static readonly opened = new Set<string>();
  readonly durable = true;
  /** The stream's folder inside `directory`. */
  readonly streamDirectory: string;
  private readonly streamArn: string;
  private readonly policy: DiskSyncPolicy;
  private readonly segmentBytes: number;
  private readonly logger: Logger;
  private readonly segments: Segment[] = [];
  private readonly leases = new Map<QueuedRecord, Lease>();
  private readonly files = new Set<SyncedFile>();
  private readonly background = new Set<Promise<void>>();
  private readonly reader = new BlockReader();
  private active?: Segment;
  /** Appends of the current synchronous run, written together at its end. */
  private appends?: PendingAppends;
  private nextId = 1;
  private cursor?: Segment;
  private cursorOffset = 0;
  private readerFd?: number;
  private timer?: NodeJS.Timeout;
  private closing?: Promise<void>;
  private _count = 0;
  private _bytes = 0;
  private _readyCount = 0;
  private _readyBytes = 0;

  private constructor(options: Required<DiskRecordStoreOptions>) {
    this.streamArn = options.streamArn;
    this.streamDirectory = streamDirectory(options.directory, options.streamArn);
    this.policy = options.sync;
    this.segmentBytes = options.segmentBytes;
    this.logger = options.logger;
    if (this.policy === 'periodic') {
      this.timer = setInterval(() => this.syncDirtyFiles(), options.syncIntervalMs).unref();
    }
  }

  /**
   * Opens the stream's queue under `options.directory`, creating it if needed, and recovers what a previous run
   * left: damaged records are reported through the logger and skipped. Throws only when the folder cannot be used.
   */
  static open(options: DiskRecordStoreOptions): DiskRecordStore {
    const resolved = resolveOptions(options);
    const folder = streamDirectory(resolved.directory, resolved.streamArn);
    if (DiskRecordStore.opened.has(folder)) {
      throw new Error(`The disk queue of ${resolved.streamArn} in ${folder} is already open`);
    }
    const store = new DiskRecordStore(resolved);
    try {
      fs.mkdirSync(store.streamDirectory, { recursive: true });
      store.writeMetadata();
      store.recover();
    } catch (error) {
      clearInterval(store.timer);
      store.closeReader();
      throw new Error(
        `Cannot open the disk queue of ${options.streamArn} in ${store.streamDirectory}: ${describeError(error).errorMessage}`,
        { cause: error },
      );
    }
    DiskRecordStore.opened.add(folder);
    return store;
  }

  get count(): number {
    return this._count;
  }

  get bytes(): number {
    return this._bytes;
  }

  get readyCount(): number {
    return this._readyCount;
  }

  get readyBytes(): number {
    return this._readyBytes;
  }

  /**
   * Writes the record to the end of the queue; resolves once the OS has it, and with `always`, the device. Appends
   * made in one synchronous run share one write, made before any of them resolves.
   */
  append(record: QueuedRecord): Promise<void> {
    const refusal = this.refusal(record);
    if (refusal) return Promise.reject(new Error(refusal));
    const frame = encodeRecord(record);
    let segment: Segment;
    try {
      segment = this.segmentFor(frame.length);
    } catch (error) {
      return Promise.reject(this.ioError('Cannot start a new segment file', error));
    }
    if (!this.appends) {
      this.appends = { segment, start: segment.size, frames: [], bytes: 0, dataBytes: 0, ...deferred() };
      queueMicrotask(() => this.writeAppends());
    }
    const appends = this.appends;
    appends.frames.push(frame);
    appends.bytes += frame.length;
    appends.dataBytes += record.data.length;
    segment.size += frame.length;
    this.countReady(segment, 1, record.data.length);
    this._count++;
    this._bytes += record.data.length;
    return appends.promise;
  }

  lease(maxRecords: number, maxBytes: number): QueuedRecord[] {
    this.writeAppends();
    const taken: QueuedRecord[] = [];
    let bytes = 0;
    while (taken.length < maxRecords && this._readyCount > 0 && !this.closing) {
      const segment = this.positionCursor();
      if (!segment) break;
      const header = this.peek(segment);
      if (!header) continue;
      if (taken.length > 0 && bytes + header.dataBytes > maxBytes) break;
      const record = this.take(segment, header);
      if (!record) continue;
      taken.push(record);
      bytes += header.dataBytes;
    }
    return taken;
  }

  /** Acknowledges the records in one write per segment; segments left with no record are deleted. */
  release(records: readonly QueuedRecord[]): Promise<void> {
    if (this.closing) return Promise.resolve();
    const bySegment = groupBySegment(this.takeLeases(records));
    const done: Promise<void>[] = [];
    for (const [segment, leases] of bySegment) {
      for (const lease of leases) {
        this._count--;
        this._bytes -= lease.dataBytes;
      }
      segment.live -= leases.length;
      done.push(this.acknowledge(segment, leases));
    }
    return this.track(Promise.all(done).then(() => undefined));
  }

  /**
   * Appends a copy of each record (with its `attempts` as updated by the caller) at the tail, then acknowledges
   * the old copies once the new ones are as durable as the policy makes appends: a crash in between can only
   * duplicate a record, never lose it.
   */
  requeue(records: readonly QueuedRecord[]): Promise<void> {
    if (this.closing) return Promise.resolve();
    const leases = this.takeLeases(records);
    const written = this.writeFrames(leases.map((lease) => encodeRecord(lease.record)));
    const copied = leases.slice(0, written.count);
    const stranded = leases.slice(written.count);
    for (const lease of stranded) {
      this._count--;
      this._bytes -= lease.dataBytes;
    }
    if (written.error) {
      this.logger.error(
        'Could not requeue records in the disk queue; they stay stored and return at the next start',
        {
          stream: this.streamArn,
          records: stranded.length,
          ...describeError(written.error),
        },
      );
    }
    const bySegment = groupBySegment(copied);
    for (const segment of bySegment.keys()) segment.pendingAcks++;
    const copiesDurable = this.policy === 'never' ? Promise.resolve() : this.syncSegments(written.segments);
    const done = copiesDurable.then(
      async () => {
        const acknowledged = [...bySegment].map(([segment, segmentLeases]) => {
          segment.pendingAcks--;
          segment.live -= segmentLeases.length;
          return this.acknowledge(segment, segmentLeases);
        });
        await Promise.all(acknowledged);
      },
      (error: unknown) => {
        for (const segment of bySegment.keys()) segment.pendingAcks--;
        this.logger.error('Could not sync requeued records; the old copies are kept and may be sent twice', {
          stream: this.streamArn,
          records: copied.length,
          ...describeError(error),
        });
      },
    );
    return this.track(done);
  }

  /**
   * Waits for pending writes, syncs and closes every file and stops the timer. Records not released stay on disk
   * for the next start; a stream left with no record has its folder removed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown().finally(() => DiskRecordStore.opened.delete(this.streamDirectory));
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.writeAppends();
    clearInterval(this.timer);
    await this.settleBackground();
    this.closeReader();
    const active = this.active;
    this.active = undefined;
    if (active) {
      this.retireWriter(active, true);
      await this.deleteIfEmpty(active);
    }
    await this.settleBackground();
    const closed = await Promise.allSettled([
      ...this.segments.map((segment) => segment.writerClosed),
      ...this.segments.map((segment) => segment.ackFile?.close(true)),
    ]);
    for (const result of closed) {
      if (result.status === 'rejected') {
        this.logger.error('Could not sync a disk queue file on close', {
          stream: this.streamArn,
          ...describeError(result.reason),
        });
      }
    }
    if (this.segments.length === 0) this.removeStreamDirectory();
  }

  /** Why `record` cannot be appended, if it cannot. */
  private refusal(record: QueuedRecord): string | undefined {
    if (this.closing) return `The disk queue of ${this.streamArn} is closed`;
    if (record.streamArn !== this.streamArn) {
      return `A record of ${record.streamArn} cannot go to the disk queue of ${this.streamArn}`;
    }
    if (record.data.length > MAX_DATA_BYTES) {
      return `A record of ${record.data.length} bytes exceeds the disk queue's limit of ${MAX_DATA_BYTES} bytes`;
    }
    const requestIdBytes = Buffer.byteLength(record.requestId, 'utf8');
    if (requestIdBytes > MAX_REQUEST_ID_BYTES) {
      return `A request id of ${requestIdBytes} bytes exceeds the disk queue's limit of ${MAX_REQUEST_ID_BYTES} bytes`;
    }
    return undefined;
  }

  /** Writes the appends waiting for the end of the synchronous run, or takes them back if the write fails. */
  private writeAppends(): void {
    const appends = this.appends;
    if (!appends) return;
    this.appends = undefined;
    const { segment, frames, bytes, dataBytes } = appends;
    try {
      segment.writer!.write(frames.length === 1 ? frames[0] : Buffer.concat(frames, bytes), appends.start);
    } catch (error) {
      this.undoWrite(segment, appends.start);
      this.countReady(segment, -frames.length, -dataBytes);
      this._count -= frames.length;
      this._bytes -= dataBytes;
      appends.reject(this.ioError(`Cannot write to ${segment.path}`, error));
      return;
    }
    if (this.policy === 'always') segment.writer!.sync().then(appends.resolve, appends.reject);
    else appends.resolve();
  }

  /**
   * Writes frames at once, in order, one write per segment they land in, starting a new segment when the active
   * one is full. Stops at the first failure: `count` frames were written and are ready.
   */
  private writeFrames(frames: readonly Buffer[]): { count: number; segments: Set<Segment>; error?: Error } {
    this.writeAppends();
    const segments = new Set<Segment>();
    let count = 0;
    while (count < frames.length) {
      let segment: Segment;
      try {
        segment = this.segmentFor(frames[count].length);
      } catch (error) {
        return { count, segments, error: this.ioError('Cannot start a new segment file', error) };
      }
      const start = segment.size;
      let bytes = 0;
      let dataBytes = 0;
      let end = count;
      do {
        bytes += frames[end].length;
        dataBytes += frames[end].readUInt32LE(4);
        end++;
      } while (end < frames.length && start + bytes + frames[end].length <= this.segmentBytes);
      const batch = frames.slice(count, end);
      try {
        segment.writer!.write(batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes), start);
      } catch (error) {
        this.undoWrite(segment, start);
        return { count, segments, error: this.ioError(`Cannot write to ${segment.path}`, error) };
      }
      segment.size += bytes;
      this.countReady(segment, batch.length, dataBytes);
      segments.add(segment);
      count = end;
    }
    return { count, segments };
  }

  private countReady(segment: Segment, records: number, dataBytes: number): void {
    segment.live += records;
    segment.ready += records;
    segment.readyBytes += dataBytes;
    this._readyCount += records;
    this._readyBytes += dataBytes;
  }

  /** The segment the next frame goes to, starting a new one when the active one is full or sealed. */
  private segmentFor(frameBytes: number): Segment {
    const active = this.active;
    if (active && !active.sealed && (active.size === 0 || active.size + frameBytes <= this.segmentBytes)) {
      return active;
    }
    if (active) {
      this.writeAppends();
      this.retireWriter(active, this.policy !== 'never');
    }
    const id = this.nextId++;
    const path = segmentPath(this.streamDirectory, id);
    const writer = new SyncedFile(path, fs.openSync(path, 'wx'));
    this.files.add(writer);
    // A file's data synced without its directory entry can vanish in a power cut.
    if (this.policy !== 'never') syncDirectory(this.streamDirectory);
    const segment = newSegment(id, path, {
      size: 0,
      live: 0,
      readyBytes: 0,
      startOffset: 0,
      acked: [],
      skips: [],
    });
    segment.writer = writer;
    this.segments.push(segment);
    this.active = segment;
    return segment;
  }

  /** Removes what a failed write may have left past the last whole record, or else seals the segment. */
  private undoWrite(segment: Segment, size: number): void {
    segment.size = size;
    try {
      fs.ftruncateSync(segment.writer!.fd, size);
    } catch {
      segment.sealed = true;
    }
  }

  private retireWriter(segment: Segment, sync: boolean): void {
    const writer = segment.writer;
    if (!writer) return;
    segment.writer = undefined;
    this.files.delete(writer);
    segment.writerClosed = writer.close(sync);
    this.track(
      segment.writerClosed.catch((error: unknown) =>
        this.logger.error('Could not sync or close a disk queue segment', {
          file: segment.path,
          ...describeError(error),
        }),
      ),
    );
  }

  /** Resolves once everything written to `segments` so far is on the device. */
  private syncSegments(segments: Iterable<Segment>): Promise<void> {
    const syncs = [...segments].map((segment) => segment.writer?.sync() ?? segment.writerClosed);
    return Promise.all(syncs).then(() => undefined);
  }

  /**
   * The segment the cursor reads: the first one with ready records, since records before the cursor are all
   * leased or acknowledged and appends only go to the last segment.
   */
  private positionCursor(): Segment | undefined {
    if (this.cursor && this.cursor.ready > 0) return this.cursor;
    const next = this.segments.find((segment) => segment.ready > 0);
    if (!next) {
      this.logger.error('Disk queue counts disagree with its files; resetting them', {
        stream: this.streamArn,
        readyCount: this._readyCount,
      });
      this._count -= this._readyCount;
      this._bytes -= this._readyBytes;
      this._readyCount = 0;
      this._readyBytes = 0;
      return undefined;
    }
    if (next !== this.cursor) {
      this.closeReader();
      this.cursor = next;
      this.cursorOffset = next.startOffset;
    }
    return next;
  }

  /**
   * The header of the next record to lease in `segment`, skipping records acknowledged or found damaged before
   * the store opened; undefined when the segment turned out unreadable and its ready records were dropped.
   */
  private peek(segment: Segment): RecordHeader | undefined {
    for (;;) {
      const offset = this.cursorOffset;
      while (segment.skipIndex < segment.skips.length && segment.skips[segment.skipIndex].end <= offset) {
        segment.skipIndex++;
      }
      const skip = segment.skips[segment.skipIndex];
      if (skip && skip.start <= offset) {
        this.cursorOffset = skip.end;
        continue;
      }
      let header: RecordHeader | undefined;
      try {
        const head = this.read(segment, offset, RECORD_HEADER_BYTES);
        header = head.length === RECORD_HEADER_BYTES ? decodeHeader(head) : undefined;
      } catch (error) {
        this.dropReady(segment, offset, describeError(error).errorMessage);
        return undefined;
      }
      if (!header || offset + header.frameBytes > segment.size) {
        this.dropReady(segment, offset, 'the record header is not valid');
        return undefined;
      }
      while (segment.ackedIndex < segment.acked.length && segment.acked[segment.ackedIndex] < offset) {
        segment.ackedIndex++;
      }
      if (segment.acked[segment.ackedIndex] === offset) {
        this.cursorOffset += header.frameBytes;
        continue;
      }
      return header;
    }
  }

  /** Reads the record at the cursor and leases it; undefined when its body turned out damaged. */
  private take(segment: Segment, header: RecordHeader): QueuedRecord | undefined {
    const offset = this.cursorOffset;
    let body: Buffer;
    try {
      body = this.read(segment, offset + RECORD_HEADER_BYTES, header.frameBytes - RECORD_HEADER_BYTES);
    } catch (error) {
      this.dropReady(segment, offset, describeError(error).errorMessage);
      return undefined;
    }
    if (!bodyMatches(header, body)) {
      this.dropReady(segment, offset, 'the record failed its checksum');
      return undefined;
    }
    const record: QueuedRecord = {
      requestId: body.toString('utf8', 0, header.requestIdBytes),
      streamArn: this.streamArn,
      data: copyOf(body, header.requestIdBytes),
      enqueuedAt: header.enqueuedAt,
      attempts: header.attempts,
    };
    this.cursorOffset += header.frameBytes;
    segment.ready--;
    segment.readyBytes -= header.dataBytes;
    this._readyCount--;
    this._readyBytes -= header.dataBytes;
    this.leases.set(record, { record, segment, offset, dataBytes: header.dataBytes });
    return record;
  }

  private read(segment: Segment, offset: number, length: number): Buffer {
    if (this.readerFd === undefined) {
      this.readerFd = fs.openSync(segment.path, 'r');
      this.reader.attach(this.readerFd);
    }
    return this.reader.read(offset, length, segment.size);
  }

  private closeReader(): void {
    if (this.readerFd === undefined) return;
    fs.closeSync(this.readerFd);
    this.readerFd = undefined;
  }

  /**
   * Gives up the ready records of a segment that became unreadable after the store opened (the file was changed
   * or the device failed), keeping the counts true; appends go to a new segment.
   */
  private dropReady(segment: Segment, offset: number, reason: string): void {
    this.logger.error('Disk queue segment became unreadable; its remaining records are lost', {
      file: segment.path,
      offset,
      reason,
      records: segment.ready,
      bytes: segment.readyBytes,
    });
    this._count -= segment.ready;
    this._bytes -= segment.readyBytes;
    this._readyCount -= segment.ready;
    this._readyBytes -= segment.readyBytes;
    segment.live -= segment.ready;
    segment.ready = 0;
    segment.readyBytes = 0;
    segment.sealed = true;
    this.track(this.deleteIfEmpty(segment));
  }

  /** The leases of `records`, in their order, forgotten; records this store did not lease are ignored. */
  private takeLeases(records: readonly QueuedRecord[]): Lease[] {
    const taken: Lease[] = [];
    for (const record of records) {
      const lease = this.leases.get(record);
      if (!lease) continue;
      this.leases.delete(record);
      taken.push(lease);
    }
    return taken;
  }

  /** Writes one acknowledgement entry; with `always`, resolves once it is on the device. */
  private async acknowledge(segment: Segment, leases: readonly Lease[]): Promise<void> {
    try {
      if (!segment.ackFile) {
        segment.ackFile = new SyncedFile(segment.ackPath, fs.openSync(segment.ackPath, 'a'));
        this.files.add(segment.ackFile);
      }
      segment.ackFile.write(encodeAck(leases.map((lease) => lease.offset)), null);
      if (this.policy === 'always') await segment.ackFile.sync();
    } catch (error) {
      this.logger.error(
        'Could not acknowledge records in the disk queue; they may be sent again after a restart',
        {
          file: segment.ackPath,
          records: leases.length,
          ...describeError(error),
        },
      );
    }
    await this.deleteIfEmpty(segment);
  }

  /** Deletes a segment, then its acknowledgements, once no record in it is waiting and nothing appends to it. */
  private async deleteIfEmpty(segment: Segment): Promise<void> {
    if (segment.deleted || segment === this.active || segment.live > 0 || segment.pendingAcks > 0) return;
    segment.deleted = true;
    this.segments.splice(this.segments.indexOf(segment), 1);
    if (this.cursor === segment) {
      this.closeReader();
      this.cursor = undefined;
    }
    const ackFile = segment.ackFile;
    if (ackFile) this.files.delete(ackFile);
    await Promise.allSettled([segment.writerClosed, ackFile?.close(false)]);
    try {
      // The segment goes first: acknowledgements left without their segment are only clutter, removed on open.
      removeFile(segment.path);
      removeFile(segment.ackPath);
    } catch (error) {
      this.logger.error('Could not delete a delivered disk queue segment', {
        file: segment.path,
        ...describeError(error),
      });
    }
  }

  private syncDirtyFiles(): void {
    for (const file of this.files) {
      if (!file.dirty) continue;
      file
        .sync()
        .catch((error: unknown) =>
          this.logger.error('Could not sync a disk queue file', { file: file.path, ...describeError(error) }),
        );
    }
  }

  private async settleBackground(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.background.add(work);
    void work.finally(() => this.background.delete(work)).catch(() => undefined);
    return work;
  }

  private ioError(what: string, error: unknown): Error {
    return new Error(`${what}: ${describeError(error).errorMessage}`, { cause: error });
  }

  private writeMetadata(): void {
    const path = join(this.streamDirectory, METADATA_FILE);
    const stored = readMetadata(path);
    if (stored === this.streamArn) return;
    if (stored !== undefined) {
      throw new Error(`the folder holds the disk queue of ${stored}`);
    }
    const temporary = `${path}.tmp`;
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ streamArn: this.streamArn, format: 1 }) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, path);
    syncDirectory(this.streamDirectory);
  }

  /** Rebuilds the queue from the segment files, oldest first. */
  private recover(): void {
    const names = fs.readdirSync(this.streamDirectory);
    const ids = names
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const segmentIds = new Set(ids);
    for (const name of names) {
      const ackId = ACK_FILE.exec(name)?.[1];
      if (ackId !== undefined && !segmentIds.has(Number(ackId))) removeFile(join(this.streamDirectory, name));
    }
    for (const id of ids) this.recoverSegment(id);
    this.nextId = (ids.at(-1) ?? 0) + 1;
    if (this._count > 0) {
      this.logger.info('Resuming records stored in the disk queue', {
        stream: this.streamArn,
        records: this._count,
        bytes: this._bytes,
        segments: this.segments.length,
      });
    }
  }

  private recoverSegment(id: number): void {
    const path = segmentPath(this.streamDirectory, id);
    const ackPath = `${path.slice(0, -'.seg'.length)}.ack`;
    const acked = this.recoverAcks(ackPath);
    const fd = fs.openSync(path, 'r+');
    let live = 0;
    let liveBytes = 0;
    let startOffset: number | undefined;
    const ackedAfterStart: number[] = [];
    let scan: ReturnType<typeof scanSegment>;
    try {
      this.reader.attach(fd);
      scan = scanSegment(this.reader, fs.fstatSync(fd).size, (offset, header) => {
        if (acked.has(offset)) {
          if (startOffset !== undefined) ackedAfterStart.push(offset);
          return;
        }
        startOffset ??= offset;
        live++;
        liveBytes += header.dataBytes;
      });
      for (const problem of scan.problems) this.reportProblem(path, problem);
      if (scan.problems.some((problem) => problem.kind === 'cutShort')) fs.ftruncateSync(fd, scan.end);
    } finally {
      fs.closeSync(fd);
    }
    if (startOffset === undefined) {
      removeFile(path);
      removeFile(ackPath);
      return;
    }
    const start = startOffset;
    const skips = scan.problems
      .filter((problem) => problem.kind !== 'cutShort' && problem.offset > start)
      .map((problem) => ({ start: problem.offset, end: problem.offset + problem.bytes }));
    // Appends go to a new segment, so that nothing is ever written after bytes that could not be read.
    const segment = newSegment(id, path, {
      size: scan.end,
      live,
      readyBytes: liveBytes,
      startOffset: start,
      acked: ackedAfterStart,
      skips,
    });
    segment.sealed = true;
    segment.writerClosed = Promise.resolve();
    this.segments.push(segment);
    this._count += live;
    this._bytes += liveBytes;
    this._readyCount += live;
    this._readyBytes += liveBytes;
  }

  /** The offsets acknowledged in `ackPath`; an entry cut short or damaged is reported and cut off. */
  private recoverAcks(ackPath: string): ReadonlySet<number> {
    let content: Buffer;
    try {
      content = fs.readFileSync(ackPath);
    } catch (error) {
      if (isNotFound(error)) return new Set();
      throw error;
    }
    const acks = parseAcks(content);
    if (acks.end < content.length) {
      this.logger.warn(
        'Disk queue acknowledgement file ends in a damaged or partly written entry; its records may be sent again',
        { file: ackPath, offset: acks.end, droppedBytes: content.length - acks.end },
      );
      fs.truncateSync(ackPath, acks.end);
    }
    return acks.offsets;
  }

  private reportProblem(file: string, problem: SegmentProblem): void {
    const { offset, bytes } = problem;
    switch (problem.kind) {
      case 'cutShort':
        this.logger.warn(
          'Disk queue file ends in a partly written record; truncated it after the last whole one',
          {
            file,
            offset,
            droppedBytes: bytes,
          },
        );
        return;
      case 'badRecord':
        this.logger.error('Disk queue record failed its checksum and was skipped', {
          file,
          offset,
          droppedBytes: bytes,
        });
        return;
      case 'unreadable':
        this.logger.error('Disk queue file is unreadable from this offset on; the rest of it was skipped', {
          file,
          offset,
          droppedBytes: bytes,
        });
        return;
    }
  }

  private removeStreamDirectory(): void {
    try {
      removeFile(join(this.streamDirectory, METADATA_FILE));
      fs.rmdirSync(this.streamDirectory);
    } catch (error) {
      this.logger.warn('Could not remove the empty disk queue folder', {
        directory: this.streamDirectory,
        ...describeError(error),
      });
    }
  }
}

/** The folder of a stream's queue: a hash of its ARN, which holds characters that are not valid in file names. */
export function streamDirectory(directory: string, streamArn: string): string {
  return join(directory, createHash('sha256').update(streamArn).digest('hex').slice(0, 32));
}

/**
 * ARNs of the streams that have records stored under `directory`, so that the connector can resume them at
 * start-up. A folder with segments but no readable `stream.json` cannot be resumed and is reported to `logger`.
 */
export function storedStreamArns(directory: string, logger: Logger = defaultLogger()): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(directory, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw new Error(`Cannot read the disk queue folder ${directory}: ${describeError(error).errorMessage}`, {
      cause: error,
    });
  }
  const arns: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const folder = join(directory, entry.name);
    try {
      const hasRecords = fs
        .readdirSync(folder)
        .some((name) => SEGMENT_FILE.test(name) && fs.statSync(join(folder, name)).size > 0);
      if (!hasRecords) continue;
      const arn = readMetadata(join(folder, METADATA_FILE));
      if (arn) arns.push(arn);
      else
        logger.error('Disk queue folder has records but no readable stream.json; they cannot be resumed', {
          folder,
        });
    } catch (error) {
      throw new Error(`Cannot read the disk queue folder ${folder}: ${describeError(error).errorMessage}`, {
        cause: error,
      });
    }
  }
  return arns.sort();
}

function resolveOptions(options: DiskRecordStoreOptions): Required<DiskRecordStoreOptions> {
  const resolved: Required<DiskRecordStoreOptions> = {
    directory: options.directory,
    streamArn: options.streamArn,
    sync: options.sync ?? DEFAULTS.sync,
    syncIntervalMs: options.syncIntervalMs ?? DEFAULTS.syncIntervalMs,
    segmentBytes: options.segmentBytes ?? DEFAULTS.segmentBytes,
    logger: options.logger ?? defaultLogger(),
  };
  const problems: string[] = [];
  if (typeof resolved.directory !== 'string' || resolved.directory === '') {
    problems.push(`directory must be a folder path, got ${JSON.stringify(resolved.directory)}`);
  }
  if (typeof resolved.streamArn !== 'string' || resolved.streamArn === '') {
    problems.push(`streamArn must be a delivery stream ARN, got ${JSON.stringify(resolved.streamArn)}`);
  }
  if (!SYNC_POLICIES.includes(resolved.sync)) {
    problems.push(`sync must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(resolved.sync)}`);
  }
  if (!isIntegerIn(resolved.syncIntervalMs, 1, MAX_SYNC_INTERVAL_MS)) {
    problems.push(
      `syncIntervalMs must be an integer from 1 to ${MAX_SYNC_INTERVAL_MS}, got ${resolved.syncIntervalMs}`,
    );
  }
  if (!isIntegerIn(resolved.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES)) {
    problems.push(
      `segmentBytes must be an integer from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}, got ${resolved.segmentBytes}`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid disk queue options: ${problems.join('; ')}`);
  return resolved;
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function defaultLogger(): Logger {
  return createLogger('warn');
}

function newSegment(
  id: number,
  path: string,
  state: {
    size: number;
    live: number;
    readyBytes: number;
    startOffset: number;
    acked: readonly number[];
    skips: Segment['skips'];
  },
): Segment {
  return {
    id,
    path,
    ackPath: `${path.slice(0, -'.seg'.length)}.ack`,
    size: state.size,
    live: state.live,
    ready: state.live,
    readyBytes: state.readyBytes,
    startOffset: state.startOffset,
    acked: Uint32Array.from(state.acked),
    ackedIndex: 0,
    skips: state.skips,
    skipIndex: 0,
    sealed: false,
    pendingAcks: 0,
    deleted: false,
  };
}

/** A copy of `buffer` from `start` on, so that the record outlives the read buffer. */
function copyOf(buffer: Buffer, start: number): Buffer {
  const copy = Buffer.allocUnsafe(buffer.length - start);
  buffer.copy(copy, 0, start);
  return copy;
}

function segmentPath(folder: string, id: number): string {
  return join(folder, `${String(id).padStart(12, '0')}.seg`);
}

function groupBySegment<T extends Lease>(leases: readonly T[]): Map<Segment, T[]> {
  const bySegment = new Map<Segment, T[]>();
  for (const lease of leases) {
    const group = bySegment.get(lease.segment);
    if (group) group.push(lease);
    else bySegment.set(lease.segment, [lease]);
  }
  return bySegment;
}

/** The ARN in a `stream.json`, or undefined when it is missing or not valid. */
function readMetadata(path: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const arn = (parsed as { streamArn?: unknown } | null)?.streamArn;
    return typeof arn === 'string' && arn !== '' ? arn : undefined;
  } catch {
    return undefined;
  }
}

function removeFile(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Makes the folder's entries (new or renamed files) durable; folders cannot be synced on Windows. */
function syncDirectory(path: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * A file written with synchronous writes and synced with `fdatasync` in rounds: every `sync()` made before a round
 * starts (in practice, all those of one event-loop turn) shares it, and a round starts as soon as the previous one
 * ends.
 */
class SyncedFile {
  /** Written to since the last round started. */
  dirty = false;
  /** Settles, never rejecting, when the round in flight ends. */
  private running?: Promise<void>;
  /** What the round in flight tells its waiters. */
  private runningOutcome?: Promise<void>;
  private next?: Deferred;
  private closed?: Promise<void>;

  constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** Writes all of `buffer` at `position`, or at the end of the file when it is null. */
  write(buffer: Buffer, position: number | null): void {
    let done = 0;
    while (done < buffer.length) {
      done += fs.writeSync(
        this.fd,
        buffer,
        done,
        buffer.length - done,
        position === null ? null : position + done,
      );
    }
    this.dirty = true;
  }

  /** Resolves once everything written before the call is on the device. */
  sync(): Promise<void> {
    if (this.closed) return this.closed;
    if (!this.dirty && !this.next) return this.runningOutcome ?? Promise.resolve();
    if (!this.next) {
      this.next = deferred();
      if (!this.running) setImmediate(() => this.startRound());
    }
    return this.next.promise;
  }

  /** Waits for the rounds asked for, syncs what is left if `sync`, and closes the file. */
  close(sync: boolean): Promise<void> {
    this.closed ??= this.finish(sync);
    return this.closed;
  }

  private async finish(sync: boolean): Promise<void> {
    try {
      while (this.running || this.next) await (this.running ?? this.next!.promise.catch(() => undefined));
      if (sync && this.dirty) await fdatasync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }

  private startRound(): void {
    const waiters = this.next;
    if (!waiters || this.running) return;
    this.next = undefined;
    this.dirty = false;
    this.runningOutcome = waiters.promise;
    this.running = fdatasync(this.fd)
      .then(
        () => waiters.resolve(),
        (error: unknown) => {
          this.dirty = true;
          waiters.reject(
            new Error(`Cannot sync ${this.path}: ${describeError(error).errorMessage}`, { cause: error }),
          );
        },
      )
      .finally(() => {
        this.running = undefined;
        this.runningOutcome = undefined;
        this.startRound();
      });
  }
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
