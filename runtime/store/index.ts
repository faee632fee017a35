/**
 * Where queued records wait: the record-store interface, the memory store, and the disk store behind its
 * one door (`disk/`).
 */
export { DiskRecordStore, lockQueueDirectory, storedStreamArns } from './disk';
export type { QueueDirectoryLock } from './disk';
export { MemoryRecordStore } from './memory-record-store';
export type { QueuedRecord, RecordStore } from './record-store';
