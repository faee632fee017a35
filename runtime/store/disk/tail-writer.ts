import { SegmentFile } from './segment-file';
import type { DiskSyncPolicy } from './options';
import { describeError, type Logger } from '../../logger';
import { type Deferred, deferred } from './synced-file';

/** What a disk queue holds, shared by the store and its tail writer. */
export interface QueueCounts {
  /** Records held, leased ones included, and their data bytes. */
  count: number;
  bytes: number;
  /** Records waiting to be leased, and their data bytes. */
  readyCount: number;
  readyBytes: number;
}

export interface TailWriterOptions {
  readonly folder: string;
  /** The store's segments, oldest first; new segments are added at the end. */
  readonly segments: SegmentFile[];
  readonly policy: DiskSyncPolicy;
  readonly segmentBytes: number;
  /** The id of the first segment to create. */
  readonly nextId: number;
  readonly counts: QueueCounts;
  readonly logger: Logger;
  /** Keeps background work (a segment file closing) for the store's close to wait for. */
  readonly track: (work: Promise<void>) => void;
  /** Called when a segment stops taking appends: one whose records were all released meanwhile can go. */
  readonly retired: (segment: SegmentFile) => void;
}

/** The result of `writeFrames`: `count` frames were written, to `segments`, before `error`, if any. */
export interface FramesWritten {
  readonly count: number;
  readonly segments: ReadonlySet<SegmentFile>;
  readonly error?: Error;
}

/** Appends of one synchronous run, written together at its end. */
interface PendingAppends extends Deferred {
  readonly segment: SegmentFile;
  readonly start: number;
  readonly frames: Buffer[];
  bytes: number;
  dataBytes: number;
}

/**
 * Writes record frames at the tail of a stream's queue: to the active segment, or a new one when it is full or
 * sealed. Appends of one synchronous run share one write (and with `always`, one `fdatasync`), so that a burst of
 * messages costs one system call per turn rather than one per record.
 */
export class TailWriter {
  private activeSegment?: SegmentFile;
  private appends?: PendingAppends;
  private nextId: number;

  constructor(private readonly options: TailWriterOptions) {
    this.nextId = options.nextId;
  }

  /** The segment appends go to; it is never deleted while active. */
  get active(): SegmentFile | undefined {
    return this.activeSegment;
  }

  /**
   * Counts the frame in at once and writes it at the end of the synchronous run; resolves once the OS has it, and
   * with `always`, the device. A failed write takes the frame back out of the counts and rejects.
   */
  append(frame: Buffer, dataBytes: number): Promise<void> {
    let segment: SegmentFile;
    try {
      segment = this.segmentFor(frame.length);
    } catch (error) {
      return Promise.reject(ioError('Cannot start a new segment file', error));
    }
    if (!this.appends) {
      this.appends = { segment, start: segment.size, frames: [], bytes: 0, dataBytes: 0, ...deferred() };
      queueMicrotask(() => this.flush());
    }
    const appends = this.appends;
    appends.frames.push(frame);
    appends.bytes += frame.length;
    appends.dataBytes += dataBytes;
    segment.size += frame.length;
    this.countReady(segment, 1, dataBytes);
    this.options.counts.count++;
    this.options.counts.bytes += dataBytes;
    return appends.promise;
  }

  /** Writes the appends waiting for the end of the synchronous run, or takes them back if the write fails. */
  flush(): void {
    const appends = this.appends;
    if (!appends) return;
    this.appends = undefined;
    const { segment, frames, bytes, dataBytes } = appends;
    try {
      segment.write(frames.length === 1 ? frames[0] : Buffer.concat(frames, bytes), appends.start);
    } catch (error) {
      this.countReady(segment, -frames.length, -dataBytes);
      this.options.counts.count -= frames.length;
      this.options.counts.bytes -= dataBytes;
      appends.reject(error);
      return;
    }
    if (this.options.policy === 'always') segment.sync().then(appends.resolve, appends.reject);
    else appends.resolve();
  }

  /**
   * Writes frames of records already counted in `count` at once, in order, one write per segment they land in.
   * Stops at the first failure; the frames written are ready.
   */
  writeFrames(frames: readonly Buffer[]): FramesWritten {
    this.flush();
    const segments = new Set<SegmentFile>();
    let count = 0;
    while (count < frames.length) {
      let segment: SegmentFile;
      try {
        segment = this.segmentFor(frames[count].length);
      } catch (error) {
        return { count, segments, error: ioError('Cannot start a new segment file', error) };
      }
      const start = segment.size;
      let bytes = 0;
      let dataBytes = 0;
      let end = count;
      do {
        bytes += frames[end].length;
        dataBytes += frames[end].readUInt32LE(4);
        end++;
      } while (end < frames.length && start + bytes + frames[end].length <= this.options.segmentBytes);
      const batch = frames.slice(count, end);
      try {
        segment.write(batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes), start);
      } catch (error) {
        return { count, segments, error: error as Error };
      }
      segment.size += bytes;
      this.countReady(segment, batch.length, dataBytes);
      segments.add(segment);
      count = end;
    }
    return { count, segments };
  }

  /** Writes what waits, and closes the active segment to appends, synced; returns it. */
  close(): SegmentFile | undefined {
    this.flush();
    const active = this.activeSegment;
    this.activeSegment = undefined;
    if (active) this.options.track(active.retire(true));
    return active;
  }

  private countReady(segment: SegmentFile, records: number, dataBytes: number): void {
    segment.live += records;
    segment.ready += records;
    segment.readyBytes += dataBytes;
    this.options.counts.readyCount += records;
    this.options.counts.readyBytes += dataBytes;
  }

  /** The segment the next frame goes to, starting a new one when the active one is full or sealed. */
  private segmentFor(frameBytes: number): SegmentFile {
    const { folder, segments, policy, segmentBytes, logger, track, retired } = this.options;
    const active = this.activeSegment;
    if (active?.accepts(frameBytes, segmentBytes)) return active;
    if (active) {
      this.flush();
      this.activeSegment = undefined;
      track(active.retire(policy !== 'never'));
      retired(active);
    }
    const segment = SegmentFile.create(folder, this.nextId++, policy !== 'never', logger);
    segments.push(segment);
    this.activeSegment = segment;
    return segment;
  }
}

function ioError(what: string, error: unknown): Error {
  return new Error(`${what}: ${describeError(error).errorMessage}`, { cause: error });
}
