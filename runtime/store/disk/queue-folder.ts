import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createLogger, describeError, type Logger } from '../../logger';
import { syncDirectory } from './synced-file';

/**
 * The layout of `QueueDirectory` (documented byte for byte in `segment.ts`) and the folder operations the
 * stores and the lock share. Records hold message payloads, so every folder is the connector user's alone (0700)
 * and every file too (0600), whatever the process's umask.
 */

export const FOLDER_MODE = 0o700;
export const FILE_MODE = 0o600;
export const SEGMENT_FILE = /^(\d+)\.seg$/;
export const ACK_FILE = /^(\d+)\.ack$/;
const METADATA_FILE = 'stream.json';
/** Permission bits that let users other than the owner in. */
const OPEN_TO_OTHERS = 0o077;

/** The folder of a stream's queue: a hash of its ARN, which holds characters that are not valid in file names. */
export function streamDirectory(directory: string, streamArn: string): string {
  return join(directory, createHash('sha256').update(streamArn).digest('hex').slice(0, 32));
}

export function segmentPath(folder: string, id: number): string {
  return join(folder, `${String(id).padStart(12, '0')}.seg`);
}

/** The acknowledgement file of the segment at `path`. */
export function ackPathOf(path: string): string {
  return `${path.slice(0, -'.seg'.length)}.ack`;
}

/** Opens (and with `wx` or `a`, creates) a file of the queue that only the connector's user can read. */
export function openPrivateFile(path: string, flags: 'wx' | 'a'): number {
  return fs.openSync(path, flags, FILE_MODE);
}

/**
 * Creates a stream's folder, and `QueueDirectory` above it, for the connector's user alone. A stream folder left
 * open to others by an older version (which created folders 0755 and files 0644) is restricted, with its files,
 * and reported; one that cannot be restricted is reported only.
 */
export function prepareStreamFolder(folder: string, logger: Logger): void {
  fs.mkdirSync(folder, { recursive: true, mode: FOLDER_MODE });
  const mode = fs.statSync(folder).mode & 0o777;
  if (!isOpenToOthers(mode)) return;
  try {
    fs.chmodSync(folder, FOLDER_MODE);
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      if (entry.isFile()) fs.chmodSync(join(folder, entry.name), FILE_MODE);
    }
    logger.warn(
      'Restricted a disk queue folder and its files to the connector user: other users could read them',
      {
        folder,
        previousMode: octal(mode),
      },
    );
  } catch (error) {
    logger.warn(
      'Disk queue folder is open to other users and could not be restricted; run chmod -R go= on it',
      {
        folder,
        mode: octal(mode),
        ...describeError(error),
      },
    );
  }
}

/**
 * Creates `QueueDirectory` for the connector's user alone. An existing folder is left as it is, since it may be one
 * the user shares with other programs, but reported when other users may enter it.
 */
export function prepareQueueDirectory(directory: string, logger: Logger): void {
  if (fs.mkdirSync(directory, { recursive: true, mode: FOLDER_MODE }) !== undefined) return;
  const mode = fs.statSync(directory).mode & 0o777;
  if (!isOpenToOthers(mode)) return;
  logger.warn(
    'QueueDirectory is open to other users; the stream folders in it are not, but run chmod 700 on it',
    {
      directory,
      mode: octal(mode),
    },
  );
}

/** Records the stream's ARN in its folder, so that a restart can resume it; throws if it holds another stream. */
export function writeMetadata(folder: string, streamArn: string): void {
  const path = join(folder, METADATA_FILE);
  const stored = readMetadata(path);
  if (stored === streamArn) return;
  if (stored !== undefined) {
    throw new Error(`the folder holds the disk queue of ${stored}`);
  }
  const temporary = `${path}.tmp`;
  removeFile(temporary);
  const fd = openPrivateFile(temporary, 'wx');
  try {
    fs.writeSync(fd, JSON.stringify({ streamArn, format: 1 }) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, path);
  syncDirectory(folder);
}

/** Removes a stream's folder once its queue is empty; a failure is reported, never thrown. */
export function removeStreamFolder(folder: string, logger: Logger): void {
  try {
    removeFile(join(folder, METADATA_FILE));
    fs.rmdirSync(folder);
  } catch (error) {
    logger.warn('Could not remove the empty disk queue folder', {
      directory: folder,
      ...describeError(error),
    });
  }
}

/**
 * ARNs of the streams that have records stored under `directory`, so that the connector can resume them at
 * start-up. A folder with segments but no readable `stream.json` cannot be resumed and is reported to `logger`.
 */
export function storedStreamArns(directory: string, logger: Logger = createLogger('warn')): string[] {
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

export function removeFile(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Whether users other than the owner may enter; Windows has no such bits (access there is set by ACLs). */
function isOpenToOthers(mode: number): boolean {
  return process.platform !== 'win32' && (mode & OPEN_TO_OTHERS) !== 0;
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
