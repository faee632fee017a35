/**
 * A stream at its quota (issue 11): the connector drains a backlog into an endpoint that throttles as the service
 * does (runtime/local/stream-quotas.ts), and the figures compare what it delivered with what the quota allows.
 *
 * A starting point for the throttling section of issue 11: not yet one of the scenarios of bench/run.ts, so it has
 * no rows and no targets. Run it on its own, e.g.
 *   npx tsx -e "require('./bench/throttling').measureQuotaDrain({...}).then(console.log)"
 */
import type { StreamQuota } from '../runtime/local/stream-quotas';
import { Resources, spawnConnector, startStage, StatusCounter } from './environment';
import { FastPublisher } from './fast-publisher';
import { jsonMessage } from './payloads';

export interface QuotaDrainOptions {
  readonly bundle: string;
  /** The stream's quota; `burstSeconds` as the service's, about 1. */
  readonly quota: StreamQuota;
  /** Messages published, each one record. */
  readonly backlog: number;
  /** Bytes of each MQTT payload. */
  readonly size: number;
  readonly timeoutMs: number;
  /** Connector parameters on top of the bench defaults. */
  readonly parameters?: Record<string, string | number>;
  readonly nodeArgs?: readonly string[];
}

export interface QuotaDrainResult {
  readonly delivered: number;
  /** From the first record the endpoint accepted to the last. */
  readonly seconds: number;
  readonly deliveredPerSecond: number;
  /** Records per second the quota allows for records of this size (the tighter of records/s and bytes/s). */
  readonly quotaRecordsPerSecond: number;
  /** Records refused inside PutRecordBatch responses, per record delivered. */
  readonly refusedPerDelivered: number;
  /** Calls refused whole (request quota, or PutRecord over quota). */
  readonly rejectedCalls: number;
  readonly callsPerSecond: number;
  /** Status entries: exactly `backlog` when every record got one status. */
  readonly statuses: number;
  readonly successStatuses: number;
}

export async function measureQuotaDrain(options: QuotaDrainOptions): Promise<QuotaDrainResult> {
  const resources = new Resources();
  try {
    const { broker, endpoint } = await startStage(resources, { quotas: options.quota });
    const statuses = resources.add('status subscriber', await StatusCounter.connect(broker.url), (s) =>
      s.close(),
    );
    let firstAt = 0;
    let lastAt = 0;
    endpoint.onRecords(() => {
      lastAt = performance.now();
      if (firstAt === 0) firstAt = lastAt;
    });
    const connector = resources.add(
      'connector',
      spawnConnector({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        clientId: 'bench-throttling',
        parameters: { PublishInterval: 1, ...options.parameters },
        bundle: options.bundle,
        nodeArgs: options.nodeArgs,
      }),
      (c) => c.stop(),
    );
    await connector.waitForLog((line) => line.message === 'Ready', '"Ready"');
    const publisher = resources.add(
      'publisher',
      await FastPublisher.connect(broker.url, `bench-throttling-publisher-${process.pid}`),
      (p) => p.close(),
    );
    await publisher.publishAll(options.backlog, (index) => jsonMessage(index, options.size));
    const settled = await statuses.until(() => statuses.entries >= options.backlog, options.timeoutMs);
    if (!settled) {
      throw new Error(
        `${statuses.entries} of ${options.backlog} statuses after ${options.timeoutMs} ms. ${connector.describe()}`,
      );
    }
    const { stats, callTotals } = endpoint;
    const seconds = (lastAt - firstAt) / 1000;
    const { quota } = options;
    const recordBytes = stats.acceptedBytes / Math.max(1, stats.acceptedRecords);
    return {
      delivered: stats.acceptedRecords,
      seconds,
      deliveredPerSecond: stats.acceptedRecords / seconds,
      quotaRecordsPerSecond: Math.min(quota.recordsPerSecond, quota.bytesPerSecond / recordBytes),
      refusedPerDelivered: stats.failedRecords / Math.max(1, stats.acceptedRecords),
      rejectedCalls: callTotals.outcomes.rejected,
      callsPerSecond: callTotals.calls / seconds,
      statuses: statuses.entries,
      successStatuses: statuses.success,
    };
  } finally {
    await resources.stopAll();
  }
}
