/**
 * The disk queue: append-only segment files per stream, crash recovery, and a folder lock. Used only through
 * `DiskRecordStore`, the lock and the list of streams stored.
 */
export { DiskRecordStore } from './disk-record-store';
export { storedStreamArns } from './queue-folder';
export { lockQueueDirectory } from './queue-lock';
export type { QueueDirectoryLock } from './queue-lock';
