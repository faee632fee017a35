import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { isNotFound, prepareQueueDirectory, removeFile } from './queue-folder';
import { createLogger, describeError, type Logger } from '../../logger';

/**
 * One connector process per `QueueDirectory`: two would append to the same segment files and interleave their
 * records. The process that starts first holds a lock naming it; a second one is refused with an error naming the
 * folder and the holder. A lock whose holder no longer runs (killed with SIGKILL, or gone with a reboot) is taken
 * over, telling a reused pid from its holder by the process's start time and the boot id (Linux).
 *
 * The lock is a symbolic link whose target is the holder (`<pid>:<start>:<boot>:<locked at>`), as Emacs locks
 * files: creating one is atomic, it needs no data block, so a connector restarted on a full disk can still take it
 * and drain its queue, and `ls -l` shows who holds it. Node.js has no `flock`, and the holder is judged by pid, so
 * two connectors in different pid namespaces (containers) sharing one folder cannot see each other.
 */

/** The lock's name in `QueueDirectory`. */
export const LOCK_FILE = 'firehose-connector.lock';
/** Rounds of "create, or judge and remove a stale lock" before giving up on a folder other processes keep busy. */
const MAX_ATTEMPTS = 5;
/** Characters of the boot id kept: enough to tell boots apart, and the target stays under ext4's 60-byte inline limit. */
const BOOT_ID_CHARS = 8;

/** Who holds a lock: enough to tell whether that process still runs. */
export interface LockHolder {
  readonly pid: number;
  /** When the process started, in clock ticks since boot (Linux), so that a reused pid is not taken for it. */
  readonly processStart?: string;
  /** The start of Linux's boot id: a lock from before a reboot is stale, whatever process has its pid now. */
  readonly bootId?: string;
  /** When the lock was taken, in epoch seconds. */
  readonly lockedAt: number;
}

/** A running process holds the lock of the folder. */
export class QueueDirectoryInUseError extends Error {
  override readonly name = 'QueueDirectoryInUseError';

  constructor(
    readonly directory: string,
    readonly holder: LockHolder,
  ) {
    super(
      `QueueDirectory ${directory} is in use by another connector process (pid ${holder.pid}, since ` +
        `${new Date(holder.lockedAt * 1000).toISOString()}). Give each connector its own QueueDirectory, or stop ` +
        `the other one. If process ${holder.pid} is not a connector, delete ${join(directory, LOCK_FILE)}.`,
    );
  }
}

export interface QueueDirectoryLock {
  /** The locked folder, resolved. */
  readonly directory: string;
  /** Deletes the lock if it is still this one; later calls do nothing. */
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
  const ours = formatHolder({
    pid: process.pid,
    processStart: processStart(process.pid),
    bootId: bootId(),
    lockedAt: Math.floor(Date.now() / 1000),
  });
  try {
    prepareQueueDirectory(folder, logger);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (tryCreate(path, ours)) {
        held.add(folder);
        return { directory: folder, release: () => release(folder, path, ours, logger) };
      }
      const found = readLock(path);
      if (found === undefined) continue;
      const holder = parseHolder(found);
      if (holder && isRunning(holder)) throw new QueueDirectoryInUseError(folder, holder);
      if (removeStale(path, found)) {
        logger.warn('Taking over the disk queue lock of a process that no longer runs', {
          directory: folder,
          lock: found,
          pid: holder?.pid,
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

/** Creates the lock holding `holder`; false when a lock exists. */
function tryCreate(path: string, holder: string): boolean {
  try {
    fs.symlinkSync(holder, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes the lock found holding `stale`, unless a process took it over since: the lock is first renamed to a name
 * of this process, which only one process can do to a given lock, then checked, and a lock taken over meanwhile is
 * put back. (Should a third process create a lock in that instant, putting it back fails and this process gives
 * up.) True when the stale lock was removed.
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
    const found = readLock(claimed);
    if (found === stale) return true;
    if (found !== undefined) fs.symlinkSync(found, path);
    return false;
  } finally {
    removeFile(claimed);
  }
}

function release(folder: string, path: string, ours: string, logger: Logger): void {
  if (!held.delete(folder)) return;
  try {
    if (readLock(path) === ours) fs.unlinkSync(path);
  } catch (error) {
    logger.warn('Could not delete the disk queue lock', { file: path, ...describeError(error) });
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

function formatHolder(holder: LockHolder): string {
  return [holder.pid, holder.processStart ?? '', holder.bootId ?? '', holder.lockedAt].join(':');
}

/** The lock's holder, or undefined when the lock holds something else (a damaged or foreign file): stale. */
function parseHolder(text: string): LockHolder | undefined {
  const fields = text.split(':');
  if (fields.length !== 4 || !fields.every((field) => /^[0-9a-f]*$/.test(field))) return undefined;
  const [pid, start, boot, lockedAt] = fields;
  if (!/^[1-9]\d*$/.test(pid) || !/^\d+$/.test(lockedAt)) return undefined;
  return {
    pid: Number(pid),
    processStart: start || undefined,
    bootId: boot || undefined,
    lockedAt: Number(lockedAt),
  };
}

/** The lock's target; a regular file in its place (none this code makes) is read as its content. */
function readLock(path: string): string | undefined {
  try {
    return fs.readlinkSync(path);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  }
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
    return fs
      .readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')
      .replaceAll('-', '')
      .slice(0, BOOT_ID_CHARS);
  } catch {
    return undefined;
  }
}
