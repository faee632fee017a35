import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { FILE_MODE, isNotFound, prepareQueueDirectory, removeFile } from './disk-queue-folder';
import { createLogger, describeError, Logger } from './logger';

/**
 * One connector process per `QueueDirectory`: two would append to the same segment files and interleave their
 * records. The process that starts first holds a lock file naming it; a second one is refused with an error naming
 * the folder and the holder. A lock whose holder no longer runs (killed with SIGKILL, or gone with a reboot) is taken
 * over, telling a reused pid from its holder by the process's start time and the boot id (Linux).
 *
 * The lock is a file rather than an advisory lock because Node.js has no `flock`. Its holder is judged by pid, so
 * two connectors in different pid namespaces (containers) sharing one folder cannot see each other.
 */

/** The lock file's name in `QueueDirectory`. */
export const LOCK_FILE = 'firehose-connector.lock';
/** Rounds of "create, or judge and remove a stale lock" before giving up on a folder other processes keep busy. */
const MAX_ATTEMPTS = 5;

/** What the lock file holds: enough to tell whether its process still runs. */
export interface LockHolder {
  readonly pid: number;
  /** When the process started, in clock ticks since boot (Linux), so that a reused pid is not taken for it. */
  readonly processStart?: string;
  /** Linux's boot id: a lock from before a reboot is stale, whatever process has its pid now. */
  readonly bootId?: string;
  /** When the lock was taken, for people reading the error. */
  readonly lockedAt: string;
}

/** A running process holds the lock of the folder. */
export class QueueDirectoryInUseError extends Error {
  constructor(
    readonly directory: string,
    readonly holder: LockHolder,
  ) {
    super(
      `QueueDirectory ${directory} is in use by another connector process (pid ${holder.pid}, since ` +
        `${holder.lockedAt}). Give each connector its own QueueDirectory, or stop the other one. If process ` +
        `${holder.pid} is not a connector, delete ${join(directory, LOCK_FILE)}.`,
    );
    this.name = 'QueueDirectoryInUseError';
  }
}

export interface QueueDirectoryLock {
  /** The locked folder, resolved. */
  readonly directory: string;
  /** Deletes the lock file if it is still this lock's; later calls do nothing. */
  release(): void;
}

/** Folders this process holds the lock of. */
const held = new Set<string>();

/**
 * Takes the lock of `directory`, creating the folder (0700) if needed. Throws `QueueDirectoryInUseError` when a
 * running process holds it, and an error naming the folder when it cannot be created or written.
 */
export function lockQueueDirectory(
  directory: string,
  logger: Logger = createLogger('warn'),
): QueueDirectoryLock {
  const folder = resolve(directory);
  if (held.has(folder)) throw new Error(`QueueDirectory ${folder} is already locked by this process`);
  const path = join(folder, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    processStart: processStart(process.pid),
    bootId: bootId(),
    lockedAt: new Date().toISOString(),
  };
  const content = `${JSON.stringify(holder)}\n`;
  try {
    prepareQueueDirectory(folder, logger);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (tryCreate(path, content)) {
        held.add(folder);
        return { directory: folder, release: () => release(folder, path, content, logger) };
      }
      const found = readText(path);
      if (found === undefined) continue;
      const previous = parseHolder(found);
      if (previous && isRunning(previous)) throw new QueueDirectoryInUseError(folder, previous);
      if (removeStale(path, found)) {
        logger.warn('Taking over the disk queue lock of a process that no longer runs', {
          directory: folder,
          pid: previous?.pid,
          lockedAt: previous?.lockedAt,
        });
      }
    }
  } catch (error) {
    if (error instanceof QueueDirectoryInUseError) throw error;
    throw new Error(`QueueDirectory ${folder} cannot be locked: ${describeError(error).errorMessage}`, {
      cause: error,
    });
  }
  throw new Error(`QueueDirectory ${folder} cannot be locked: other processes keep taking its lock`);
}

/**
 * Creates the lock file with `content`, complete or not at all: the content is written to a file of this process
 * and synced, then linked to the lock's name, which fails if that name exists. False when it does.
 */
function tryCreate(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w', FILE_MODE);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    removeFile(temporary);
  }
}

/**
 * Removes the lock file found holding `stale`, unless a process took it over since: the file is first renamed to a
 * name of this process, which only one process can do to a given file, then checked, and a lock taken over meanwhile
 * is linked back. (Should a third process create a lock in that instant, the link fails and this process gives up.)
 * True when the stale lock was removed.
 */
function removeStale(path: string, stale: string): boolean {
  const claimed = `${path}.${process.pid}.stale`;
  try {
    fs.renameSync(path, claimed);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  try {
    if (readText(claimed) === stale) return true;
    fs.linkSync(claimed, path);
    return false;
  } finally {
    removeFile(claimed);
  }
}

function release(folder: string, path: string, content: string, logger: Logger): void {
  if (!held.delete(folder)) return;
  try {
    if (readText(path) === content) fs.unlinkSync(path);
  } catch (error) {
    logger.warn('Could not delete the disk queue lock file', { file: path, ...describeError(error) });
  }
}

/** Whether the lock's process still runs: same boot, a process with its pid, started when it did. */
function isRunning(holder: LockHolder): boolean {
  const currentBoot = bootId();
  if (holder.bootId && currentBoot && holder.bootId !== currentBoot) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process runs, under another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(holder.pid);
  return start === undefined || holder.processStart === undefined || start === holder.processStart;
}

/** The lock's holder, or undefined when the file holds something else (a damaged or foreign file): stale. */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder> | null;
    const pid = parsed?.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    return {
      pid,
      processStart: typeof parsed?.processStart === 'string' ? parsed.processStart : undefined,
      bootId: typeof parsed?.bootId === 'string' ? parsed.bootId : undefined,
      lockedAt: typeof parsed?.lockedAt === 'string' ? parsed.lockedAt : 'an unknown time',
    };
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Field 22 of `/proc/<pid>/stat`, the process's start time in clock ticks since boot; undefined where there is no
 * such file. The command name (field 2) may hold spaces and parentheses, so fields are counted from its last `)`.
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** @see https://man7.org/linux/man-pages/man4/random.4.html (`boot_id`) */
function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
