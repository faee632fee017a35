import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CallTotals } from '../test/helpers/firehose-endpoint';
import { Topics } from '../runtime/contract';
import { BenchChild, cpuSecondsOf } from './child';
import {
  createSession,
  INPUT_TOPICS,
  Resources,
  spawnConnector,
  startStage,
  StatusCounter,
  STREAM_NAME,
} from './environment';
import { FastPublisher } from './fast-publisher';
import { messageMaker, type MessageKind, recordBytesOf } from './payloads';

const REPOSITORY_ROOT = resolve(__dirname, '..');
const STATUS_TIMEOUT_MS = 30_000;

export interface DrainOptions {
  readonly backlog: number;
  readonly kind: MessageKind;
  /** Bytes of each MQTT payload. */
  readonly size: number;
  readonly timeoutMs: number;
}

/** CPU used during the timed drain, in cores (CPU seconds per wall second) unless named otherwise. */
export interface CpuUse {
  /** CPU microseconds the process under test spent per message. */
  readonly subjectMicrosPerMessage: number;
  readonly subject: number;
  readonly broker: number | undefined;
  /** This process: the local Firehose endpoint and the status subscriber. */
  readonly bench: number;
}

export interface DrainResult {
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** How fast the fast publisher queued the backlog in the broker (for information). */
  readonly publishPerSecond: number;
  /** The session was there when the process connected, so the backlog was waiting for it. */
  readonly sessionPresent: boolean;
  readonly cpu: CpuUse;
  /** For processes that send to Firehose. */
  readonly delivery?: Delivery;
}

export interface Delivery {
  readonly statuses: {
    readonly entries: number;
    readonly success: number;
    /** Messages answered at least once: `entries` when each got exactly one status. */
    readonly distinct: number;
    readonly failures: string;
  };
  readonly calls: CallSummary;
  /** Firehose records the endpoint accepted, their bytes, and what the service would bill for them. */
  readonly accepted: { readonly records: number; readonly bytes: number; readonly billedBytes: number };
  readonly peakRssKb: number | undefined;
  /** Most records queued in the connector, from its stats lines (one a second); undefined for the baseline. */
  readonly maxQueued: number | undefined;
  /** PutMetricData calls the local CloudWatch endpoint answered during the run. */
  readonly metricsCalls: number;
}

export interface CallSummary {
  readonly total: number;
  readonly putRecordBatch: number;
  readonly putRecord: number;
  readonly rejected: number;
  readonly records: number;
  /** Accepted records per PutRecordBatch call. */
  readonly recordsPerBatch: number;
  /** Calls of any kind per 1,000 accepted records. */
  readonly callsPer1000Records: number;
}

export interface ProcessUnderTest {
  /**
   * Starts the process against the stage. It must log "Connected to the MQTT broker" with connection intake; one
   * that does not send to Firehose must log "Drained" with `lastAt` (epoch ms) after `count` messages.
   */
  start(stage: {
    brokerUrl: string;
    endpointUrl: string;
    cloudWatchUrl: string;
    clientId: string;
    count: number;
  }): BenchChild;
  /** The topics its persistent session subscribes to. */
  readonly topics: readonly string[];
  /** True when it sends records to Firehose and publishes statuses. */
  readonly delivers: boolean;
}

const CHILD_ENV = { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench-secret' };

/** The ceiling: bench/bare-subscriber.ts, an MQTT.js subscriber that only JSON.parses, run with tsx. */
export function bareSubscriberUnderTest(nodeArgs: readonly string[] = []): ProcessUnderTest {
  return {
    topics: [Topics.json],
    delivers: false,
    start: ({ brokerUrl, clientId, count }) =>
      BenchChild.spawn(
        'bare subscriber',
        [...nodeArgs, '--import', 'tsx', benchScript('bare-subscriber.ts')],
        {
          PATH: process.env.PATH,
          BENCH_BROKER_URL: brokerUrl,
          BENCH_CLIENT_ID: clientId,
          BENCH_COUNT: String(count),
        },
      ),
  };
}

/** The connector bundle with `parameters`; its stats line comes every second, for the queue depth. */
export function connectorUnderTest(
  bundle: string,
  parameters: Record<string, string | number>,
  nodeArgs: readonly string[] = [],
): ProcessUnderTest {
  return {
    topics: INPUT_TOPICS,
    delivers: true,
    start: ({ brokerUrl, endpointUrl, cloudWatchUrl, clientId }) =>
      spawnConnector({
        brokerUrl,
        endpointUrl,
        cloudWatchUrl,
        clientId,
        parameters: { StatsIntervalSeconds: 1, ...parameters },
        bundle,
        nodeArgs,
      }),
  };
}

/** bench/baseline-connector.ts, run with tsx. */
export function baselineUnderTest(nodeArgs: readonly string[] = []): ProcessUnderTest {
  return {
    topics: [Topics.json],
    delivers: true,
    start: ({ brokerUrl, endpointUrl, clientId }) =>
      BenchChild.spawn('baseline', [...nodeArgs, '--import', 'tsx', benchScript('baseline-connector.ts')], {
        PATH: process.env.PATH,
        ...CHILD_ENV,
        AWS_ENDPOINT_URL_FIREHOSE: endpointUrl,
        BENCH_BROKER_URL: brokerUrl,
        BENCH_CLIENT_ID: clientId,
        BENCH_STREAM_NAME: STREAM_NAME,
      }),
  };
}

function benchScript(name: string): string {
  return resolve(REPOSITORY_ROOT, 'bench', name);
}

/** Queues `count` messages in the broker for an offline persistent session. */
async function fillBacklog(url: string, options: DrainOptions): Promise<number> {
  const publisher = await FastPublisher.connect(url, `bench-publisher-${process.pid}`);
  try {
    const started = performance.now();
    await publisher.publishAll(options.backlog, messageMaker(options.kind, options.size));
    return options.backlog / ((performance.now() - started) / 1000);
  } finally {
    await publisher.close();
  }
}

function timeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what()}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Drains a backlog through a process: the backlog is queued in the broker for the process's persistent session
 * (created beforehand, so it subscribes once), then the process starts and is timed from its intake connection to
 * the last message: the last record at the endpoint for one that delivers (also checking that every status
 * arrived), its "Drained" line otherwise.
 */
export async function measureDrain(subject: ProcessUnderTest, options: DrainOptions): Promise<DrainResult> {
  const resources = new Resources();
  try {
    const { broker, endpoint, cloudWatch } = await startStage(resources);
    const clientId = 'bench-subject';
    await createSession(broker.url, clientId, subject.topics);
    const publishPerSecond = await fillBacklog(broker.url, options);
    const statuses = subject.delivers
      ? resources.add('status subscriber', await StatusCounter.connect(broker.url), (s) => s.close())
      : undefined;

    // Counted in bytes, the same for every message of a run, so that packed records count their messages.
    const messageBytes = recordBytesOf(options.kind, options.size);
    const backlogBytes = options.backlog * messageBytes;
    let bytes = 0;
    const deliveredMessages = (): number => Math.floor(bytes / Math.max(1, messageBytes));
    let lastAt = 0;
    const delivered = new Promise<void>((resolveDelivered) => {
      endpoint.onRecords((event) => {
        bytes += event.bytes;
        if (bytes >= backlogBytes && lastAt === 0) {
          lastAt = Date.now();
          resolveDelivered();
        }
      });
    });
    const brokerCpu = brokerCpuReader(broker.port);
    const child = resources.add(
      'process under test',
      subject.start({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        cloudWatchUrl: cloudWatch.url,
        clientId,
        count: options.backlog,
      }),
      (c) => c.stop(),
    );
    const connected = await child.waitForLog(
      (line) => line.message === 'Connected to the MQTT broker' && line.connection === 'intake',
      'its intake connection',
    );
    const before = { subject: child.cpuSeconds() ?? 0, broker: brokerCpu(), bench: process.cpuUsage() };
    let messages = options.backlog;
    if (subject.delivers) {
      await timeout(
        delivered,
        options.timeoutMs,
        () =>
          `${deliveredMessages()} of ${options.backlog} messages reached the endpoint. ${child.describe()}`,
      );
      messages = deliveredMessages();
    } else {
      const drained = await child.waitForLog(
        (line) => line.message === 'Drained',
        '"Drained"',
        options.timeoutMs,
      );
      lastAt = Number(drained.lastAt);
    }
    const subjectCpu = (child.cpuSeconds() ?? NaN) - before.subject;
    const brokerSeconds = (brokerCpu() ?? NaN) - (before.broker ?? NaN);
    const benchUsage = process.cpuUsage(before.bench);
    const peakRssKb = child.memory()?.peakRssKb;
    const seconds = (lastAt - Date.parse(connected.time ?? '')) / 1000;
    const cpu: CpuUse = {
      subjectMicrosPerMessage: (subjectCpu * 1e6) / messages,
      subject: subjectCpu / seconds,
      broker: Number.isNaN(brokerSeconds) ? undefined : brokerSeconds / seconds,
      bench: (benchUsage.user + benchUsage.system) / 1e6 / seconds,
    };
    let delivery: Delivery | undefined;
    if (statuses) {
      await statuses.until(() => statuses.entries >= options.backlog, STATUS_TIMEOUT_MS);
      const queued = child.logs.filter((line) => line.message === 'stats').map((line) => Number(line.queued));
      delivery = {
        statuses: {
          entries: statuses.entries,
          success: statuses.success,
          distinct: statuses.ids.size,
          failures: [...statuses.failures].map(([code, count]) => `${code}: ${count}`).join(', '),
        },
        calls: summarizeCalls(endpoint.callTotals),
        accepted: {
          records: endpoint.stats.acceptedRecords,
          bytes: endpoint.stats.acceptedBytes,
          billedBytes: endpoint.stats.billedBytes,
        },
        peakRssKb,
        maxQueued: queued.length > 0 ? Math.max(...queued) : undefined,
        metricsCalls: cloudWatch.calls.length,
      };
    }
    return {
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      publishPerSecond,
      sessionPresent: connected.sessionPresent === true,
      cpu,
      delivery,
    };
  } finally {
    await resources.stopAll();
  }
}

/**
 * Reads the CPU seconds of the mosquitto listening on `port` (found by its config file in /proc), or undefined
 * when it cannot be found.
 */
function brokerCpuReader(port: number): () => number | undefined {
  let pid: number | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!args[0]?.endsWith('mosquitto')) continue;
      const config = args[args.indexOf('-c') + 1];
      if (config && readFileSync(config, 'utf8').includes(`listener ${port} `)) pid = Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return () => (pid === undefined ? undefined : cpuSecondsOf(pid));
}

export function summarizeCalls(totals: CallTotals): CallSummary {
  const { calls, putRecord, putRecordBatch, outcomes, storedRecords, storedBatchRecords } = totals;
  return {
    total: calls,
    putRecordBatch,
    putRecord,
    rejected: outcomes.rejected + outcomes.hung,
    records: storedRecords,
    recordsPerBatch: putRecordBatch === 0 ? 0 : storedBatchRecords / putRecordBatch,
    callsPer1000Records: storedRecords === 0 ? 0 : (calls / storedRecords) * 1000,
  };
}
