import type { ConnectorConfig } from './config';
import { DeliveryStreamTarget, parseDeliveryStreamArn } from './delivery-stream-arn';
import type { RecordSender } from './firehose-sender';
import type { Logger } from './logger';
import { MemoryBudget } from './memory-budget';
import { MessageContext, parseMessage } from './messages';
import { MemoryRecordStore, RecordStore } from './record-store';
import { ConnectorErrorCode, failStatus, StatusEntry } from './status';
import { StreamDispatcher, StreamSnapshot } from './stream-dispatcher';

export interface ConnectorOptions {
  readonly config: ConnectorConfig;
  readonly sender: RecordSender;
  /** Receives status entries to publish on `kinesisfirehose/message/status`. */
  readonly publishStatus: (entries: StatusEntry[]) => void;
  readonly logger: Logger;
  /** Creates the store of a stream's queue. @default an in-memory store */
  readonly createStore?: (stream: DeliveryStreamTarget) => RecordStore;
  /** ARNs of streams whose durable stores hold records from an earlier run, to resume at start. */
  readonly storedStreams?: readonly string[];
}

export interface ConnectorStats {
  readonly received: number;
  readonly rejected: number;
  readonly dropped: number;
  readonly delivered: number;
  readonly failed: number;
  readonly retried: number;
  readonly queued: number;
  readonly calls: number;
  readonly streams: readonly StreamSnapshot[];
}

/**
 * The connector's core, free of MQTT: turns messages into records, keeps one dispatcher per delivery stream,
 * ticks them every `PublishInterval`, and drains them on shutdown. Every message ends in a status.
 */
export class Connector {
  private readonly dispatchers = new Map<string, StreamDispatcher>();
  private readonly budget: MemoryBudget;
  private readonly context: MessageContext;
  /** Messages refused before reaching a queue: invalid, or arriving during shutdown. */
  private refusedAtIntake = 0;
  private ticker?: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly options: ConnectorOptions) {
    const { config } = options;
    this.budget = new MemoryBudget(config.queueByteBudget);
    this.context = { defaultStream: config.defaultDeliveryStream, recordSeparator: config.recordSeparator };
    this.dispatcherFor(config.defaultDeliveryStream);
    for (const arn of options.storedStreams ?? []) {
      const stream = parseDeliveryStreamArn(arn);
      if (stream) this.dispatcherFor(stream);
      else options.logger.warn('Ignoring a stored queue whose stream ARN is invalid', { stream: arn });
    }
  }

  /** Starts the interval ticks, and sends what a durable queue kept from an earlier run right away. */
  start(): void {
    const resumed = this.stats().queued;
    if (resumed > 0)
      this.options.logger.info('Resuming records kept in the disk queue', { records: resumed });
    this.flush();
    const intervalMs = this.options.config.publishIntervalSeconds * 1000;
    if (intervalMs > 0) {
      this.ticker = setInterval(() => this.flush(), intervalMs);
    }
  }

  /**
   * Handles one MQTT message. Resolves once the record is stored or refused with a status, which is when the
   * message may be acknowledged to the broker. Never rejects.
   */
  async handleMessage(topic: string, payload: Buffer): Promise<void> {
    if (this.stopping) {
      this.refusedAtIntake++;
      this.options.publishStatus([
        failStatus('', ConnectorErrorCode.ShuttingDown, 'The connector is stopping and takes no new records'),
      ]);
      return;
    }
    const intake = parseMessage(topic, payload, this.context);
    if ('failure' in intake) {
      this.refusedAtIntake++;
      this.options.publishStatus([intake.failure]);
      return;
    }
    const refusal = await this.dispatcherFor(intake.record.stream).enqueue(intake.record);
    if (refusal) this.options.publishStatus([refusal]);
  }

  /** Sends everything queued now, whatever the interval. */
  flush(): void {
    for (const dispatcher of this.dispatchers.values()) dispatcher.flush();
  }

  /**
   * Drains every queue until `deadline` (epoch ms), then closes them. Records not delivered by then are reported
   * as failed, unless their store is durable, in which case they wait for the next start.
   */
  async stop(deadline: number): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.ticker);
    const dispatchers = [...this.dispatchers.values()];
    const drained = await Promise.all(dispatchers.map((dispatcher) => dispatcher.drain(deadline)));
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.close()));
    return drained.every(Boolean);
  }

  stats(): ConnectorStats {
    const streams = [...this.dispatchers.values()].map((dispatcher) => dispatcher.stats);
    const sum = (key: keyof Omit<StreamSnapshot, 'stream'>) =>
      streams.reduce((total, stream) => total + stream[key], 0);
    return {
      received: sum('received'),
      rejected: sum('rejected') + this.refusedAtIntake,
      dropped: sum('dropped'),
      delivered: sum('delivered'),
      failed: sum('failed'),
      retried: sum('retried'),
      queued: sum('queued'),
      calls: sum('calls'),
      streams,
    };
  }

  private dispatcherFor(stream: DeliveryStreamTarget): StreamDispatcher {
    let dispatcher = this.dispatchers.get(stream.arn);
    if (!dispatcher) {
      const { config, sender, logger, publishStatus, createStore } = this.options;
      dispatcher = new StreamDispatcher({
        stream,
        store: createStore ? createStore(stream) : new MemoryRecordStore(),
        budget: this.budget,
        sender,
        report: publishStatus,
        logger,
        queueSize: config.deliveryStreamQueueSize,
        maxDurableBytes: config.queue.diskMaxBytes,
        fullPolicy: config.queue.fullPolicy,
        publishIntervalMs: config.publishIntervalSeconds * 1000,
        maxAttempts: config.recordMaxAttempts,
        maxAgeMs: config.recordMaxAgeSeconds * 1000,
      });
      this.dispatchers.set(stream.arn, dispatcher);
    }
    return dispatcher;
  }
}
