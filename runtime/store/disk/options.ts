import { PARAMETERS } from '../../contract';
import { createLogger, type Logger } from '../../logger';

/**
 * When the disk queue forces its writes to the device (the `QueueDiskSync` parameter). Every write reaches the
 * operating system before the call that made it resolves, which alone survives a kill (SIGKILL) or a crash of the
 * process with nothing lost; the policy decides what a power cut or a kernel crash may take:
 * - `always`: `fdatasync` before `append` and `release` resolve (calls of one event-loop turn share one); nothing
 *   whose append resolved is lost, and nothing whose release resolved is sent again.
 * - `periodic`: `fdatasync` of the files written to, every `syncIntervalMs`; records appended in the last interval
 *   may be lost, and records released in it sent again.
 * - `never`: the operating system writes when it likes (about 30 s on Linux); that much may be lost or sent again,
 *   including records requeued in that time.
 *
 * Except with `never`, a requeue syncs the copies at the tail before it acknowledges the old copies, so a power
 * cut can duplicate a retried record but never lose it.
 */
export type DiskSyncPolicy = (typeof PARAMETERS.QueueDiskSync.choices)[number];

export interface DiskRecordStoreOptions {
  /** Root folder of the disk queue; each delivery stream gets a folder of its own inside it. */
  readonly directory: string;
  /** ARN of the delivery stream whose records the store holds. */
  readonly streamArn: string;
  /** When writes are forced to the device. @default 'periodic' */
  readonly sync?: DiskSyncPolicy;
  /** Time between two syncs of the `periodic` policy. @default 1000 */
  readonly syncIntervalMs?: number;
  /** Size from which appends go to a new segment file; delivered segments are deleted whole. @default 16 MiB */
  readonly segmentBytes?: number;
  /** Receives reports of damaged files and of write failures. @default a logger of warnings and errors to stdout */
  readonly logger?: Logger;
}

const DEFAULTS = {
  sync: PARAMETERS.QueueDiskSync.default,
  syncIntervalMs: 1000,
  segmentBytes: 16 * 1024 * 1024,
} as const satisfies Partial<DiskRecordStoreOptions>;

const SYNC_POLICIES: readonly DiskSyncPolicy[] = PARAMETERS.QueueDiskSync.choices;
const MIN_SEGMENT_BYTES = 1024;
/** Acknowledgements hold offsets as 32-bit numbers. */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const MAX_SYNC_INTERVAL_MS = 3_600_000;

/** The options with their defaults; throws naming every invalid option. */
export function resolveDiskStoreOptions(options: DiskRecordStoreOptions): Required<DiskRecordStoreOptions> {
  const resolved: Required<DiskRecordStoreOptions> = {
    directory: options.directory,
    streamArn: options.streamArn,
    sync: options.sync ?? DEFAULTS.sync,
    syncIntervalMs: options.syncIntervalMs ?? DEFAULTS.syncIntervalMs,
    segmentBytes: options.segmentBytes ?? DEFAULTS.segmentBytes,
    logger: options.logger ?? createLogger('warn'),
  };
  const problems: string[] = [];
  if (typeof resolved.directory !== 'string' || resolved.directory === '') {
    problems.push(`directory must be a folder path, got ${JSON.stringify(resolved.directory)}`);
  }
  if (typeof resolved.streamArn !== 'string' || resolved.streamArn === '') {
    problems.push(`streamArn must be a delivery stream ARN, got ${JSON.stringify(resolved.streamArn)}`);
  }
  if (!SYNC_POLICIES.includes(resolved.sync)) {
    problems.push(`sync must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(resolved.sync)}`);
  }
  if (!isIntegerIn(resolved.syncIntervalMs, 1, MAX_SYNC_INTERVAL_MS)) {
    problems.push(
      `syncIntervalMs must be an integer from 1 to ${MAX_SYNC_INTERVAL_MS}, got ${resolved.syncIntervalMs}`,
    );
  }
  if (!isIntegerIn(resolved.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES)) {
    problems.push(
      `segmentBytes must be an integer from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}, got ${resolved.segmentBytes}`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid disk queue options: ${problems.join('; ')}`);
  return resolved;
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
