/**
 * A stream at its quota (issue 11): the connector sends into an endpoint that throttles as the service does
 * (runtime/local/stream-quotas.ts: records/s, bytes/s and requests/s buckets that refill continuously and hold one
 * second), either a backlog queued at once or messages offered at a steady rate above the quota, and the figures
 * compare what it delivered with what the quota allows.
 */
import type { StreamQuota } from '../runtime/local/stream-quotas';
import { Resources, spawnConnector, startStage, StatusCounter } from './environment';
import { FastPublisher } from './fast-publisher';
import { jsonMessage, recordBytesOf } from './payloads';

export interface QuotaDrainOptions {
  readonly bundle: string;
  /** The stream's quota; `burstSeconds` as the service's, about 1. */
  readonly quota: StreamQuota;
  /** Messages published, each one record. */
  readonly messages: number;
  /** Publish at this many messages per second; all at once (a backlog) when not set. */
  readonly offeredPerSecond?: number;
  /**
   * Queue the whole backlog in the connector first, while the endpoint refuses every call (an outage), then
   * let the endpoint answer: the drain then starts from a full queue, however fast this machine takes messages in.
   * Calls, CPU and the time to drain count from then. @default false
   */
  readonly afterOutage?: boolean;
  /** The stream has no quota, to compare with one. @default false */
  readonly unlimited?: boolean;
  /** Bytes of each MQTT payload. */
  readonly size: number;
  readonly timeoutMs: number;
  /** Connector parameters on top of the bench defaults. */
  readonly parameters?: Record<string, string | number>;
  readonly nodeArgs?: readonly string[];
}

export interface QuotaDrainResult {
  readonly messages: number;
  /** Firehose records delivered: one per message, or fewer when they are packed. */
  readonly delivered: number;
  /** Messages delivered, counted in bytes (every message of a run has the same size). */
  readonly deliveredMessages: number;
  /**
   * From the first message published (after an outage: from the first record the endpoint accepted) to the last
   * record it accepted.
   */
  readonly drainSeconds: number;
  /** From the first message published to the record that took the messages delivered to 95 % of them. */
  readonly mostSeconds: number;
  /** Firehose calls of every kind, refused ones included (after an outage: from its end). */
  readonly calls: number;
  /** What the service would bill for the records it accepted, per byte of them. */
  readonly billedPerPayloadByte: number;
  /** CPU microseconds the connector spent per message, from its Ready line (or the outage's end) to the last status. */
  readonly cpuMicrosPerMessage: number;
  /** From the first record the endpoint accepted to the last. */
  readonly seconds: number;
  /** Records per second the quota allows for records of this size (the tighter of records/s and bytes/s). */
  readonly quotaRecordsPerSecond: number;
  /**
   * Delivered records per second over the run, leaving out the one second of burst the quota's bucket starts
   * with, divided by the quota: 1 means the stream took all it allows.
   */
  readonly deliveredOfQuota: number;
  /** Records refused inside PutRecordBatch responses, per record delivered. */
  readonly refusedPerDelivered: number;
  /** Calls refused whole (request quota, or PutRecord over quota). */
  readonly rejectedCalls: number;
  readonly callsPerSecond: number;
  /** Status entries: exactly `messages` when every record got one status. */
  readonly statuses: number;
  readonly successStatuses: number;
  /** Messages answered at least once: `statuses` when each got exactly one. */
  readonly distinctStatuses: number;
}

export async function measureQuotaDrain(options: QuotaDrainOptions): Promise<QuotaDrainResult> {
  const resources = new Resources();
  try {
    const { broker, endpoint } = await startStage(resources, {
      quotas: options.unlimited ? undefined : options.quota,
    });
    const statuses = resources.add('status subscriber', await StatusCounter.connect(broker.url), (s) =>
      s.close(),
    );
    let firstAt = 0;
    let lastAt = 0;
    // 95 % of the messages, counted in bytes: the last ones wait for the next PublishInterval tick, at a time that
    // depends on when the run started, so the time to the last record varies by up to an interval between runs.
    const messageBytes = recordBytesOf('json', options.size);
    const mostBytes = 0.95 * options.messages * messageBytes;
    let acceptedBytes = 0;
    let mostAt = 0;
    endpoint.onRecords((event) => {
      lastAt = performance.now();
      if (firstAt === 0) firstAt = lastAt;
      acceptedBytes += event.bytes;
      if (mostAt === 0 && acceptedBytes >= mostBytes) mostAt = lastAt;
    });
    const connector = resources.add(
      'connector',
      spawnConnector({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        clientId: 'bench-throttling',
        parameters: {
          PublishInterval: 1,
          ...(options.afterOutage ? { StatsIntervalSeconds: 1 } : {}),
          ...options.parameters,
        },
        bundle: options.bundle,
        nodeArgs: options.nodeArgs,
      }),
      (c) => c.stop(),
    );
    await connector.waitForLog((line) => line.message === 'Ready', '"Ready"');
    let cpuBefore = connector.cpuSeconds() ?? NaN;
    if (options.afterOutage) endpoint.failCalls({ count: Infinity });
    const publisher = resources.add(
      'publisher',
      await FastPublisher.connect(broker.url, `bench-throttling-publisher-${process.pid}`),
      (p) => p.close(),
    );
    const make = (index: number) => jsonMessage(index, options.size);
    const publishedAt = performance.now();
    if (options.offeredPerSecond === undefined) await publisher.publishAll(options.messages, make);
    else await publishAtRate(publisher, options.messages, options.offeredPerSecond, make);
    if (options.afterOutage) {
      await connector.waitForLog(
        (line) => line.message === 'stats' && Number(line.queued) >= options.messages,
        'the whole backlog queued',
        options.timeoutMs,
      );
      endpoint.clearFaults();
      endpoint.clear();
      cpuBefore = connector.cpuSeconds() ?? NaN;
    }
    const settled = await statuses.until(() => statuses.entries >= options.messages, options.timeoutMs);
    if (!settled) {
      throw new Error(
        `${statuses.entries} of ${options.messages} statuses after ${options.timeoutMs} ms. ${connector.describe()}`,
      );
    }
    const cpuSeconds = (connector.cpuSeconds() ?? NaN) - cpuBefore;
    const { stats, callTotals } = endpoint;
    const seconds = (lastAt - firstAt) / 1000;
    const { quota } = options;
    const recordBytes = stats.acceptedBytes / Math.max(1, stats.acceptedRecords);
    const quotaRecordsPerSecond = Math.min(quota.recordsPerSecond, quota.bytesPerSecond / recordBytes);
    const burst = quotaRecordsPerSecond * (quota.burstSeconds ?? 1);
    return {
      messages: options.messages,
      delivered: stats.acceptedRecords,
      deliveredMessages: Math.floor(stats.acceptedBytes / messageBytes),
      drainSeconds: (lastAt - (options.afterOutage ? firstAt : publishedAt)) / 1000,
      mostSeconds: (mostAt - publishedAt) / 1000,
      calls: callTotals.calls,
      billedPerPayloadByte: stats.billedBytes / stats.acceptedBytes,
      cpuMicrosPerMessage: (cpuSeconds * 1e6) / options.messages,
      seconds,
      quotaRecordsPerSecond,
      deliveredOfQuota: (stats.acceptedRecords - burst) / seconds / quotaRecordsPerSecond,
      refusedPerDelivered: stats.failedRecords / Math.max(1, stats.acceptedRecords),
      rejectedCalls: callTotals.outcomes.rejected,
      callsPerSecond: callTotals.calls / seconds,
      statuses: statuses.entries,
      successStatuses: statuses.success,
      distinctStatuses: statuses.ids.size,
    };
  } finally {
    await resources.stopAll();
  }
}

/** Publishes `count` messages spread evenly at `perSecond`, in writes of a few milliseconds' worth. */
async function publishAtRate(
  publisher: FastPublisher,
  count: number,
  perSecond: number,
  make: (index: number) => ReturnType<typeof jsonMessage>,
): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * perSecond) / 1000) + 1);
    for (; sent < due; sent++) publisher.publish(make(sent));
    await new Promise((tick) => setTimeout(tick, 5));
  }
  await publisher.flush();
}

const MIB = 1024 * 1024;
/** A records/s quota low enough for this machine to offer ten times over (the service's defaults are 100,000+). */
const RECORDS_QUOTA: StreamQuota = {
  recordsPerSecond: 1000,
  bytesPerSecond: 5 * MIB,
  requestsPerSecond: 1000,
};
/** The default bytes/s quota outside us-east-1, us-west-2 and eu-west-1. */
export const BYTES_QUOTA: StreamQuota = {
  recordsPerSecond: 100_000,
  bytesPerSecond: MIB,
  requestsPerSecond: 1000,
};

export interface ThrottlingCase {
  readonly label: string;
  readonly quota: StreamQuota;
  readonly messages: number;
  readonly offeredPerSecond?: number;
  readonly size: number;
}

/** The rows of the throttling section (issue 11): each takes 20 to 35 s. */
export const THROTTLING_CASES: readonly ThrottlingCase[] = [
  {
    label: '200 B at 2x a 1,000 records/s quota (20,000 offered over 10 s)',
    quota: RECORDS_QUOTA,
    messages: 20_000,
    offeredPerSecond: 2000,
    size: 200,
  },
  {
    label: '200 B at 10x a 1,000 records/s quota (20,000 offered over 2 s)',
    quota: RECORDS_QUOTA,
    messages: 20_000,
    offeredPerSecond: 10_000,
    size: 200,
  },
  {
    label: '64 KiB at 2x a 1 MiB/s quota (512 offered over 16 s)',
    quota: BYTES_QUOTA,
    messages: 512,
    offeredPerSecond: 32,
    size: 64 * 1024,
  },
  {
    label: 'a backlog of 20,000 (200 B) behind a 1,000 records/s quota',
    quota: RECORDS_QUOTA,
    messages: 20_000,
    size: 200,
  },
];
