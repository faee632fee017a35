import type { QueueFullPolicy } from '../contract';
import {
  bytesPackedInto,
  type DeliveryStreamTarget,
  FirehoseLimits,
  oneRecordPerMessage,
  packMessages,
  type PackedRecord,
  type RecordSender,
} from '../firehose';
import { describeError, type Logger } from '../logger';
import {
  ConnectorErrorCode,
  failStatus,
  type FailStatus,
  type IncomingRecord,
  type StatusEntry,
} from '../message';
import {
  backoffDelayMs,
  type BackoffOptions,
  IntakeHold,
  type MemoryBudget,
  recordFootprint,
  SendBudget,
  StreamPacer,
} from '../pacing';
import type { QueuedRecord, RecordStore } from '../store';
import { settleCall } from './call-settlement';
import { type StreamSnapshot, type StreamStats, zeroCounts } from './stream-counts';

export interface StreamDispatcherOptions {
  readonly stream: DeliveryStreamTarget;
  readonly store: RecordStore;
  /** Shared by every stream: queued bytes of all streams together stay under it. */
  readonly budget: MemoryBudget;
  /** Shared by every stream: calls and bytes in flight of all streams together. @default one for this stream */
  readonly sendBudget?: SendBudget;
  readonly sender: RecordSender;
  /** Receives the status entries of every record that reached an end. */
  readonly report: (entries: StatusEntry[]) => void;
  readonly logger: Logger;
  /** Called each time the stream becomes idle: nothing queued, nothing in flight. */
  readonly onIdle?: () => void;
  /** `DeliveryStreamQueueSize`: most records an in-memory queue holds for this stream. */
  readonly queueSize: number;
  /** Most data bytes a durable (disk) queue holds for this stream. @default no limit */
  readonly maxDurableBytes?: number;
  /** What a full queue does with a new record: refuse it, or drop the oldest queued record. @default 'reject' */
  readonly fullPolicy?: QueueFullPolicy;
  /** `PublishInterval` in milliseconds; 0 sends records as they arrive. */
  readonly publishIntervalMs: number;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  /** Calls in flight at once for this stream. @default 4 */
  readonly maxInFlight?: number;
  /**
   * Pack consecutive queued messages into Firehose records of up to 1,024,000 bytes (`RecordPacking`) when a call
   * is built. The queue keeps one entry per message either way. @default false, one record per message
   */
  readonly packing?: boolean;
  readonly backoff?: BackoffOptions;
  readonly now?: () => number;
}

/** Record bytes one stream may have in calls at once: one full batch, or several smaller ones. */
const MAX_IN_FLIGHT_BYTES = FirehoseLimits.maxBatchBytes;
/**
 * Most messages one call carries when they are packed: 4 MiB of tiny messages would otherwise be hundreds of
 * thousands of statuses from one call. 10,000 messages of 200 bytes make 1.6 MB.
 */
const MAX_PACKED_MESSAGES_PER_CALL = 10_000;
/**
 * Bytes a packed call carries at most, unless one record per message would put more in a call (500 large
 * messages): measured with 4 KiB messages, calls of 4 MiB cost the connector 10 to 20 % more CPU per message than
 * calls of 2 MB, with the same records; and two such calls fit in the bytes one stream may have in flight.
 */
const PACKED_CALL_BYTES = 2 * 1024 * 1024;

/** A call in flight, with what its messages hold reckoned once, when they were leased. */
interface InFlightCall {
  readonly sentAt: number;
  readonly bytes: number;
  /** When its oldest message was queued. */
  readonly oldestEnqueuedAt: number;
}

/**
 * Owns one delivery stream's queue: accepts records, sends them in batches when the interval ticks or a batch is
 * full, retries what failed for a retryable reason after a backoff, and reports every record's end as a status.
 */
export class StreamDispatcher {
  private readonly counters: StreamStats;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  /** Calls in flight, by the messages they carry. */
  private readonly inFlight = new Map<QueuedRecord[], InFlightCall>();
  private flushRequested = false;
  private pumpScheduled = false;
  private consecutiveFailures = 0;
  private backoffTimer?: NodeJS.Timeout;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly hold = new IntakeHold();
  private inFlightBytes = 0;
  private readonly sendBudget: SendBudget;
  private readonly pacer: StreamPacer;
  /** Registered with the send budget while this stream waits for room; wakes the pump. */
  private readonly onSendRoom = (): void => this.pump();

  constructor(private readonly options: StreamDispatcherOptions) {
    this.now = options.now ?? Date.now;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.sendBudget = options.sendBudget ?? new SendBudget();
    this.pacer = new StreamPacer({
      streamName: options.stream.name,
      maxInFlight: this.maxInFlight,
      logger: options.logger,
      now: this.now,
      onReady: () => this.pump(),
    });
    this.counters = { stream: options.stream.arn, ...zeroCounts() };
  }

  get stats(): StreamSnapshot {
    return { ...this.counters, queued: this.options.store.count, oldestAgeMs: this.oldestAgeMs() };
  }

  /** Whether its records wait in files: an idle stream then holds file handles worth giving back at once. */
  get holdsFiles(): boolean {
    return this.options.store.durable;
  }

  /** Nothing queued and no call in flight: the stream may be released. */
  get isIdle(): boolean {
    return this.inFlight.size === 0 && this.options.store.count === 0;
  }

  /** Queues a record, or returns the fail status that refuses it. Resolves once the store holds it. */
  async enqueue(incoming: IncomingRecord): Promise<FailStatus | undefined> {
    const { store, budget, stream } = this.options;
    const record: QueuedRecord = {
      requestId: incoming.requestId,
      streamArn: stream.arn,
      data: incoming.data,
      enqueuedAt: this.now(),
      attempts: 0,
    };
    // A durable store keeps data on disk, so only in-memory queues draw on the memory budget.
    const memoryCost = store.durable ? 0 : recordFootprint(record);
    for (;;) {
      const full = this.fullReason(record, memoryCost);
      if (!full) break;
      if (this.options.fullPolicy !== 'dropOldest' || !(await this.dropOldest())) {
        this.counters.rejected++;
        return failStatus(incoming.requestId, ConnectorErrorCode.QueueFull, `Record rejected: ${full}`);
      }
    }
    budget.reserve(memoryCost);
    const stored = store.append(record);
    this.onRecordsReady();
    try {
      await stored;
    } catch (error) {
      // A disk that is full or gone: refuse the record with a status rather than crash the intake.
      budget.free(memoryCost);
      this.counters.rejected++;
      this.options.logger.error('Could not store a record', { stream: stream.name, ...describeError(error) });
      return failStatus(
        incoming.requestId,
        ConnectorErrorCode.QueueWriteFailed,
        `Record rejected: the queue could not store it (${describeError(error).errorMessage})`,
      );
    }
    this.counters.received++;
    if (this.mustHoldIntake()) await this.hold.whileHeld(() => this.mustHoldIntake());
    return undefined;
  }

  /** The `PublishInterval` tick: send everything queued, in as many batches as it takes. */
  flush(): void {
    if (this.options.store.readyCount === 0) return;
    this.flushRequested = true;
    this.pump();
  }

  /** Sends everything left, ignoring the interval, and resolves when nothing is queued or the deadline passes. */
  async drain(deadline: number): Promise<boolean> {
    this.draining = true;
    // Records waiting out a backoff get one last attempt rather than failing unsent.
    if (this.backoffTimer) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
    }
    // Pacing for a throttled stream goes on: its quota holds during shutdown too.
    this.flush();
    if (this.isIdle) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - this.now()));
    });
    const drained = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return drained;
  }

  /**
   * Stops sending. Records still held are reported as failed, unless the store is durable, in which case they
   * stay for the next start.
   */
  async close(): Promise<void> {
    const keepRecords = this.options.store.durable;
    clearTimeout(this.backoffTimer);
    this.pacer.stop();
    this.sendBudget.forget(this.onSendRoom);
    for (const call of this.inFlight.values()) this.sendBudget.give(call.bytes);
    this.hold.slotFreed();
    this.draining = false;
    const abandoned = [...this.inFlight.keys()].flat();
    this.inFlight.clear();
    const { store } = this.options;
    if (!keepRecords) {
      const left = [...abandoned, ...store.lease(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)];
      if (left.length > 0) {
        this.finish(
          left.map((record) =>
            failStatus(
              record.requestId,
              ConnectorErrorCode.ShuttingDown,
              'The connector stopped before this record was confirmed delivered',
            ),
          ),
          left,
        );
        this.counters.failed += left.length;
        await store.release(left);
      }
    }
    await store.close();
  }

  /** Why `record` does not fit, or undefined when it does. */
  private fullReason(record: QueuedRecord, memoryCost: number): string | undefined {
    const { store, budget, queueSize, maxDurableBytes, stream } = this.options;
    if (store.durable) {
      if (maxDurableBytes !== undefined && store.bytes + record.data.length > maxDurableBytes) {
        return `the disk queue of ${stream.name} holds ${store.bytes} bytes of its ${maxDurableBytes} (QueueDiskSizeMB)`;
      }
      return undefined;
    }
    if (store.count >= queueSize) {
      return `the queue of ${stream.name} holds ${queueSize} records (DeliveryStreamQueueSize)`;
    }
    if (!budget.fits(memoryCost)) {
      return `queued records use the memory that MemorySize allows (${budget.limitBytes} bytes for queues)`;
    }
    return undefined;
  }

  /** Evicts the oldest record waiting to be sent, with a fail status. False when nothing can be evicted. */
  private async dropOldest(): Promise<boolean> {
    const { store, budget } = this.options;
    if (store.readyCount === 0) return false;
    const [oldest] = store.lease(1, Number.MAX_SAFE_INTEGER);
    await store.release([oldest]);
    if (!store.durable) budget.free(recordFootprint(oldest));
    this.counters.dropped++;
    this.options.report([
      failStatus(
        oldest.requestId,
        ConnectorErrorCode.QueueFull,
        'Record dropped: the queue was full and QueueFullPolicy is dropOldest',
      ),
    ]);
    return true;
  }

  /**
   * Holds intake (and so the message's acknowledgement) while no call can start and a backlog is ready, so that
   * during a burst the broker keeps the messages rather than the connector's memory (`intake-hold.ts`). Never during
   * a backoff, when queues must fill to their bound.
   */
  private mustHoldIntake(): boolean {
    const { store } = this.options;
    return (
      !this.backoffTimer && !this.canSendMore() && IntakeHold.worthHolding(store.readyCount, store.readyBytes)
    );
  }

  private onRecordsReady(): void {
    const { store, publishIntervalMs } = this.options;
    const fullBatch =
      store.readyCount >= FirehoseLimits.maxBatchRecords || store.readyBytes >= FirehoseLimits.maxBatchBytes;
    if (publishIntervalMs > 0 && !fullBatch && !this.draining) return;
    // Coalesces the messages MQTT.js emits from one socket read into one batch.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const { store, publishIntervalMs } = this.options;
    if (this.backoffTimer || this.pacer.waiting) return;
    while (store.readyCount > 0) {
      const fullBatch =
        store.readyCount >= FirehoseLimits.maxBatchRecords ||
        store.readyBytes >= FirehoseLimits.maxBatchBytes;
      if (!fullBatch && !this.flushRequested && !this.draining && publishIntervalMs > 0) break;
      if (!this.canSendMore()) break;
      const room = Math.min(MAX_IN_FLIGHT_BYTES - this.inFlightBytes, this.sendBudget.room());
      const size = this.pacer.nextBatch(
        this.readyRecords(),
        store.readyBytes,
        Math.min(FirehoseLimits.maxBatchBytes, room),
      );
      if (!size) break;
      const { batch, records } = this.leaseCall(size.records, size.bytes);
      const bytes = batchBytes(batch);
      this.pacer.spend(records.length, bytes);
      this.inFlightBytes += bytes;
      this.sendBudget.take(bytes);
      this.inFlight.set(batch, { sentAt: this.now(), bytes, oldestEnqueuedAt: oldestEnqueuedAt(batch) });
      void this.send(batch, records);
    }
    if (store.readyCount === 0) this.flushRequested = false;
  }

  /** Firehose records the ready messages make: as many, or about one per full record when they are packed. */
  private readyRecords(): number {
    const { store } = this.options;
    if (!this.options.packing) return store.readyCount;
    return Math.min(
      store.readyCount,
      Math.max(1, Math.ceil(store.readyBytes / FirehoseLimits.maxRecordBytes)),
    );
  }

  /**
   * Leases the messages of the next call, and the Firehose records they go in: `maxRecords` records of
   * `maxBytes` at most. Packing happens here, from what is queued now, so that no message waits for packing.
   */
  private leaseCall(
    maxRecords: number,
    maxBytes: number,
  ): { batch: QueuedRecord[]; records: PackedRecord<QueuedRecord>[] } {
    const { store } = this.options;
    if (!this.options.packing) {
      const batch = store.lease(maxRecords, maxBytes);
      return { batch, records: oneRecordPerMessage(batch) };
    }
    const unpackedCallBytes = (store.readyBytes / store.readyCount) * FirehoseLimits.maxBatchRecords;
    const callBytes = Math.min(maxBytes, Math.max(PACKED_CALL_BYTES, unpackedCallBytes));
    const batch = store.lease(MAX_PACKED_MESSAGES_PER_CALL, Math.min(callBytes, bytesPackedInto(maxRecords)));
    return { batch, records: packMessages(batch) };
  }

  /**
   * Whether another call may start: up to `maxInFlight` calls and one full batch of bytes at once, since each call
   * holds its records two or three times over while the SDK encodes them (base64, JSON, body).
   */
  private canSendMore(): boolean {
    const wanted = Math.min(this.options.store.readyBytes, FirehoseLimits.maxBatchBytes);
    // Room for at least one record of any size, so that a lease (always one record or more) stays in the budget.
    if (this.sendBudget.room() < Math.max(1, Math.min(wanted, FirehoseLimits.maxRecordBytes))) {
      // Other streams hold the calls in flight: send when one of them ends.
      this.sendBudget.whenRoom(this.onSendRoom);
      return false;
    }
    if (this.inFlight.size === 0) return true;
    if (this.inFlight.size >= this.pacer.callWindow) return false;
    const room = MAX_IN_FLIGHT_BYTES - this.inFlightBytes;
    return room >= wanted;
  }

  private async send(batch: QueuedRecord[], records: PackedRecord<QueuedRecord>[]): Promise<void> {
    const { sender, stream, store, logger } = this.options;
    this.counters.calls++;
    const outcomes = await sender.send(stream, records);
    const call = this.inFlight.get(batch);
    if (call === undefined) return; // abandoned by close()
    this.inFlight.delete(batch);
    this.inFlightBytes -= call.bytes;
    this.sendBudget.give(call.bytes);

    const settled = settleCall(records, outcomes, (record) => this.exhaustedReason(record));
    this.counters.delivered += settled.delivered;
    this.counters.failed += settled.failed;
    this.counters.retried += settled.retry.length;
    this.counters.throttled += settled.throttled;
    this.counters.records += settled.accepted.records;
    this.counters.bytes += settled.accepted.bytes;
    this.counters.billedBytes += settled.billedBytes;
    const verdict = this.pacer.settle(call.sentAt, {
      accepted: settled.accepted,
      throttled: settled.throttled,
      wholeDelivered: settled.ended.length === batch.length && settled.failed === 0,
    });
    // Progress ends a backoff's escalation at once; a stream at its quota is slowed down, not backed off.
    if (settled.accepted.records > 0) this.consecutiveFailures = 0;
    const failure =
      settled.callFailure ?? (verdict === 'stalled' ? { code: 'ServiceUnavailableException' } : undefined);
    if (failure) {
      this.consecutiveFailures++;
      const delay = backoffDelayMs(this.consecutiveFailures, this.options.backoff);
      logger.warn('Firehose call failed or was throttled whole; backing off', {
        stream: stream.name,
        records: batch.length,
        retrying: settled.retry.length,
        errorCode: failure.code,
        backoffMs: delay,
      });
      this.startBackoff(delay);
    }
    // Refused records go with the next sends of the stream, as its rate allows, not at the next tick.
    if (settled.retry.length > 0 && !failure) this.flushRequested = true;

    const { statuses, ended, retry } = settled;
    this.finish(statuses, ended);
    await Promise.all([store.release(ended), store.requeue(retry)]);
    this.pump();
    this.hold.slotFreed();
    if (this.isIdle) this.notifyIdle();
  }

  private finish(statuses: StatusEntry[], ended: readonly QueuedRecord[]): void {
    if (!this.options.store.durable) {
      for (const record of ended) this.options.budget.free(recordFootprint(record));
    }
    if (statuses.length > 0) this.options.report(statuses);
  }

  /**
   * Records retried go to the end of the queue, so the oldest record may be neither at the head nor in a call; the
   * head's age still grows while the queue does not move, which is what the metric is for.
   */
  private oldestAgeMs(): number {
    let oldest = this.options.store.nextEnqueuedAt() ?? Number.POSITIVE_INFINITY;
    for (const call of this.inFlight.values()) oldest = Math.min(oldest, call.oldestEnqueuedAt);
    return oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, this.now() - oldest);
  }

  private exhaustedReason(record: QueuedRecord): string | undefined {
    const { maxAttempts, maxAgeMs } = this.options;
    if (record.attempts >= maxAttempts)
      return `gave up after ${record.attempts} attempts, the RecordMaxAttempts limit`;
    const ageMs = this.now() - record.enqueuedAt;
    if (ageMs >= maxAgeMs)
      return `gave up after ${Math.round(ageMs / 1000)} s, the RecordMaxAgeSeconds limit`;
    return undefined;
  }

  private startBackoff(delayMs: number): void {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      // Retried records wait for the next interval tick, as in the v2-4 connector, unless nothing waits.
      if (this.options.publishIntervalMs === 0) this.flushRequested = true;
      this.pump();
    }, delayMs);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.options.onIdle?.();
  }
}

function batchBytes(batch: readonly QueuedRecord[]): number {
  return batch.reduce((total, record) => total + record.data.length, 0);
}

function oldestEnqueuedAt(batch: readonly QueuedRecord[]): number {
  return batch.reduce((oldest, record) => Math.min(oldest, record.enqueuedAt), Number.POSITIVE_INFINITY);
}
