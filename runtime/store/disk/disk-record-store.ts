import { prepareStreamFolder, removeStreamFolder, streamDirectory, writeMetadata } from './queue-folder';
import { type RecoveredQueue, recoverStreamFolder } from './recovery';
import { BlockReader, encodeRecord, MAX_DATA_BYTES, MAX_REQUEST_ID_BYTES } from './segment';
import { SegmentCursor, type Unreadable } from './segment-cursor';
import { SegmentFile } from './segment-file';
import { type DiskRecordStoreOptions, type DiskSyncPolicy, resolveDiskStoreOptions } from './options';
import { type QueueCounts, TailWriter } from './tail-writer';
import { describeError, type Logger } from '../../logger';
import type { QueuedRecord, RecordStore } from '../record-store';

interface Lease {
  readonly record: QueuedRecord;
  readonly segment: SegmentFile;
  readonly offset: number;
  readonly dataBytes: number;
}

/**
 * A delivery stream's queue in append-only files, so that records survive a kill, a crash and (depending on
 * `sync`) a power cut; see `segment.ts` for the format. Memory holds a few numbers per segment file and the
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
  private readonly logger: Logger;
  private readonly segments: SegmentFile[] = [];
  private readonly cursor = new SegmentCursor(this.segments);
  private readonly leases = new Map<QueuedRecord, Lease>();
  /** Leased records a requeue could not copy to the tail: still in place on disk, and leased again first. */
  private readonly putBack: Lease[] = [];
  private readonly background = new Set<Promise<void>>();
  private readonly counts: QueueCounts = { count: 0, bytes: 0, readyCount: 0, readyBytes: 0 };
  private readonly tail: TailWriter;
  private timer?: NodeJS.Timeout;
  private closing?: Promise<void>;

  private constructor(options: Required<DiskRecordStoreOptions>, folder: string, recovered: RecoveredQueue) {
    this.streamArn = options.streamArn;
    this.streamDirectory = folder;
    this.policy = options.sync;
    this.logger = options.logger;
    const { counts } = this;
    for (const found of recovered.segments) {
      this.segments.push(SegmentFile.recovered(found, this.logger));
      counts.count += found.live;
      counts.bytes += found.liveBytes;
      counts.readyCount += found.live;
      counts.readyBytes += found.liveBytes;
    }
    this.tail = new TailWriter({
      folder,
      segments: this.segments,
      policy: this.policy,
      segmentBytes: options.segmentBytes,
      nextId: recovered.nextId,
      counts,
      logger: this.logger,
      track: (work) => void this.track(work),
      retired: (segment) => void this.track(this.deleteIfEmpty(segment)),
    });
    if (this.policy === 'periodic') {
      this.timer = setInterval(() => this.syncWritten(), options.syncIntervalMs).unref();
    }
    if (counts.count > 0) {
      this.logger.info('Resuming records stored in the disk queue', {
        stream: this.streamArn,
        records: counts.count,
        bytes: counts.bytes,
        segments: this.segments.length,
      });
    }
  }

  /**
   * Opens the stream's queue under `options.directory`, creating it if needed, and recovers what a previous run
   * left: damaged records are reported through the logger and skipped. Throws only when the folder cannot be used,
   * with a message naming the stream, the folder and the system's reason (a full disk, too many open files...).
   */
  static open(options: DiskRecordStoreOptions): DiskRecordStore {
    const resolved = resolveDiskStoreOptions(options);
    const folder = streamDirectory(resolved.directory, resolved.streamArn);
    if (DiskRecordStore.opened.has(folder)) {
      throw new Error(`The disk queue of ${resolved.streamArn} in ${folder} is already open`);
    }
    let recovered: RecoveredQueue;
    try {
      prepareStreamFolder(folder, resolved.logger);
      writeMetadata(folder, resolved.streamArn);
      recovered = recoverStreamFolder(folder, new BlockReader(), resolved.logger);
    } catch (error) {
      throw new Error(
        `Cannot open the disk queue of ${resolved.streamArn} in ${folder}: ${describeError(error).errorMessage}`,
        { cause: error },
      );
    }
    const store = new DiskRecordStore(resolved, folder, recovered);
    DiskRecordStore.opened.add(folder);
    return store;
  }

  get count(): number {
    return this.counts.count;
  }

  get bytes(): number {
    return this.counts.bytes;
  }

  get readyCount(): number {
    return this.counts.readyCount;
  }

  get readyBytes(): number {
    return this.counts.readyBytes;
  }

  /** Reads the header of the record at the cursor (a block the next lease reads anyway). */
  nextEnqueuedAt(): number | undefined {
    if (this.putBack.length > 0) return this.putBack[0].record.enqueuedAt;
    if (this.counts.readyCount === 0 || this.closing) return undefined;
    this.tail.flush();
    const segment = this.cursor.position();
    if (!segment) return undefined;
    const header = this.cursor.peek(segment);
    return 'unreadable' in header ? undefined : header.enqueuedAt;
  }

  /**
   * Writes the record to the end of the queue; resolves once the OS has it, and with `always`, the device. Appends
   * made in one synchronous run share one write, made before any of them resolves.
   */
  append(record: QueuedRecord): Promise<void> {
    const refusal = this.refusal(record);
    if (refusal) return Promise.reject(new Error(refusal));
    return this.tail.append(encodeRecord(record), record.data.length);
  }

  /** Takes records in queue order; records put back after a failed requeue come first. */
  lease(maxRecords: number, maxBytes: number): QueuedRecord[] {
    this.tail.flush();
    const taken: QueuedRecord[] = [];
    let bytes = 0;
    while (taken.length < maxRecords && this.counts.readyCount > 0 && !this.closing) {
      const room = taken.length === 0 ? Infinity : maxBytes - bytes;
      const lease = this.putBack.length > 0 ? this.takePutBack(room) : this.readNext(room);
      if (lease === 'full') break;
      if (!lease) continue;
      this.leases.set(lease.record, lease);
      taken.push(lease.record);
      bytes += lease.dataBytes;
    }
    return taken;
  }

  /** Acknowledges the records in one write per segment; segments left with no record are deleted. */
  release(records: readonly QueuedRecord[]): Promise<void> {
    if (this.closing) return Promise.resolve();
    const done: Promise<void>[] = [];
    for (const [segment, leases] of groupBySegment(this.takeLeases(records))) {
      for (const lease of leases) {
        this.counts.count--;
        this.counts.bytes -= lease.dataBytes;
      }
      segment.live -= leases.length;
      done.push(this.acknowledge(segment, leases));
    }
    return this.track(Promise.all(done).then(() => undefined));
  }

  /**
   * Appends a copy of each record (with its `attempts` as updated by the caller) at the tail, then acknowledges
   * the old copies once the new ones are as durable as the policy makes appends: a crash in between can only
   * duplicate a record, never lose it. Records whose copy cannot be written (a full disk) stay where they are and
   * are leased again first. Never rejects.
   */
  requeue(records: readonly QueuedRecord[]): Promise<void> {
    if (this.closing) return Promise.resolve();
    const leases = this.takeLeases(records);
    const written = this.tail.writeFrames(leases.map((lease) => encodeRecord(lease.record)));
    const copied = leases.slice(0, written.count);
    if (written.error) this.putBackInPlace(leases.slice(written.count), written.error);
    const bySegment = groupBySegment(copied);
    for (const segment of bySegment.keys()) segment.pendingAcks++;
    const copiesDurable =
      this.policy === 'never'
        ? Promise.resolve()
        : Promise.all([...written.segments].map((segment) => segment.sync()));
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
   * Waits for pending writes, syncs and closes every file and stops the timer: a closed store holds no file handle,
   * timer or record, and the stream can be opened again. Records not released stay on disk for the next open; a
   * stream left with no record has its folder removed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown().finally(() => DiskRecordStore.opened.delete(this.streamDirectory));
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.tail.flush();
    clearInterval(this.timer);
    await this.settleBackground();
    this.cursor.close();
    const active = this.tail.close();
    if (active) await this.deleteIfEmpty(active);
    await this.settleBackground();
    const failures = await Promise.all(this.segments.map((segment) => segment.close()));
    for (const reason of failures.flat()) {
      this.logger.error('Could not sync a disk queue file on close', {
        stream: this.streamArn,
        ...describeError(reason),
      });
    }
    if (this.segments.length === 0) removeStreamFolder(this.streamDirectory, this.logger);
    this.leases.clear();
    this.putBack.length = 0;
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

  /** The first record put back after a failed requeue, or 'full' when it does not fit in `room` bytes. */
  private takePutBack(room: number): Lease | 'full' {
    const lease = this.putBack[0];
    if (lease.dataBytes > room) return 'full';
    this.putBack.shift();
    this.counts.readyCount--;
    this.counts.readyBytes -= lease.dataBytes;
    return lease;
  }

  /**
   * Reads the record at the cursor, or returns 'full' when it does not fit in `room` bytes; undefined when the
   * record turned out unreadable or no segment has a ready record, after setting the counts right.
   */
  private readNext(room: number): Lease | 'full' | undefined {
    const segment = this.cursor.position();
    if (!segment) {
      this.logger.error('Disk queue counts disagree with its files; resetting them', {
        stream: this.streamArn,
        readyCount: this.counts.readyCount,
      });
      this.counts.count -= this.counts.readyCount;
      this.counts.bytes -= this.counts.readyBytes;
      this.counts.readyCount = 0;
      this.counts.readyBytes = 0;
      return undefined;
    }
    const header = this.cursor.peek(segment);
    if ('unreadable' in header) return this.dropReady(segment, header);
    if (header.dataBytes > room) return 'full';
    const found = this.cursor.take(segment, header);
    if ('unreadable' in found) return this.dropReady(segment, found);
    segment.ready--;
    segment.readyBytes -= header.dataBytes;
    this.counts.readyCount--;
    this.counts.readyBytes -= header.dataBytes;
    const record: QueuedRecord = {
      requestId: found.requestId,
      streamArn: this.streamArn,
      data: found.data,
      enqueuedAt: header.enqueuedAt,
      attempts: header.attempts,
    };
    return { record, segment, offset: found.offset, dataBytes: header.dataBytes };
  }

  /**
   * Gives up the ready records of a segment that became unreadable after the store opened (the file was changed
   * or the device failed), keeping the counts true; appends go to a new segment. Their request ids cannot be
   * read, so they can only be reported in the log.
   */
  private dropReady(segment: SegmentFile, { offset, unreadable }: Unreadable): undefined {
    this.logger.error('Disk queue segment became unreadable; its remaining records are lost', {
      file: segment.path,
      offset,
      reason: unreadable,
      records: segment.ready,
      bytes: segment.readyBytes,
    });
    this.counts.count -= segment.ready;
    this.counts.bytes -= segment.readyBytes;
    this.counts.readyCount -= segment.ready;
    this.counts.readyBytes -= segment.readyBytes;
    segment.live -= segment.ready;
    segment.ready = 0;
    segment.readyBytes = 0;
    segment.sealed = true;
    void this.track(this.deleteIfEmpty(segment));
    return undefined;
  }

  /**
   * Makes leased records whose copy could not be written at the tail ready again where they are: their old copies
   * were not acknowledged, so they are still on disk and survive a restart, and the next lease returns them first.
   */
  private putBackInPlace(leases: readonly Lease[], error: Error): void {
    this.logger.error(
      'Could not requeue records at the end of the disk queue; they stay in place and are retried',
      {
        stream: this.streamArn,
        records: leases.length,
        ...describeError(error),
      },
    );
    for (const lease of leases) {
      this.putBack.push(lease);
      this.counts.readyCount++;
      this.counts.readyBytes += lease.dataBytes;
    }
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
  private async acknowledge(segment: SegmentFile, leases: readonly Lease[]): Promise<void> {
    await segment.acknowledge(
      leases.map((lease) => lease.offset),
      this.policy === 'always',
    );
    await this.deleteIfEmpty(segment);
  }

  /** Deletes a segment, then its acknowledgements, once no record in it is waiting and nothing appends to it. */
  private async deleteIfEmpty(segment: SegmentFile): Promise<void> {
    if (segment.deleted || segment === this.tail.active || segment.live > 0 || segment.pendingAcks > 0)
      return;
    this.segments.splice(this.segments.indexOf(segment), 1);
    this.cursor.leave(segment);
    await segment.remove();
  }

  private syncWritten(): void {
    for (const segment of this.segments) segment.syncWritten();
  }

  private async settleBackground(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.background.add(work);
    void work.finally(() => this.background.delete(work)).catch(() => undefined);
    return work;
  }
}

function groupBySegment(leases: readonly Lease[]): Map<SegmentFile, Lease[]> {
  const bySegment = new Map<SegmentFile, Lease[]>();
  for (const lease of leases) {
    const group = bySegment.get(lease.segment);
    if (group) group.push(lease);
    else bySegment.set(lease.segment, [lease]);
  }
  return bySegment;
}
