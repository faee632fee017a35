import type { ChildLog } from './child';
import { Resources, spawnConnector, startStage, StatusCounter } from './environment';
import { FastPublisher } from './fast-publisher';
import { jsonMessage } from './payloads';

export interface MemoryOptions {
  /** Bytes of each MQTT payload. */
  readonly size: number;
  readonly memorySizeKb: number;
  readonly queueSize: number;
  readonly bundle: string;
  readonly timeoutMs: number;
  readonly nodeArgs?: readonly string[];
}

export interface MemoryResult {
  readonly size: number;
  readonly memorySizeKb: number;
  readonly published: number;
  /** Records the connector accepted into its queue (all still queued: every call fails). */
  readonly accepted: number;
  /** Records refused, with a QueueFull status or otherwise. */
  readonly rejected: number;
  readonly queueFullStatuses: number;
  /** VmHWM: the peak resident set the kernel recorded for the process. */
  readonly peakRssKb: number;
}

const QUEUE_FULL = 'QueueFull';
/** Bytes published per step before checking for QueueFull statuses. */
const STEP_BYTES = 2 * 1024 * 1024;
/** After the first QueueFull, more is published (this share of what went before) to keep the pressure on. */
const EXTRA_SHARE = 0.2;

/**
 * Fills the connector's queue while the endpoint fails every call with 503 (so nothing leaves the queue), until
 * QueueFull statuses appear, then reads the process's peak RSS.
 */
export async function measureMemory(options: MemoryOptions): Promise<MemoryResult> {
  const resources = new Resources();
  try {
    const { broker, endpoint } = await startStage(resources);
    endpoint.failCalls({ code: 'ServiceUnavailableException', status: 503 });
    const statuses = resources.add('status subscriber', await StatusCounter.connect(broker.url), (s) =>
      s.close(),
    );
    const connector = resources.add(
      'connector',
      spawnConnector({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        clientId: 'bench-memory',
        parameters: {
          PublishInterval: 1,
          MemorySize: options.memorySizeKb,
          DeliveryStreamQueueSize: options.queueSize,
          StatsIntervalSeconds: 1,
        },
        bundle: options.bundle,
        nodeArgs: options.nodeArgs,
      }),
      (c) => c.stop(),
    );
    await connector.waitForLog((line) => line.message === 'Ready', '"Ready"');
    const publisher = resources.add(
      'publisher',
      await FastPublisher.connect(broker.url, `bench-memory-publisher-${process.pid}`),
      (p) => p.close(),
    );

    const step = Math.max(1, Math.min(2000, Math.floor(STEP_BYTES / options.size)));
    // Bounded: the budget several times over, in case the connector never reports QueueFull.
    const limit = Math.ceil((4 * options.memorySizeKb * 1024) / options.size) + 2 * step;
    let published = 0;
    const publish = async (count: number): Promise<void> => {
      const first = published;
      await publisher.publishAll(count, (index) => jsonMessage(first + index, options.size), step);
      published += count;
    };
    const deadline = Date.now() + options.timeoutMs;
    while (statuses.failed(QUEUE_FULL) === 0 && published < limit && Date.now() < deadline) {
      await publish(step);
      // Let the connector keep up, so the broker is not what holds the messages.
      await handled(connector.logs, published - 10 * step, 10_000);
    }
    await statuses.until(() => statuses.failed(QUEUE_FULL) > 0, 10_000);
    if (statuses.failed(QUEUE_FULL) === 0) {
      throw new Error(`No QueueFull status after ${published} messages of ${options.size} bytes`);
    }
    await publish(Math.max(step, Math.ceil(published * EXTRA_SHARE)));
    const last = await handled(connector.logs, published, options.timeoutMs);
    const memory = connector.memory();
    if (!memory) throw new Error(`The connector is gone. ${connector.describe()}`);
    return {
      size: options.size,
      memorySizeKb: options.memorySizeKb,
      published,
      accepted: Number(last.received),
      rejected: Number(last.rejected),
      queueFullStatuses: statuses.failed(QUEUE_FULL),
      peakRssKb: memory.peakRssKb,
    };
  } finally {
    await resources.stopAll();
  }
}

/** Waits for a stats line showing at least `count` messages received or rejected; returns it. */
async function handled(logs: readonly ChildLog[], count: number, timeoutMs: number): Promise<ChildLog> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = lastStats(logs);
    if (stats && Number(stats.received) + Number(stats.rejected) >= count) return stats;
    if (count <= 0 && !stats) return { message: 'stats', received: 0, rejected: 0 };
    if (Date.now() > deadline) {
      throw new Error(
        `The connector had not handled ${count} messages after ${timeoutMs} ms (last: ${JSON.stringify(stats)})`,
      );
    }
    await new Promise((tick) => setTimeout(tick, 50));
  }
}

function lastStats(logs: readonly ChildLog[]): ChildLog | undefined {
  for (let index = logs.length - 1; index >= 0; index--)
    if (logs[index].message === 'stats') return logs[index];
  return undefined;
}
