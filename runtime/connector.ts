import type { ConnectorConfig } from './config';
import { type DeliveryStreamTarget, parseDeliveryStreamArn, type RecordSender } from './firehose';
import { describeError, type Logger } from './logger';
import {
  ConnectorErrorCode,
  failStatus,
  type FailStatus,
  type MessageContext,
  parseMessage,
  type StatusEntry,
} from './message';
import { MemoryBudget, SendBudget } from './pacing';
import { MemoryRecordStore, type RecordStore } from './store';
import {
  type StreamCounts,
  StreamDispatcher,
  StreamRegistry,
  type StreamSnapshot,
  TooManyStreamsError,
} from './streams';

export interface ConnectorOptions {
  readonly config: ConnectorConfig;
  readonly sender: RecordSender;
  /** Receives status entries to publish on `kinesisfirehose/message/status`. */
  readonly publishStatus: (entries: StatusEntry[]) => void;
  readonly logger: Logger;
  /** Creates the store of a stream's queue; may throw. @default an in-memory store */
  readonly createStore?: (stream: DeliveryStreamTarget) => RecordStore;
  /** ARNs of streams whose durable stores hold records from an earlier run, to resume at start. */
  readonly storedStreams?: readonly string[];
  /**
   * Called when streams were released, with those still served (to let go of SDK clients) and the last counts of
   * the released ones.
   */
  readonly onStreamsReleased?: (
    served: readonly DeliveryStreamTarget[],
    released: readonly StreamSnapshot[],
  ) => void;
  /**
   * Called for every message refused at intake, with the name of its stream (the default stream when the message
   * names none that could be read) and the status's error code.
   */
  readonly onIntakeRefused?: (streamName: string, errorCode: string) => void;
}

export interface ConnectorStats {
  readonly received: number;
  readonly rejected: number;
  readonly dropped: number;
  readonly delivered: number;
  readonly failed: number;
  readonly retried: number;
  readonly throttled: number;
  readonly queued: number;
  readonly calls: number;
  /** Firehose records accepted: fewer than the messages delivered when they are packed (`RecordPacking`). */
  readonly records: number;
  /** Bytes of those records. */
  readonly bytes: number;
  /** What Firehose bills for those records, each rounded up to the next 5 KB. */
  readonly billedBytes: number;
  /** The streams served now (at most `MaxDeliveryStreams`); released streams count in the totals only. */
  readonly streams: readonly StreamSnapshot[];
}

/**
 * The connector's core, free of MQTT: turns messages into records, hands them to the dispatcher of their delivery
 * stream, ticks the dispatchers every `PublishInterval`, and drains them on shutdown. Every message ends in exactly
 * one status, whatever goes wrong on the way.
 */
export class Connector {
  private readonly registry: StreamRegistry;
  private readonly context: MessageContext;
  /** Messages refused before reaching a queue: invalid, over a limit, or arriving during shutdown. */
  private refusedAtIntake = 0;
  private ticker?: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly options: ConnectorOptions) {
    const { config, logger } = options;
    const budget = new MemoryBudget(config.queueByteBudget);
    const sendBudget = new SendBudget();
    this.context = { defaultStream: config.defaultDeliveryStream, recordSeparator: config.recordSeparator };
    this.registry = new StreamRegistry({
      maxStreams: config.maxDeliveryStreams,
      pinnedArn: config.defaultDeliveryStream.arn,
      create: (stream, onIdle) => this.createDispatcher(stream, budget, sendBudget, onIdle),
      onReleased: (served, released) => options.onStreamsReleased?.(served, released),
      logger,
    });
    this.registry.open(config.defaultDeliveryStream);
    for (const arn of options.storedStreams ?? []) {
      const stream = parseDeliveryStreamArn(arn);
      if (stream) this.registry.open(stream);
      else logger.warn('Ignoring a stored queue whose stream ARN is invalid', { stream: arn });
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
   * Handles one message. Resolves once the record is stored or refused with a status, which is when the message
   * may be acknowledged to the broker. Never rejects: whatever fails becomes a status and a log line.
   * `messageBytes` is the payload's size on the wire when the transport dropped an oversized payload.
   */
  async handleMessage(topic: string, payload: Buffer, messageBytes = payload.length): Promise<void> {
    let requestId = '';
    try {
      const intake = parseMessage(topic, payload, this.context, messageBytes);
      if ('failure' in intake) {
        this.refuse(intake.failure);
        return;
      }
      // Messages read before intake closed can arrive once the queues are closing (IPC hands them over then).
      if (this.stopping) {
        this.refuse(
          failStatus(
            intake.record.requestId,
            ConnectorErrorCode.ShuttingDown,
            'The connector is stopping and takes no new records',
          ),
          intake.record.stream.name,
        );
        return;
      }
      requestId = intake.record.requestId;
      // Most messages go to a stream already served: no promise to wait for then.
      const dispatcher =
        this.registry.served(intake.record.stream.arn) ??
        (await this.dispatcherFor(intake.record.stream, requestId));
      if (!(dispatcher instanceof StreamDispatcher)) {
        this.refuse(dispatcher, intake.record.stream.name);
        return;
      }
      const refusal = await dispatcher.enqueue(intake.record);
      if (refusal) this.publishRefusal(refusal, intake.record.stream.name);
    } catch (error) {
      this.options.logger.error('Could not take in a message; answered it with an InternalError status', {
        topic,
        ...describeError(error),
      });
      this.refuse(
        failStatus(
          requestId,
          ConnectorErrorCode.InternalError,
          `The connector failed to take in this message (${describeError(error).errorMessage})`,
        ),
      );
    }
  }

  /** Sends everything queued now, whatever the interval. */
  flush(): void {
    for (const dispatcher of this.registry.dispatchers()) dispatcher.flush();
  }

  /**
   * Drains every queue until `deadline` (epoch ms), then closes them. Records not delivered by then are reported
   * as failed, unless their store is durable, in which case they wait for the next start.
   */
  async stop(deadline: number): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.ticker);
    await this.registry.close();
    const dispatchers = this.registry.dispatchers();
    const drained = await Promise.all(dispatchers.map((dispatcher) => dispatcher.drain(deadline)));
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.close()));
    return drained.every(Boolean);
  }

  stats(): ConnectorStats {
    const streams = this.registry.dispatchers().map((dispatcher) => dispatcher.stats);
    const released = this.registry.releasedTotals;
    const sum = (key: keyof StreamCounts) =>
      streams.reduce((total, stream) => total + stream[key], released[key]);
    return {
      received: sum('received'),
      rejected: sum('rejected') + this.refusedAtIntake,
      dropped: sum('dropped'),
      delivered: sum('delivered'),
      failed: sum('failed'),
      retried: sum('retried'),
      throttled: sum('throttled'),
      queued: streams.reduce((total, stream) => total + stream.queued, 0),
      calls: sum('calls'),
      records: sum('records'),
      bytes: sum('bytes'),
      billedBytes: sum('billedBytes'),
      streams,
    };
  }

  /** Refuses a message that reached no queue: counted here, since no dispatcher counts it among its rejected. */
  private refuse(status: FailStatus, streamName = this.options.config.defaultDeliveryStream.name): void {
    this.refusedAtIntake++;
    this.publishRefusal(status, streamName);
  }

  private publishRefusal(status: FailStatus, streamName: string): void {
    this.options.onIntakeRefused?.(streamName, status.ErrorCode);
    this.options.publishStatus([status]);
  }

  /** The stream's dispatcher, or the status that refuses the record when the stream cannot be served. */
  private async dispatcherFor(
    stream: DeliveryStreamTarget,
    requestId: string,
  ): Promise<StreamDispatcher | FailStatus> {
    try {
      return await this.registry.acquire(stream);
    } catch (error) {
      if (error instanceof TooManyStreamsError) {
        return failStatus(
          requestId,
          ConnectorErrorCode.TooManyDeliveryStreams,
          `Record rejected for ${stream.name}: ${error.message}`,
        );
      }
      // A disk queue that cannot open (disk full, out of file handles): the record cannot be kept.
      this.options.logger.error('Could not open the queue of a delivery stream', {
        stream: stream.name,
        ...describeError(error),
      });
      return failStatus(
        requestId,
        ConnectorErrorCode.QueueWriteFailed,
        `Record rejected: the queue of ${stream.name} could not be opened (${describeError(error).errorMessage})`,
      );
    }
  }

  private createDispatcher(
    stream: DeliveryStreamTarget,
    budget: MemoryBudget,
    sendBudget: SendBudget,
    onIdle: () => void,
  ): StreamDispatcher {
    const { config, sender, logger, publishStatus, createStore } = this.options;
    return new StreamDispatcher({
      stream,
      store: createStore ? createStore(stream) : new MemoryRecordStore(),
      budget,
      sendBudget,
      sender,
      report: publishStatus,
      logger,
      onIdle,
      queueSize: config.deliveryStreamQueueSize,
      maxDurableBytes: config.queue.diskMaxBytes,
      fullPolicy: config.queue.fullPolicy,
      publishIntervalMs: config.publishIntervalSeconds * 1000,
      maxAttempts: config.recordMaxAttempts,
      maxAgeMs: config.recordMaxAgeSeconds * 1000,
      packing:
        config.recordPacking === 'all-streams' ||
        (config.recordPacking === 'default-stream' && stream.arn === config.defaultDeliveryStream.arn),
    });
  }
}
