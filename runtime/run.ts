import type { FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { CONFIG_ERROR_HEADING, type ConnectorConfig } from './config';
import { Connector, type ConnectorStats } from './connector';
import {
  MAX_SHUTDOWN_TIMEOUT_SECONDS,
  MIN_MEMORY_SIZE_KB,
  MIN_QUEUE_BYTE_BUDGET,
  ProblemsError,
  Topics,
} from './contract';
import { FirehoseSender, parseDeliveryStreamArn } from './firehose';
import { describeError, type Logger } from './logger';
import { CloudWatchSender, MetricsPublisher, type StreamSample } from './metrics';
import { DiskRecordStore, lockQueueDirectory, type QueueDirectoryLock, storedStreamArns } from './store';
import { StatusPublisher, type StreamSnapshot } from './streams';
import { describeSources, openTransports, type Transport } from './transport';

/** Time allowed at shutdown for the last statuses to be acknowledged by the broker. */
const STATUS_FLUSH_TIMEOUT_MS = 2000;

export interface RunOptions {
  readonly logger: Logger;
  /** Fixed AWS credentials (the local mode); the SDK's default chain otherwise. */
  readonly credentials?: FirehoseClientConfig['credentials'];
}

export interface RunningConnector {
  /**
   * Resolves once every input topic is subscribed and statuses can go out, which the log says with `Ready`. The
   * connector does not wait for it: what it takes in before then is sent every `PublishInterval` and stopped
   * cleanly, so a refused subscription or a status connection that never comes up strands nothing.
   */
  readonly ready: Promise<void>;
  stats(): ConnectorStats;
  /** Stops intake, flushes what is queued within `ShutdownTimeoutSeconds`, publishes the statuses, disconnects. */
  stop(): Promise<void>;
}

/**
 * Starts the connector: Firehose sender, queues, the input and status connections, and a periodic stats line.
 * Returns at once, sending on its interval from the start, so that a SIGTERM's handler can stop it however far
 * the connections got.
 */
export function runConnector(config: ConnectorConfig, options: RunOptions): RunningConnector {
  const { logger } = options;
  const sender = new FirehoseSender({
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    credentials: options.credentials,
  });
  // The transport needs the connector's message handler, and the connector publishes through the transport.
  const transportLink: { transport?: Transport } = {};
  const statuses = new StatusPublisher((payload) => transportLink.transport!.publishStatus(payload), logger);
  const { queue } = config;
  const onDisk = queue.store === 'disk';
  const queueLock = onDisk ? lockQueue(queue.directory, logger) : undefined;
  // The connector reports to the metrics, and the metrics sample the connector.
  const metricsLink: { connector?: Connector } = {};
  const metrics = config.metrics
    ? new MetricsPublisher({
        periodMs: config.metrics.periodSeconds * 1000,
        sample: () => metricsLink.connector!.stats().streams.map(streamSample),
        defaultStream: config.defaultDeliveryStream.name,
        maxStreams: config.maxDeliveryStreams,
        sender: new CloudWatchSender({
          namespace: config.metrics.namespace,
          region: config.defaultDeliveryStream.region,
          coreDevice: config.metrics.coreDevice,
          credentials: options.credentials,
        }),
        logger,
      })
    : undefined;
  const connector = new Connector({
    config,
    sender,
    logger,
    publishStatus: (entries) => statuses.report(entries),
    createStore: onDisk
      ? (stream) =>
          DiskRecordStore.open({
            directory: queue.directory,
            streamArn: stream.arn,
            sync: queue.diskSync,
            logger,
          })
      : undefined,
    storedStreams: onDisk ? storedStreamArns(queue.directory) : [],
    onStreamsReleased: (served, released) => {
      sender.retainRegionsOf(served);
      for (const snapshot of released) metrics?.streamReleased(streamSample(snapshot));
    },
    onIntakeRefused: metrics && ((stream, errorCode) => metrics.countRefusal(stream, errorCode)),
  });
  metricsLink.connector = connector;

  logger.info('Starting the Firehose connector', {
    defaultDeliveryStream: config.defaultDeliveryStream.arn,
    publishIntervalSeconds: config.publishIntervalSeconds,
    deliveryStreamQueueSize: config.deliveryStreamQueueSize,
    maxDeliveryStreams: config.maxDeliveryStreams,
    queueStore: queue.store,
    queueDirectory: onDisk ? queue.directory : undefined,
    queueByteBudget: config.queueByteBudget,
    metricsNamespace: config.metrics?.namespace,
    ...describeSources(config),
  });
  if (config.memorySizeTooSmall) {
    logger.warn(
      `MemorySize ${config.memorySizeKb} KB is less than the connector needs with a full queue; give it at least ` +
        `${MIN_MEMORY_SIZE_KB} KB. Queued records are limited to ` +
        `${MIN_QUEUE_BYTE_BUDGET / 1024 / 1024} MiB, and the process may use more memory than MemorySize.`,
    );
  }
  if (config.shutdownOutlastsNucleusRestart) {
    logger.warn(
      `ShutdownTimeoutSeconds ${config.shutdownTimeoutSeconds} is more than a nucleus restart (an update, a ` +
        `bootstrap, a rollback) leaves the component: give it at most ${MAX_SHUTDOWN_TIMEOUT_SECONDS} s, or a ` +
        `restart may kill the connector while it flushes, and the memory queue's last records get no status.`,
    );
  }
  const transport = openTransports(
    config,
    (topic, payload, messageBytes) => connector.handleMessage(topic, payload, messageBytes),
    logger,
  );
  transportLink.transport = transport;
  connector.start();
  metrics?.start();
  let stopping: Promise<void> | undefined;
  const ready = transport.ready().then(() => {
    if (!stopping) logger.info('Ready', { topics: [Topics.json, Topics.binary], statusTopic: Topics.status });
  });

  const statsTimer =
    config.statsIntervalSeconds > 0
      ? setInterval(() => logger.info('stats', { ...connector.stats() }), config.statsIntervalSeconds * 1000)
      : undefined;

  const stop = async (): Promise<void> => {
    const started = Date.now();
    const deadline = started + config.shutdownTimeoutSeconds * 1000;
    clearInterval(statsTimer);
    logger.info('Stopping: intake closed, flushing queued records', { queued: connector.stats().queued });
    // Intake closing hands the messages already read to the connector first. One may wait for a send slot (the
    // intake hold); the flush does not wait past its deadline for it, and once the queues close, what is still
    // waiting is answered with ConnectorShuttingDown.
    const intakeClosed = transport
      .stopIntake()
      .catch((error: unknown) => logger.warn('Closing intake failed', describeError(error)));
    await withTimeout(intakeClosed, Math.max(0, deadline - Date.now()));
    const drained = await connector.stop(deadline);
    await withTimeout(intakeClosed, STATUS_FLUSH_TIMEOUT_MS);
    // Statuses are QoS 1: wait for the broker's acknowledgements, but not forever if it is gone. The last metrics
    // go meanwhile, within the same time.
    await Promise.all([
      withTimeout(statuses.flush(), STATUS_FLUSH_TIMEOUT_MS),
      metrics &&
        withTimeout(
          metrics
            .stop()
            .catch((error: unknown) => logger.warn('Sending the last metrics failed', describeError(error))),
          STATUS_FLUSH_TIMEOUT_MS,
        ),
    ]);
    await withTimeout(transport.close(), STATUS_FLUSH_TIMEOUT_MS);
    sender.destroy();
    queueLock?.release();
    logger.info(
      drained ? 'Stopped after delivering every queued record' : 'Stopped with records undelivered',
      {
        ...connector.stats(),
        elapsedMs: Date.now() - started,
      },
    );
  };
  return {
    ready,
    stats: () => connector.stats(),
    stop: () => (stopping ??= stop()),
  };
}

/** A stream's counts as the metrics take them, named as its ARN names it (every served stream's ARN was parsed). */
function streamSample(snapshot: StreamSnapshot): StreamSample {
  return {
    ...snapshot,
    arn: snapshot.stream,
    name: parseDeliveryStreamArn(snapshot.stream)?.name ?? snapshot.stream,
  };
}

/** Takes the disk queue folder for this process; a folder in use or unusable is a configuration error. */
function lockQueue(directory: string, logger: Logger): QueueDirectoryLock {
  try {
    return lockQueueDirectory(directory, logger);
  } catch (error) {
    throw new ProblemsError(CONFIG_ERROR_HEADING, [describeError(error).errorMessage]);
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
