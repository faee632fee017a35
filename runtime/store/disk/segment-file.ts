import { ackPathOf, openPrivateFile, removeFile, segmentPath } from './queue-folder';
import type { RecoveredSegment, SkippedRange } from './recovery';
import { encodeAck } from './segment';
import { describeError, type Logger } from '../../logger';
import { SyncedFile, syncDirectory } from './synced-file';

/**
 * One segment file and its acknowledgement file, with what the store knows of them: a few numbers, never state per
 * record beyond the acknowledgements recovery found. The store decides what to write; this class writes, syncs,
 * closes and deletes the two files, and reports failures that the store does not act on.
 */
export class SegmentFile {
  readonly ackPath: string;
  /** Bytes of whole records; the next record goes there. */
  size: number;
  /** Records not acknowledged: ready, leased, or put back after a failed requeue. */
  live: number;
  /** Records the cursor has not reached yet, and their data bytes. */
  ready: number;
  readyBytes: number;
  /** Where reading starts: the first record not acknowledged when the store opened. */
  readonly startOffset: number;
  /** Offsets acknowledged before the store opened, after `startOffset`, ascending; walked once by the cursor. */
  readonly acked: Uint32Array;
  ackedIndex = 0;
  /** Damaged ranges found when the store opened, ascending. */
  readonly skips: readonly SkippedRange[];
  skipIndex = 0;
  /** Appends go to a new segment: a write failed and could not be undone, or the segment was found damaged. */
  sealed: boolean;
  /** Requeues waiting for their copies to be durable before they acknowledge records of this segment. */
  pendingAcks = 0;
  deleted = false;
  private writer?: SyncedFile;
  /** Settles once the writer is synced (unless the policy is `never`) and closed. */
  private writerClosed: Promise<void> = Promise.resolve();
  private ackFile?: SyncedFile;

  private constructor(
    readonly id: number,
    readonly path: string,
    recovered: Omit<RecoveredSegment, 'id' | 'path'> | undefined,
    private readonly logger: Logger,
  ) {
    this.ackPath = ackPathOf(path);
    this.size = recovered?.size ?? 0;
    this.live = recovered?.live ?? 0;
    this.ready = this.live;
    this.readyBytes = recovered?.liveBytes ?? 0;
    this.startOffset = recovered?.startOffset ?? 0;
    this.acked = Uint32Array.from(recovered?.acked ?? []);
    this.skips = recovered?.skips ?? [];
    // Appends go to a new segment, so that nothing is ever written after bytes a crash may have damaged.
    this.sealed = recovered !== undefined;
  }

  /** Creates segment `id` in `folder`, empty; `durable` also makes its folder entry survive a power cut. */
  static create(folder: string, id: number, durable: boolean, logger: Logger): SegmentFile {
    const segment = new SegmentFile(id, segmentPath(folder, id), undefined, logger);
    segment.writer = new SyncedFile(segment.path, openPrivateFile(segment.path, 'wx'));
    // A file's data synced without its directory entry can vanish in a power cut.
    if (durable) syncDirectory(folder);
    return segment;
  }

  /** A segment of a previous run, only ever read, acknowledged and deleted. */
  static recovered(recovered: RecoveredSegment, logger: Logger): SegmentFile {
    return new SegmentFile(recovered.id, recovered.path, recovered, logger);
  }

  /** Whether a frame of `frameBytes` may be appended without taking the segment past `segmentBytes`. */
  accepts(frameBytes: number, segmentBytes: number): boolean {
    return (
      this.writer !== undefined && !this.sealed && (this.size === 0 || this.size + frameBytes <= segmentBytes)
    );
  }

  /**
   * Writes `buffer` at `start`, which must be where the whole records end. On failure, takes back what the write may
   * have left (or, if that fails too, seals the segment) and throws.
   */
  write(buffer: Buffer, start: number): void {
    try {
      this.writer!.write(buffer, start);
    } catch (error) {
      this.size = start;
      try {
        this.writer!.truncate(start);
      } catch {
        this.sealed = true;
      }
      throw new Error(`Cannot write to ${this.path}: ${describeError(error).errorMessage}`, { cause: error });
    }
  }

  /** Resolves once everything written to the segment so far is on the device. */
  sync(): Promise<void> {
    return this.writer?.sync() ?? this.writerClosed;
  }

  /**
   * Closes the segment file to appends, syncing it first if `sync`. Resolves once closed and never rejects: a failure
   * is reported here, and again to whoever waits for `sync()`.
   */
  retire(sync: boolean): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.resolve();
    this.writer = undefined;
    this.writerClosed = writer.close(sync);
    return this.writerClosed.catch((error: unknown) =>
      this.logger.error('Could not sync or close a disk queue segment', {
        file: this.path,
        ...describeError(error),
      }),
    );
  }

  /**
   * Appends one acknowledgement entry for the records at `offsets`; with `sync`, resolves once it is on the device.
   * Never rejects: a failure means the records may be sent again after a restart, which is reported.
   */
  async acknowledge(offsets: readonly number[], sync: boolean): Promise<void> {
    try {
      this.ackFile ??= new SyncedFile(this.ackPath, openPrivateFile(this.ackPath, 'a'));
      this.ackFile.write(encodeAck(offsets), null);
      if (sync) await this.ackFile.sync();
    } catch (error) {
      this.logger.error(
        'Could not acknowledge records in the disk queue; they may be sent again after a restart',
        {
          file: this.ackPath,
          records: offsets.length,
          ...describeError(error),
        },
      );
    }
  }

  /** Starts a sync of each file of the segment written to since its last sync, for the `periodic` policy. */
  syncWritten(): void {
    for (const file of [this.writer, this.ackFile]) {
      if (!file?.dirty) continue;
      file
        .sync()
        .catch((error: unknown) =>
          this.logger.error('Could not sync a disk queue file', { file: file.path, ...describeError(error) }),
        );
    }
  }

  /** Deletes the segment, then its acknowledgements, once their files are closed; a failure is reported. */
  async remove(): Promise<void> {
    this.deleted = true;
    await Promise.allSettled([this.writerClosed, this.ackFile?.close(false)]);
    try {
      // The segment goes first: acknowledgements left without their segment are only clutter, removed on open.
      removeFile(this.path);
      removeFile(this.ackPath);
    } catch (error) {
      this.logger.error('Could not delete a delivered disk queue segment', {
        file: this.path,
        ...describeError(error),
      });
    }
  }

  /** Waits for the segment file to close and syncs and closes the acknowledgement file; resolves with failures. */
  async close(): Promise<unknown[]> {
    const closed = await Promise.allSettled([this.writerClosed, this.ackFile?.close(true)]);
    return closed.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  }
}
