import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { DiskRecordStore } from '../../runtime/store/disk/disk-record-store';
import type { DiskSyncPolicy } from '../../runtime/store/disk/options';
import { lockQueueDirectory } from '../../runtime/store/disk/queue-lock';

/**
 * A process that uses a disk queue as the connector does: it takes the folder's lock, appends `count` records
 * (record i has request id `r<i>` and data `record <i>`), prints `appended` once every append has resolved, then
 * waits to be killed.
 */
export interface DiskQueueWriter {
  readonly child: ChildProcess;
  /** Resolves with the signal that ended the process. */
  readonly exited: Promise<NodeJS.Signals | null>;
}

/** Starts a writer process and resolves once its appends have resolved. */
export async function startDiskQueueWriter(
  directory: string,
  streamArn: string,
  count: number,
  sync: DiskSyncPolicy,
): Promise<DiskQueueWriter> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', __filename, directory, streamArn, String(count), sync],
    { cwd: resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolveExit) =>
    child.once('exit', (_, signal) => resolveExit(signal)),
  );
  await new Promise<void>((resolveAppended, rejectAppended) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('appended')) resolveAppended();
    });
    child.once('exit', () => rejectAppended(new Error('The writer exited before appending')));
  });
  return { child, exited };
}

if (require.main === module) {
  const [directory, streamArn, count, sync] = process.argv.slice(2);
  lockQueueDirectory(directory);
  const store = DiskRecordStore.open({ directory, streamArn, sync: sync as DiskSyncPolicy });
  const appends = Array.from({ length: Number(count) }, (_, index) =>
    store.append({
      requestId: `r${index}`,
      streamArn,
      data: Buffer.from(`record ${index}`),
      enqueuedAt: Date.now(),
      attempts: 0,
    }),
  );
  void Promise.all(appends).then(() => {
    process.stdout.write('appended\n');
    setInterval(() => undefined, 60_000);
  });
}
