import * as fs from 'node:fs';
import { join } from 'node:path';
import { ACK_FILE, ackPathOf, isNotFound, removeFile, SEGMENT_FILE, segmentPath } from './queue-folder';
import { type BlockReader, parseAcks, scanSegment, type SegmentProblem } from './segment';
import type { Logger } from '../../logger';

/** A range of a segment found damaged when the store opened, which reading skips. */
export interface SkippedRange {
  readonly start: number;
  readonly end: number;
}

/** What recovery found in one segment file that still holds records. */
export interface RecoveredSegment {
  readonly id: number;
  readonly path: string;
  /** Bytes of whole records. */
  readonly size: number;
  /** Records not acknowledged, and their data bytes. */
  readonly live: number;
  readonly liveBytes: number;
  /** The first record not acknowledged. */
  readonly startOffset: number;
  /** Offsets acknowledged after `startOffset`, ascending. */
  readonly acked: readonly number[];
  /** Damaged ranges after `startOffset`, ascending. */
  readonly skips: readonly SkippedRange[];
}

export interface RecoveredQueue {
  /** Oldest first. */
  readonly segments: readonly RecoveredSegment[];
  /** The id for the next new segment: appends never go to a file of an earlier run. */
  readonly nextId: number;
}

/**
 * Rebuilds a stream's queue from the files a previous run left in `folder`, oldest segment first. Damage a crash or
 * a power cut can leave is repaired where that loses nothing (a record or an acknowledgement cut short is cut off),
 * and every damaged record is reported to `logger` and skipped. Segments with every record acknowledged, and
 * acknowledgement files without their segment, are deleted. Throws only when the files cannot be read.
 */
export function recoverStreamFolder(folder: string, reader: BlockReader, logger: Logger): RecoveredQueue {
  const names = fs.readdirSync(folder);
  const ids = names
    .map((name) => SEGMENT_FILE.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const segmentIds = new Set(ids);
  for (const name of names) {
    const ackId = ACK_FILE.exec(name)?.[1];
    if (ackId !== undefined && !segmentIds.has(Number(ackId))) removeFile(join(folder, name));
  }
  const segments: RecoveredSegment[] = [];
  for (const id of ids) {
    const segment = recoverSegment(segmentPath(folder, id), id, reader, logger);
    if (segment) segments.push(segment);
  }
  return { segments, nextId: (ids.at(-1) ?? 0) + 1 };
}

function recoverSegment(
  path: string,
  id: number,
  reader: BlockReader,
  logger: Logger,
): RecoveredSegment | undefined {
  const ackPath = ackPathOf(path);
  const acked = recoverAcks(ackPath, logger);
  const fd = fs.openSync(path, 'r+');
  let live = 0;
  let liveBytes = 0;
  let startOffset: number | undefined;
  const ackedAfterStart: number[] = [];
  let scan: ReturnType<typeof scanSegment>;
  try {
    reader.attach(fd);
    scan = scanSegment(reader, fs.fstatSync(fd).size, (offset, header) => {
      if (acked.has(offset)) {
        if (startOffset !== undefined) ackedAfterStart.push(offset);
        return;
      }
      startOffset ??= offset;
      live++;
      liveBytes += header.dataBytes;
    });
    for (const problem of scan.problems) reportProblem(logger, path, problem);
    if (scan.problems.some((problem) => problem.kind === 'cutShort')) fs.ftruncateSync(fd, scan.end);
  } finally {
    reader.release();
    fs.closeSync(fd);
  }
  if (startOffset === undefined) {
    removeFile(path);
    removeFile(ackPath);
    return undefined;
  }
  const start = startOffset;
  const skips = scan.problems
    .filter((problem) => problem.kind !== 'cutShort' && problem.offset > start)
    .map((problem) => ({ start: problem.offset, end: problem.offset + problem.bytes }));
  return { id, path, size: scan.end, live, liveBytes, startOffset: start, acked: ackedAfterStart, skips };
}

/** The offsets acknowledged in `ackPath`; an entry cut short or damaged is reported and cut off. */
function recoverAcks(ackPath: string, logger: Logger): ReadonlySet<number> {
  let content: Buffer;
  try {
    content = fs.readFileSync(ackPath);
  } catch (error) {
    if (isNotFound(error)) return new Set();
    throw error;
  }
  const acks = parseAcks(content);
  if (acks.end < content.length) {
    logger.warn(
      'Disk queue acknowledgement file ends in a damaged or partly written entry; its records may be sent again',
      { file: ackPath, offset: acks.end, droppedBytes: content.length - acks.end },
    );
    fs.truncateSync(ackPath, acks.end);
  }
  return acks.offsets;
}

function reportProblem(logger: Logger, file: string, problem: SegmentProblem): void {
  const { offset, bytes } = problem;
  switch (problem.kind) {
    case 'cutShort':
      logger.warn('Disk queue file ends in a partly written record; truncated it after the last whole one', {
        file,
        offset,
        droppedBytes: bytes,
      });
      return;
    case 'badRecord':
      logger.error('Disk queue record failed its checksum and was skipped', {
        file,
        offset,
        droppedBytes: bytes,
      });
      return;
    case 'unreadable':
      logger.error('Disk queue file is unreadable from this offset on; the rest of it was skipped', {
        file,
        offset,
        droppedBytes: bytes,
      });
      return;
  }
}
