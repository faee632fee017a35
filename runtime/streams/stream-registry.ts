import type { DeliveryStreamTarget } from '../firehose';
import { describeError, type Logger } from '../logger';
import { type StreamCounts, type StreamSnapshot, zeroCounts } from './stream-counts';
import type { StreamDispatcher } from './stream-dispatcher';

export interface StreamRegistryOptions {
  /** `MaxDeliveryStreams`: most streams served at once, the default stream included. */
  readonly maxStreams: number;
  /** ARN of the default stream, which is served for the connector's whole life. */
  readonly pinnedArn: string;
  /**
   * Makes the dispatcher of a stream, which calls `onIdle` each time it becomes idle; may throw (a disk queue that
   * cannot open).
   */
  readonly create: (stream: DeliveryStreamTarget, onIdle: () => void) => StreamDispatcher;
  /** Called after streams were released, with the streams still served and the released ones' last counts. */
  readonly onReleased: (served: readonly DeliveryStreamTarget[], released: readonly StreamSnapshot[]) => void;
  readonly logger: Logger;
  /** How long an override stream stays served once it holds nothing. @default 10000 */
  readonly idleReleaseMs?: number;
  readonly now?: () => number;
}

/** Thrown by `acquire` when every one of `maxStreams` streams holds records. */
export class TooManyStreamsError extends Error {
  override readonly name = 'TooManyStreamsError';

  constructor(readonly maxStreams: number) {
    super(
      `The connector already serves ${maxStreams} delivery streams, each with records queued (MaxDeliveryStreams)`,
    );
  }
}

interface Entry {
  readonly stream: DeliveryStreamTarget;
  readonly dispatcher: StreamDispatcher;
  lastUsed: number;
}

/**
 * The delivery streams the connector serves at once, so that a publisher naming endless distinct streams cannot
 * grow the process: at most `maxStreams`, an idle override stream (nothing queued, nothing in flight) released after
 * `idleReleaseMs` or as soon as its slot is needed, with its queue's timers and (through `onReleased`) the SDK client
 * of a region no longer used. An idle override stream with a disk queue is released at once: its open files are
 * worth more than the folder's reopening costs.
 */
export class StreamRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Streams whose dispatcher is closing: a new one for the same stream waits, since a disk queue opens once. */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly idleReleaseMs: number;
  private readonly sweeper: NodeJS.Timeout;
  /** Counters of the streams released so far, so that totals survive their dispatchers. */
  private readonly released: StreamCounts = zeroCounts();

  constructor(private readonly options: StreamRegistryOptions) {
    this.now = options.now ?? Date.now;
    this.idleReleaseMs = options.idleReleaseMs ?? 10_000;
    this.sweeper = setInterval(() => this.releaseIdle(), Math.max(1000, this.idleReleaseMs / 2)).unref();
  }

  get size(): number {
    return this.entries.size;
  }

  dispatchers(): StreamDispatcher[] {
    return [...this.entries.values()].map((entry) => entry.dispatcher);
  }

  /** Totals of the streams released so far. */
  get releasedTotals(): StreamCounts {
    return { ...this.released };
  }

  /** The dispatcher of a stream served now, if it is; synchronous, for the message path's common case. */
  served(arn: string): StreamDispatcher | undefined {
    const existing = this.entries.get(arn);
    if (existing) existing.lastUsed = this.now();
    return existing?.dispatcher;
  }

  /**
   * The dispatcher of `stream`, made if needed. Throws `TooManyStreamsError` when the limit is reached and no
   * stream is idle, or the error of a dispatcher that cannot be made.
   */
  async acquire(stream: DeliveryStreamTarget): Promise<StreamDispatcher> {
    const existing = this.served(stream.arn);
    if (existing) return existing;
    await this.closing.get(stream.arn);
    // Another message for the same stream may have made it meanwhile.
    const raced = this.entries.get(stream.arn);
    if (raced) return raced.dispatcher;
    if (this.entries.size >= this.options.maxStreams) {
      const idlest = this.idlest();
      if (!idlest) throw new TooManyStreamsError(this.options.maxStreams);
      this.release([idlest]);
    }
    return this.add(stream);
  }

  /** Makes the dispatcher of a stream the connector must serve from the start (the default, or a stored queue). */
  open(stream: DeliveryStreamTarget): StreamDispatcher {
    return this.entries.get(stream.arn)?.dispatcher ?? this.add(stream);
  }

  /** Stops the idle sweep and waits for released dispatchers to close; the caller closes the served ones. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all(this.closing.values());
  }

  private add(stream: DeliveryStreamTarget): StreamDispatcher {
    const dispatcher = this.options.create(stream, () => this.onIdle(stream.arn));
    this.entries.set(stream.arn, { stream, dispatcher, lastUsed: this.now() });
    return dispatcher;
  }

  private onIdle(arn: string): void {
    const entry = this.entries.get(arn);
    if (!entry?.dispatcher.holdsFiles) return;
    // After the call's statuses and store updates of this turn; a message may take the stream meanwhile.
    setImmediate(() => {
      if (this.entries.get(arn) === entry && this.releasable(entry)) this.release([entry]);
    });
  }

  /** The override stream that has been idle longest, if any is idle. */
  private idlest(): Entry | undefined {
    let idlest: Entry | undefined;
    for (const entry of this.entries.values()) {
      if (!this.releasable(entry)) continue;
      if (!idlest || entry.lastUsed < idlest.lastUsed) idlest = entry;
    }
    return idlest;
  }

  private releaseIdle(): void {
    const cutoff = this.now() - this.idleReleaseMs;
    const idle = [...this.entries.values()].filter(
      (entry) => this.releasable(entry) && entry.lastUsed <= cutoff,
    );
    if (idle.length > 0) this.release(idle);
  }

  private releasable(entry: Entry): boolean {
    return entry.stream.arn !== this.options.pinnedArn && entry.dispatcher.isIdle;
  }

  private release(entries: readonly Entry[]): void {
    const snapshots: StreamSnapshot[] = [];
    for (const entry of entries) {
      const { arn } = entry.stream;
      this.entries.delete(arn);
      const counters = entry.dispatcher.stats;
      snapshots.push(counters);
      for (const key of Object.keys(this.released) as (keyof StreamCounts)[]) {
        this.released[key] += counters[key];
      }
      const closed = entry.dispatcher
        .close()
        .catch((error: unknown) =>
          this.options.logger.error('Could not close the queue of a released delivery stream', {
            stream: entry.stream.name,
            ...describeError(error),
          }),
        )
        .finally(() => this.closing.delete(arn));
      this.closing.set(arn, closed);
    }
    this.options.logger.debug('Released idle delivery streams', {
      streams: entries.map((entry) => entry.stream.name),
      served: this.entries.size,
    });
    this.options.onReleased(
      [...this.entries.values()].map((entry) => entry.stream),
      snapshots,
    );
  }
}
