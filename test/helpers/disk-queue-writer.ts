/**
 * Appends records to a disk queue, prints `appended` once every append has resolved, then waits to be killed.
 * Run as `node --require tsx/cjs test/helpers/disk-queue-writer.ts <directory> <streamArn> <count> <sync>`.
 * Record i has request id `r<i>` and data `record <i>`.
 */
import { DiskRecordStore, DiskSyncPolicy } from '../../runtime/disk-record-store';

const [directory, streamArn, count, sync] = process.argv.slice(2);
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
