import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOCK_FILE,
  lockQueueDirectory,
  QueueDirectoryInUseError,
  type QueueDirectoryLock,
} from '../../../../runtime/store/disk/queue-lock';
import type { LogFields } from '../../../../runtime/logger';
import { type DiskQueueWriter, startDiskQueueWriter } from '../../../helpers/disk-queue-writer';
import { streamArn } from '../../../helpers/factories';
import { captureLogger, type LogEntry } from '../../../helpers/log-capture';

const ARN = streamArn();

const folders: string[] = [];
const locks: QueueDirectoryLock[] = [];
const writers: DiskQueueWriter[] = [];
let logs: LogEntry[];

function tempFolder(): string {
  const folder = fs.mkdtempSync(join(tmpdir(), 'disk-queue-lock-'));
  folders.push(folder);
  return folder;
}

function lock(directory: string): QueueDirectoryLock {
  const taken = lockQueueDirectory(directory, captureLogger(logs));
  locks.push(taken);
  return taken;
}

async function startWriter(directory: string): Promise<DiskQueueWriter> {
  const writer = await startDiskQueueWriter(directory, ARN, 0, 'never');
  writers.push(writer);
  return writer;
}

/** Leaves a lock as a connector would have: a symbolic link to `<pid>:<process start>:<boot id>:<locked at>`. */
function writeLock(directory: string, holder: { pid: number; processStart: string; bootId?: string }): void {
  const target = [holder.pid, holder.processStart, holder.bootId ?? currentBootId(), 1_764_000_000].join(':');
  fs.symlinkSync(target, join(directory, LOCK_FILE));
}

/** The pid the folder's lock names. */
function lockHolderPid(directory: string): number {
  return Number(fs.readlinkSync(join(directory, LOCK_FILE)).split(':')[0]);
}

/** The start of the boot id, as locks record it. */
function currentBootId(): string {
  return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replaceAll('-', '').slice(0, 8);
}

/** The start time field of `/proc/<pid>/stat`, as the lock records it. */
function processStartOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function takeOverLogged(directory: string, pid: number): LogEntry {
  return expect.objectContaining({
    level: 'warn',
    message: 'Taking over the disk queue lock of a process that no longer runs',
    fields: expect.objectContaining({ directory, pid }) as LogFields,
  }) as LogEntry;
}

beforeEach(() => {
  logs = [];
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const taken of locks.splice(0)) taken.release();
  for (const writer of writers.splice(0)) {
    writer.child.kill('SIGKILL');
    await writer.exited;
  }
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

describe('lockQueueDirectory', () => {
  it('refuses a folder that another running process holds, naming the folder and that process', async () => {
    // Prepare
    const folder = tempFolder();
    const writer = await startWriter(folder);

    // Act
    const locking = () => lock(folder);

    // Assess
    expect(locking).toThrow(QueueDirectoryInUseError);
    expect(locking).toThrow(
      `QueueDirectory ${folder} is in use by another connector process (pid ${writer.child.pid}, since `,
    );
    expect(lockHolderPid(folder)).toBe(writer.child.pid);
  });

  it('takes over the lock of a process killed with SIGKILL, and reports it', async () => {
    // Prepare
    const folder = tempFolder();
    const writer = await startWriter(folder);
    writer.child.kill('SIGKILL');
    await writer.exited;

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
    expect(logs).toContainEqual(takeOverLogged(folder, writer.child.pid!));
  });

  it('takes over a lock whose pid now belongs to a process that started later', () => {
    // Prepare: the parent process runs, but the lock says its holder started at another time.
    const folder = tempFolder();
    const otherStart = String(Number(processStartOf(process.ppid)) + 1);
    writeLock(folder, { pid: process.ppid, processStart: otherStart });

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
    expect(logs).toContainEqual(takeOverLogged(folder, process.ppid));
  });

  it('takes over a lock taken before the machine rebooted, whatever process has its pid now', () => {
    // Prepare
    const folder = tempFolder();
    writeLock(folder, {
      pid: process.ppid,
      processStart: processStartOf(process.ppid),
      bootId: '00000000',
    });

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
    expect(logs).toContainEqual(takeOverLogged(folder, process.ppid));
  });

  it('keeps a lock whose holder runs with the start time it recorded', () => {
    // Prepare
    const folder = tempFolder();
    writeLock(folder, { pid: process.ppid, processStart: processStartOf(process.ppid) });

    // Act
    const locking = () => lock(folder);

    // Assess
    expect(locking).toThrow(`is in use by another connector process (pid ${process.ppid}, since `);
  });

  it("replaces a file in the lock's place that holds no lock, such as an empty one", () => {
    // Prepare
    const folder = tempFolder();
    fs.writeFileSync(join(folder, LOCK_FILE), '');

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
  });

  it('refuses a second lock of the same folder in one process', () => {
    // Prepare
    const folder = tempFolder();
    lock(folder);

    // Act
    const locking = () => lock(folder);

    // Assess
    expect(locking).toThrow(`QueueDirectory ${folder} is already locked by this process`);
  });

  it('deletes its lock file on release, so that the next start takes the folder without a takeover', () => {
    // Prepare
    const folder = tempFolder();
    const first = lock(folder);

    // Act
    first.release();
    const fileAfterRelease = fs.existsSync(join(folder, LOCK_FILE));
    lock(folder);

    // Assess
    expect(fileAfterRelease).toBe(false);
    expect(logs).toEqual([]);
  });

  it('creates a missing folder 0700, whatever the umask', () => {
    // Prepare
    const folder = join(tempFolder(), 'queue');
    const umask = process.umask(0);

    // Act
    try {
      lock(folder);
    } finally {
      process.umask(umask);
    }

    // Assess
    expect((fs.statSync(folder).mode & 0o777).toString(8)).toBe('700');
    expect(lockHolderPid(folder)).toBe(process.pid);
  });

  it('takes the lock on a full disk, where no file can be written', () => {
    // Prepare
    const folder = tempFolder();
    const diskFull = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    jest.spyOn(fs, 'writeSync').mockImplementation(diskFull);
    jest.spyOn(fs, 'writeFileSync').mockImplementation(diskFull);
    jest.spyOn(fs, 'openSync').mockImplementation(diskFull);

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
  });

  it('reports an existing folder that other users may enter, and leaves its mode as it is', () => {
    // Prepare
    const folder = tempFolder();
    fs.chmodSync(folder, 0o755);

    // Act
    lock(folder);

    // Assess
    expect(fs.statSync(folder).mode & 0o777).toBe(0o755);
    expect(logs).toContainEqual({
      level: 'warn',
      message:
        'QueueDirectory is open to other users; the stream folders in it are not, but run chmod 700 on it',
      fields: { directory: folder, mode: '0755' },
    });
  });

  it('names the folder when it cannot be created', () => {
    // Prepare
    const file = join(tempFolder(), 'a-file');
    fs.writeFileSync(file, '');

    // Act
    const locking = () => lock(join(file, 'queue'));

    // Assess
    expect(locking).toThrow(`QueueDirectory ${join(file, 'queue')} cannot be locked: `);
    expect(locking).toThrow('ENOTDIR: not a directory');
  });
});
