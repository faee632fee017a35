import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOCK_FILE,
  lockQueueDirectory,
  QueueDirectoryInUseError,
  QueueDirectoryLock,
} from '../../runtime/disk-queue-lock';
import type { LogFields, Logger } from '../../runtime/logger';
import { DiskQueueWriter, startDiskQueueWriter } from '../helpers/disk-queue-writer';

const ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/s1';

interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly fields?: LogFields;
}

const folders: string[] = [];
const locks: QueueDirectoryLock[] = [];
const writers: DiskQueueWriter[] = [];
let logs: LogEntry[];

function captureLogger(): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) =>
    logs.push({ level, message, fields });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function tempFolder(): string {
  const folder = fs.mkdtempSync(join(tmpdir(), 'disk-queue-lock-'));
  folders.push(folder);
  return folder;
}

function lock(directory: string): QueueDirectoryLock {
  const taken = lockQueueDirectory(directory, captureLogger());
  locks.push(taken);
  return taken;
}

async function startWriter(directory: string): Promise<DiskQueueWriter> {
  const writer = await startDiskQueueWriter(directory, ARN, 0, 'never');
  writers.push(writer);
  return writer;
}

/** Writes a lock file as a connector would have, with the fields given. */
function writeLockFile(directory: string, holder: Record<string, unknown>): void {
  fs.writeFileSync(
    join(directory, LOCK_FILE),
    JSON.stringify({ lockedAt: '2025-01-01T00:00:00.000Z', ...holder }),
  );
}

function lockHolderPid(directory: string): unknown {
  return (JSON.parse(fs.readFileSync(join(directory, LOCK_FILE), 'utf8')) as { pid: unknown }).pid;
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
    writeLockFile(folder, { pid: process.ppid, processStart: otherStart });

    // Act
    lock(folder);

    // Assess
    expect(lockHolderPid(folder)).toBe(process.pid);
    expect(logs).toContainEqual(takeOverLogged(folder, process.ppid));
  });

  it('takes over a lock taken before the machine rebooted, whatever process has its pid now', () => {
    // Prepare
    const folder = tempFolder();
    writeLockFile(folder, {
      pid: process.ppid,
      processStart: processStartOf(process.ppid),
      bootId: '00000000-0000-0000-0000-000000000000',
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
    writeLockFile(folder, { pid: process.ppid, processStart: processStartOf(process.ppid) });

    // Act
    const locking = () => lock(folder);

    // Assess
    expect(locking).toThrow(`is in use by another connector process (pid ${process.ppid}, since `);
  });

  it('replaces a lock file that holds no lock, such as one left empty', () => {
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

  it('creates a missing folder 0700 with a lock file 0600', () => {
    // Prepare
    const folder = join(tempFolder(), 'queue');

    // Act
    lock(folder);

    // Assess
    expect([fs.statSync(folder).mode & 0o777, fs.statSync(join(folder, LOCK_FILE)).mode & 0o777]).toEqual([
      0o700, 0o600,
    ]);
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
