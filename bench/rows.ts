/**
 * The rows of the results table and the configuration notes under it, from what the scenarios measured. Targets
 * are from issue #5, the bundle figures from issue #10, the record packing ones from issue #18.
 */
import { availableParallelism } from 'node:os';
import { CONNECTOR_NODE_OPTIONS } from '../runtime/contract';
import type { BundlesResult } from './bundles';
import type { ConnectorLatency, LatencySummary } from './latency';
import type { MemoryResult } from './memory';
import {
  PACKING_OFFERED_PER_SECOND,
  PACKING_QUOTA_MESSAGES,
  type PackingQuotaRun,
  type PackingResults,
} from './packing';
import {
  DELIVERY_STREAM_QUEUE_SIZE,
  DEVICE_BUNDLE,
  LARGE_PAYLOAD,
  METRICS_INTERVAL_SECONDS,
  type Options,
  SMALL_PAYLOAD,
} from './options';
import { bytes, count, mib, ms, rate, type Row, verdict } from './report';
import { median } from './stats';
import type { QuotaDrainResult } from './throttling';
import type { CallSummary, Delivery, DrainResult } from './throughput';

const TARGETS = {
  ceilingRatio: 0.8,
  baselineRatio: 20,
  recordsPerBatch: 450,
  latencyFactor: 2,
  deliveredOfQuota: 0.9,
  refusedPerDelivered: 0.25,
  metricsCpuRatio: 1.02,
  /** Issue 18: billed bytes per payload byte of 200 B messages, packed. */
  packedBilledPerPayloadByte: 1.05,
  /** Issue 18: a backlog behind a 1 MiB/s stream drains in this many times fewer calls, packed. */
  packedFewerCalls: 10,
  /** Issue 18: packed delivery "as fast as" without packing, within this share for run-to-run noise. */
  packedAsFast: 0.95,
} as const;

/** What the scenarios measured; a scenario not run leaves its part empty. */
export interface Results {
  ceiling: DrainResult[];
  connector: DrainResult[];
  binary?: DrainResult;
  large?: DrainResult;
  baseline?: DrainResult;
  latency?: { connector: ConnectorLatency; subscriber: LatencySummary; roundTrip: LatencySummary };
  memory: MemoryResult[];
  throttling: { readonly label: string; readonly result: QuotaDrainResult }[];
  bundles?: BundlesResult;
  /** The same drain with metrics off and on, in interleaved rounds. */
  metrics: { off: DrainResult[]; on: DrainResult[] };
  packing?: PackingResults;
}

function best<T extends DrainResult>(runs: readonly T[]): T | undefined {
  return runs.reduce<T | undefined>(
    (top, run) => (!top || run.messagesPerSecond > top.messagesPerSecond ? run : top),
    undefined,
  );
}

export function buildRows(results: Results, options: Options): Row[] {
  const rows: Row[] = [];
  const ceiling = best(results.ceiling);
  const connector = best(results.connector);
  const backlog = `backlog ${count(options.backlog)}`;
  const bestOf = options.rounds > 1 ? `, best of ${options.rounds}` : '';

  const cpu = (runs: readonly DrainResult[]): number =>
    median(runs.map((run) => run.cpu.subjectMicrosPerMessage));
  const details = (runs: readonly DrainResult[]): string => {
    const [first] = runs;
    const parts = [`${cpu(runs).toFixed(1)} CPU us/msg${runs.length > 1 ? ' (median)' : ''}`];
    if (first?.delivery) {
      const rss = Math.max(...runs.map((run) => run.delivery?.peakRssKb ?? 0));
      const queued = Math.max(...runs.map((run) => run.delivery?.maxQueued ?? 0));
      parts.push(`peak RSS ${mib(rss)}`, `most records queued ${count(queued)}`);
    }
    const perRound =
      runs.length > 1 ? `rounds ${runs.map((run) => count(run.messagesPerSecond)).join(', ')}; ` : '';
    return ` (${perRound}${parts.join(', ')})`;
  };

  if (ceiling) {
    rows.push({
      figure: `Ceiling: bare MQTT.js subscriber process, JSON.parse only (200 B JSON, QoS 1, ${backlog}${bestOf})`,
      value: `${rate(ceiling.messagesPerSecond)}${details(results.ceiling)}`,
    });
  }
  if (connector) {
    rows.push({
      figure: `Connector, JSON 200 B, PublishInterval 1 (${backlog}${bestOf})`,
      value: `${rate(connector.messagesPerSecond)}${details(results.connector)}`,
    });
  }
  if (ceiling && connector) {
    const ratio = connector.messagesPerSecond / ceiling.messagesPerSecond;
    rows.push({
      figure: 'Connector / ceiling (best rounds)',
      value: ratio.toFixed(2),
      target: `>= ${TARGETS.ceilingRatio}`,
      verdict: verdict(ratio >= TARGETS.ceilingRatio),
    });
    rows.push({
      figure:
        'CPU per message, connector / ceiling (median rounds; less sensitive to other load on the machine)',
      value: `${(cpu(results.connector) / cpu(results.ceiling)).toFixed(2)}`,
    });
    const cores = (use: DrainResult['cpu']): string =>
      `mosquitto ${use.broker?.toFixed(2) ?? 'unknown'}, benchmark process ${use.bench.toFixed(2)}`;
    rows.push({
      figure: `Cores busy during the best rounds (of ${availableParallelism()}); the benchmark process runs the endpoint and the status subscriber`,
      value:
        `ceiling: subscriber ${ceiling.cpu.subject.toFixed(2)}, ${cores(ceiling.cpu)}; ` +
        `connector: connector ${connector.cpu.subject.toFixed(2)}, ${cores(connector.cpu)}`,
    });
  }
  const variant = (figure: string, result: DrainResult | undefined, size: number): void => {
    if (!result) return;
    const share = ceiling
      ? `, ${(result.messagesPerSecond / ceiling.messagesPerSecond).toFixed(2)} x ceiling`
      : '';
    const mibPerSecond = (result.messagesPerSecond * size) / 2 ** 20;
    rows.push({
      figure,
      value: `${rate(result.messagesPerSecond)}, ${mibPerSecond.toFixed(1)} MiB/s${share}${details([result])}`,
    });
  };
  variant(`Connector, binary 200 B, PublishInterval 1 (${backlog})`, results.binary, SMALL_PAYLOAD);
  variant(
    `Connector, JSON 4 KiB, PublishInterval 1 (backlog ${count(options.largeBacklog)})`,
    results.large,
    LARGE_PAYLOAD,
  );

  const deliveries = [...results.connector, results.binary, results.large].filter(
    (result): result is DrainResult & { delivery: Delivery } => result?.delivery !== undefined,
  );
  if (deliveries.length > 0) {
    const expected = deliveries.reduce((sum, result) => sum + result.messages, 0);
    const success = deliveries.reduce((sum, result) => sum + result.delivery.statuses.success, 0);
    const failures = deliveries
      .map((result) => result.delivery.statuses.failures)
      .filter((text) => text !== '');
    const sessions = deliveries.every((result) => result.sessionPresent);
    rows.push({
      figure: `Statuses: every record of the ${deliveries.length} connector backlog run(s) reported success`,
      value: `${count(success)} of ${count(expected)}${failures.length > 0 ? `; failures ${failures.join('; ')}` : ''}${sessions ? '' : '; a session was missing'}`,
      target: 'all',
      verdict: verdict(success === expected && sessions),
    });
    const calls = combineCalls(deliveries.map((result) => result.delivery.calls));
    rows.push({
      figure: 'Records per PutRecordBatch call under load (all connector backlog runs)',
      value: `${calls.recordsPerBatch.toFixed(1)} (${count(calls.records)} records in ${count(calls.putRecordBatch)} batches, ${count(calls.putRecord)} PutRecord)`,
      target: `>= ${TARGETS.recordsPerBatch}`,
      verdict: verdict(calls.recordsPerBatch >= TARGETS.recordsPerBatch),
    });
    rows.push({
      figure: 'Firehose API calls per 1,000 records (all connector backlog runs)',
      value: calls.callsPer1000Records.toFixed(2),
    });
  }

  const baseline = results.baseline;
  if (baseline) {
    rows.push({
      figure: `Baseline: one awaited PutRecord per message, sequential (backlog ${count(options.baselineBacklog)})`,
      value: `${rate(baseline.messagesPerSecond)} (${baseline.delivery?.calls.callsPer1000Records.toFixed(0)} calls per 1,000 records, ${baseline.cpu.subjectMicrosPerMessage.toFixed(1)} CPU us/msg)`,
    });
    if (connector) {
      const ratio = connector.messagesPerSecond / baseline.messagesPerSecond;
      rows.push({
        figure: 'Connector / baseline',
        value: ratio.toFixed(1),
        target: `>= ${TARGETS.baselineRatio}`,
        verdict: verdict(ratio >= TARGETS.baselineRatio),
      });
    }
  }

  if (results.latency) {
    const { connector: latency, subscriber, roundTrip } = results.latency;
    const bound = TARGETS.latencyFactor * (subscriber.p99Ms + roundTrip.p50Ms);
    const load = `${count(options.latencyRate)} msg/s for ${options.latencySeconds} s`;
    rows.push({
      figure: `Bare subscriber receive latency, QoS 1, ${load}: p50 / p99`,
      value: `${ms(subscriber.p50Ms)} / ${ms(subscriber.p99Ms)}`,
    });
    rows.push({
      figure: 'Endpoint round trip, one SDK PutRecord (200 B): p50 / p99',
      value: `${ms(roundTrip.p50Ms)} / ${ms(roundTrip.p99Ms)}`,
    });
    rows.push({
      figure: `Connector latency, publish to endpoint, PublishInterval 0, ${load}: p50 / p99 (max)`,
      value:
        `${ms(latency.p50Ms)} / ${ms(latency.p99Ms)} (${ms(latency.maxMs)}); ${count(latency.calls.total)} calls, ` +
        `${(latency.calls.records / Math.max(1, latency.calls.total)).toFixed(1)} records per call, ` +
        `connector CPU ${latency.cores.toFixed(2)} cores`,
      target: `p99 <= 2 x (${ms(subscriber.p99Ms)} + ${ms(roundTrip.p50Ms)}) = ${ms(bound)}`,
      verdict: verdict(latency.p99Ms <= bound),
    });
  }

  if (results.bundles) rows.push(...bundleRows(results.bundles));
  for (const result of results.memory) {
    // config.ts reads MemorySize as KiB (x 1024), the unit of VmHWM too.
    const limitKb = result.memorySizeKb;
    rows.push({
      figure: `Peak RSS (VmHWM), queue full, ${bytes(result.size)} payloads (endpoint 503; ${count(result.accepted)} queued, ${count(result.queueFullStatuses)} QueueFull)`,
      value: mib(result.peakRssKb),
      target: `<= MemorySize ${count(result.memorySizeKb)} KB (${mib(limitKb)})`,
      verdict: verdict(result.peakRssKb <= limitKb),
    });
  }
  for (const { label, result } of results.throttling) rows.push(throttlingRow(label, result));
  if (results.metrics.on.length > 0) rows.push(...metricsRows(results.metrics, backlog));
  if (results.packing) rows.push(...packingRows(results.packing));
  return rows;
}

/** Issue 18's rows: each figure with RecordPacking off, then on, measured in the same run. */
function packingRows(packing: PackingResults): Row[] {
  const rows: Row[] = [];
  const accepted = (run: DrainResult) =>
    run.delivery?.accepted ?? { records: NaN, bytes: NaN, billedBytes: NaN };
  const billedPerByte = (run: DrainResult) => accepted(run).billedBytes / accepted(run).bytes;
  const perSize = (figure: (run: DrainResult) => string): string =>
    packing.efficiency
      .map(({ size, off, on }) => `${bytes(size)}: ${figure(off[0])} → ${figure(on[0])}`)
      .join('; ');
  const backlog = `JSON backlog of ${count(packing.backlog)}, PublishInterval 1`;
  const small = packing.efficiency[0];
  const smallBilled = billedPerByte(small.on[0]);
  rows.push({
    figure: `Record packing, off → on: bytes Firehose bills per payload byte (${backlog})`,
    value: perSize((run) => billedPerByte(run).toFixed(2)),
    target: `<= ${TARGETS.packedBilledPerPayloadByte} at 200 B, on`,
    verdict: verdict(smallBilled <= TARGETS.packedBilledPerPayloadByte),
  });
  rows.push({
    figure: `Record packing, off → on: messages per Firehose record (${backlog})`,
    value: perSize((run) => (run.messages / accepted(run).records).toFixed(1)),
  });
  rows.push({
    figure: `Record packing, off → on: messages per call (${backlog})`,
    value: perSize((run) => (run.messages / Math.max(1, run.delivery?.calls.total ?? 0)).toFixed(0)),
  });
  const cpu = (runs: readonly DrainResult[]) => median(runs.map((run) => run.cpu.subjectMicrosPerMessage));
  const rounds = small.off.length > 1 ? `, median of ${small.off.length} rounds` : '';
  rows.push({
    figure: `Record packing, off → on: connector CPU per message in the backlog drain (JSON 200 B${rounds}; 1 KiB; 4 KiB)`,
    value: packing.efficiency
      .map(({ off, on }) => `${cpu(off).toFixed(1)} → ${cpu(on).toFixed(1)} us`)
      .join('; '),
    target: 'on <= off at 200 B',
    verdict: verdict(cpu(small.on) <= cpu(small.off)),
  });
  const drains = packing.efficiency.flatMap(({ off, on }) => [...off, ...on]);
  const answeredOnce = drains.every(
    (run) =>
      run.delivery !== undefined &&
      run.delivery.statuses.success === run.messages &&
      run.delivery.statuses.entries === run.messages &&
      run.delivery.statuses.distinct === run.messages,
  );
  rows.push({
    figure: `Record packing: every message of the ${drains.length} drains answered once, with success`,
    value: answeredOnce ? 'yes' : 'no',
    target: 'all',
    verdict: verdict(answeredOnce),
  });

  const once = (run: QuotaDrainResult): boolean =>
    run.successStatuses === run.messages &&
    run.statuses === run.messages &&
    run.distinctStatuses === run.messages &&
    run.deliveredMessages >= run.messages;
  const quota = (run: QuotaDrainResult): string =>
    `${run.drainSeconds.toFixed(2)} s, ${count(run.calls)} calls (${(run.calls / run.drainSeconds).toFixed(1)}/s), ` +
    `${count(run.delivered)} records (${run.billedPerPayloadByte.toFixed(2)} billed per payload byte), ` +
    `${run.cpuMicrosPerMessage.toFixed(1)} CPU us/msg, ` +
    `${count(run.successStatuses)} of ${count(run.messages)} success statuses`;
  const { offered, quotaBacklog, freeBacklog } = packing;
  const asFast = offered.off.mostSeconds / offered.on.mostSeconds;
  rows.push({
    figure:
      `Record packing, off → on: ${count(PACKING_QUOTA_MESSAGES)} messages of 200 B offered at ` +
      `${count(PACKING_OFFERED_PER_SECOND)} msg/s to a 1 MiB/s stream: first publish to 95 % of the messages ` +
      '(the last ones wait for the PublishInterval tick, whose phase varies), and to the last record',
    value:
      `${offered.off.mostSeconds.toFixed(2)} s → ${offered.on.mostSeconds.toFixed(2)} s; ` +
      `${quota(offered.off)} → ${quota(offered.on)}`,
    target: `on delivered as fast (>= ${TARGETS.packedAsFast} of off's rate), nothing lost, one status each`,
    verdict: verdict(asFast >= TARGETS.packedAsFast && once(offered.off) && once(offered.on)),
  });
  const backlogRow = (run: PackingQuotaRun, behind: string): Row => {
    const fewer = run.off.calls / run.on.calls;
    return {
      figure:
        `Record packing, off → on: a backlog of ${count(PACKING_QUOTA_MESSAGES)} (200 B) queued during an outage, ` +
        `then drained ${behind}: time to drain (first record to last)`,
      value: `${quota(run.off)} → ${quota(run.on)}; ${fewer.toFixed(1)}x fewer calls`,
      target: `>= ${TARGETS.packedFewerCalls}x fewer calls, nothing lost, one status each`,
      verdict: verdict(fewer >= TARGETS.packedFewerCalls && once(run.off) && once(run.on)),
    };
  };
  rows.push(backlogRow(quotaBacklog, 'behind a 1 MiB/s stream'));
  rows.push(backlogRow(freeBacklog, 'behind a stream without a quota'));
  rows.push({
    figure:
      'Record packing, off → on: connector CPU per message in the backlog drains after an outage (1 MiB/s; no quota)',
    value: [quotaBacklog, freeBacklog]
      .map((run) => `${run.off.cpuMicrosPerMessage.toFixed(1)} → ${run.on.cpuMicrosPerMessage.toFixed(1)} us`)
      .join('; '),
    target: 'on <= off',
    verdict: verdict(
      [quotaBacklog, freeBacklog].every((run) => run.on.cpuMicrosPerMessage <= run.off.cpuMicrosPerMessage),
    ),
  });
  return rows;
}

/** Issue 19's target: CloudWatch metrics cost at most 2 % more CPU per message in a backlog drain. */
function metricsRows(metrics: Results['metrics'], backlog: string): Row[] {
  const cpu = (runs: readonly DrainResult[]): number =>
    median(runs.map((run) => run.cpu.subjectMicrosPerMessage));
  const ratio = cpu(metrics.on) / cpu(metrics.off);
  const calls = metrics.on.map((run) => run.delivery?.metricsCalls ?? 0);
  const rounds = metrics.on.length;
  return [
    {
      figure:
        `CPU per message with CloudWatch metrics on (MetricsIntervalSeconds ${METRICS_INTERVAL_SECONDS}, the shortest) / off, JSON 200 B ` +
        `(${backlog}, median of ${rounds} interleaved round${rounds > 1 ? 's' : ''} each)`,
      value:
        `${ratio.toFixed(3)} (on ${cpu(metrics.on).toFixed(1)}, off ${cpu(metrics.off).toFixed(1)} CPU us/msg; ` +
        `PutMetricData calls per drain ${calls.join(', ')})`,
      target: `<= ${TARGETS.metricsCpuRatio}`,
      verdict: verdict(ratio <= TARGETS.metricsCpuRatio),
    },
  ];
}

/** Issue 11's targets: the stream's quota used, few records refused, every record delivered with one status. */
function throttlingRow(label: string, result: QuotaDrainResult): Row {
  const allDelivered = result.successStatuses === result.messages && result.statuses === result.messages;
  const met =
    allDelivered &&
    result.deliveredOfQuota >= TARGETS.deliveredOfQuota &&
    result.refusedPerDelivered <= TARGETS.refusedPerDelivered;
  return {
    figure: `Throttling: ${label}`,
    value:
      `${result.deliveredOfQuota.toFixed(2)} of the quota (${count(result.delivered)} delivered in ` +
      `${result.seconds.toFixed(1)} s); ${result.refusedPerDelivered.toFixed(3)} refused per delivered; ` +
      `${result.callsPerSecond.toFixed(1)} calls/s, ${count(result.rejectedCalls)} refused whole; ` +
      `${count(result.successStatuses)} of ${count(result.messages)} success statuses`,
    target: `>= ${TARGETS.deliveredOfQuota} of quota, <= ${TARGETS.refusedPerDelivered} refused, all delivered`,
    verdict: verdict(met),
  };
}

function combineCalls(summaries: readonly CallSummary[]): CallSummary {
  const sum = (key: keyof CallSummary): number =>
    summaries.reduce((total, summary) => total + summary[key], 0);
  const batchRecords = summaries.reduce(
    (total, summary) => total + summary.recordsPerBatch * summary.putRecordBatch,
    0,
  );
  const putRecordBatch = sum('putRecordBatch');
  const records = sum('records');
  return {
    total: sum('total'),
    putRecordBatch,
    putRecord: sum('putRecord'),
    rejected: sum('rejected'),
    records,
    recordsPerBatch: putRecordBatch === 0 ? 0 : batchRecords / putRecordBatch,
    callsPer1000Records: records === 0 ? 0 : (sum('total') / records) * 1000,
  };
}

function bundleRows({ device, local, idleRssKb, memorySizeKb }: BundlesResult): Row[] {
  const size = (bundle: BundlesResult['device']): string =>
    `${fileSize(bundle.bytes)}; gzipped ${fileSize(bundle.gzipBytes)}`;
  const starts = idleRssKb.length > 1 ? `; median of ${idleRssKb.length} starts` : '';
  return [
    { figure: 'Device bundle, dist/firehose-connector.js (the Greengrass artifact)', value: size(device) },
    {
      figure:
        'Local bundle, dist/firehose-connector-local.js (npm start: adds the embedded broker and local endpoint)',
      value: size(local),
    },
    {
      figure: `Device bundle RSS when idle (1 s after Ready, before any message, MemorySize ${count(memorySizeKb)} KB${starts})`,
      value: `${mib(median(idleRssKb))}${idleRssKb.length > 1 ? ` (${idleRssKb.map((kb) => mib(kb)).join(', ')})` : ''}`,
    },
  ];
}

function fileSize(size: number): string {
  const shown = size >= 2 ** 20 ? `${(size / 2 ** 20).toFixed(2)} MiB` : `${(size / 1024).toFixed(1)} KiB`;
  return `${shown} (${count(size)} bytes)`;
}

export function configurationNotes(options: Options): string[] {
  const notes = [
    `Backlog runs: PublishInterval 1, MemorySize ${count(options.throughputMemoryKb)} KB, DeliveryStreamQueueSize ` +
      `${count(DELIVERY_STREAM_QUEUE_SIZE)}, so the whole backlog fits in the queue; the connector acknowledges ` +
      'messages as it queues them, so the queue holds most of the backlog at its peak.',
    `Latency: PublishInterval 0, default MemorySize; one second of warm-up at the same rate is not counted.`,
    `Memory: MemorySize ${count(options.memorySizeKb)} KB, DeliveryStreamQueueSize ${count(DELIVERY_STREAM_QUEUE_SIZE)}, ` +
      'every Firehose call answered 503 ServiceUnavailableException; JSON messages are published until QueueFull ' +
      'statuses appear, then 20 % more.',
    'mosquitto: max_queued_messages 1000000, max_inflight_messages 1000 (test/helpers/broker.ts); the backlog is ' +
      'published at QoS 1 by a raw-socket publisher and is queued for the persistent session before the timed drain.',
    'The ceiling, the connector and the baseline each run in a process of their own; the local Firehose endpoint ' +
      'and the status subscriber run in the benchmark process, on the same 2 cores as mosquitto.',
    'CPU us/msg: user + system CPU of the measured process during the drain, per message (from /proc/<pid>/stat).',
  ];
  if (options.bundle !== DEVICE_BUNDLE) {
    notes.push(`Connector bundle: ${options.bundle}`);
  }
  notes.push(
    `Connector Node.js options: ${CONNECTOR_NODE_OPTIONS.join(' ')} (runtime/contract/node-options.ts, as the component ` +
      `runs it)${options.nodeArgs.length > 0 ? `, then ${options.nodeArgs.join(' ')}` : ''}`,
  );
  return notes;
}
