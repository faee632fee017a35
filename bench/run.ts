/**
 * `npm run bench`: the connector's throughput, latency, memory and Firehose efficiency, measured against a real
 * mosquitto and the local Firehose endpoint (both started here, on free ports of 127.0.0.1, and stopped at the end),
 * with the real connector bundle in its own process, started with the Node.js options the component uses
 * (runtime/node-options.ts). Prints a Markdown table with the targets and PASS/FAIL, and writes it to
 * bench/RESULTS.md after a full run.
 *
 * Scenarios (`--scenarios`, comma-separated; all by default):
 *   ceiling    bench/bare-subscriber.ts, an MQTT.js subscriber process that only JSON.parses, draining a QoS 1
 *              backlog queued for its persistent session (subscribe, disconnect, publish the backlog, reconnect,
 *              time from its CONNACK to the last message)
 *   connector  the same backlog through the connector (PublishInterval 1), timed from its intake connection to the
 *              last record at the endpoint; also checks every status arrived, and counts calls per batch
 *   binary     the same with binary messages on kinesisfirehose/message/binary/<id>
 *   large      the same with 4 KiB JSON payloads (a smaller backlog)
 *   baseline   bench/baseline-connector.ts: one awaited PutRecord per message, sequentially, as the v1 connector
 *   latency    publish-to-endpoint latency at PublishInterval 0 and a fixed rate, the bare subscriber's receive
 *              latency at the same rate, and one SDK PutRecord round trip
 *   memory     peak RSS (VmHWM) with the queue full (endpoint answering 503) per payload size
 * ceiling and connector run interleaved for `--rounds` rounds; the best round of each is reported, since other
 * work on the machine only ever slows a round down. Each drain also reports CPU microseconds per message of the
 * process under test (from /proc), which varies much less than the rate on a shared machine.
 *
 * Profiling: `--node-args="--cpu-prof --cpu-prof-dir=DIR"`, then `npx tsx bench/profile-summary.ts DIR/*.cpuprofile`.
 *
 * Options: a flag, or the environment variable beside it (the flag wins):
 *   --scenarios LIST          BENCH_SCENARIOS          all
 *   --rounds N                BENCH_ROUNDS             3
 *   --backlog N               BENCH_BACKLOG            200000   messages, ceiling/connector/binary (200 B)
 *   --large-backlog N         BENCH_LARGE_BACKLOG      50000    messages, large (4 KiB)
 *   --baseline-backlog N      BENCH_BASELINE_BACKLOG   10000    messages, baseline (it is slow; rates compare)
 *   --latency-rate N          BENCH_LATENCY_RATE       1000     messages per second
 *   --latency-seconds N       BENCH_LATENCY_SECONDS    10       measured, after 1 s of warm-up
 *   --memory-sizes LIST       BENCH_MEMORY_SIZES       200,4096,102400,1024000   payload bytes
 *   --memory-size-kb N        BENCH_MEMORY_SIZE_KB     131072   MemorySize for the memory scenario (the deployment default)
 *   --throughput-memory-kb N  BENCH_THROUGHPUT_MEMORY_KB  1048576  MemorySize for the backlog scenarios
 *   --timeout-seconds N       BENCH_TIMEOUT_SECONDS    180      per drain, latency run or memory fill
 *   --bundle PATH             BENCH_BUNDLE             dist/firehose-connector.js (e.g. a scratch build)
 *   --node-args="ARGS"        BENCH_NODE_ARGS          ''       Node.js options for every measured process, e.g.
 *                                                              "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   --results PATH            BENCH_RESULTS            bench/RESULTS.md after a run of every scenario, else none;
 *                                                              "none" never writes
 *   --strict                  BENCH_STRICT=1           exit 1 when a target fails
 *
 * Examples:
 *   npm run bench
 *   npm run bench -- --scenarios latency
 *   BENCH_BACKLOG=50000 BENCH_ROUNDS=1 npx tsx bench/run.ts --scenarios ceiling,connector
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { CONNECTOR_NODE_OPTIONS } from '../runtime/node-options';
import {
  measureConnectorLatency,
  measureEndpointRoundTrip,
  measureSubscriberLatency,
  type ConnectorLatency,
  type LatencySummary,
} from './latency';
import { measureMemory, type MemoryResult } from './memory';
import { bytes, count, describeMachine, markdownTable, mib, ms, rate, type Row, verdict } from './report';
import {
  bareSubscriberUnderTest,
  baselineUnderTest,
  connectorUnderTest,
  measureDrain,
  type CallSummary,
  type Delivery,
  type DrainResult,
} from './throughput';
import { median } from './stats';

const REPOSITORY_ROOT = resolve(__dirname, '..');
const SCENARIOS = ['ceiling', 'connector', 'binary', 'large', 'baseline', 'latency', 'memory'] as const;
type Scenario = (typeof SCENARIOS)[number];

const SMALL_PAYLOAD = 200;
const LARGE_PAYLOAD = 4096;
const DELIVERY_STREAM_QUEUE_SIZE = 10_000_000;

const TARGETS = {
  ceilingRatio: 0.8,
  baselineRatio: 20,
  recordsPerBatch: 450,
  latencyFactor: 2,
} as const;

interface Options {
  readonly scenarios: readonly Scenario[];
  readonly rounds: number;
  readonly backlog: number;
  readonly largeBacklog: number;
  readonly baselineBacklog: number;
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly memorySizes: readonly number[];
  readonly memorySizeKb: number;
  readonly throughputMemoryKb: number;
  readonly timeoutMs: number;
  readonly bundle: string;
  readonly nodeArgs: readonly string[];
  readonly results: string | undefined;
  readonly strict: boolean;
}

const FLAGS = {
  scenarios: 'BENCH_SCENARIOS',
  rounds: 'BENCH_ROUNDS',
  backlog: 'BENCH_BACKLOG',
  'large-backlog': 'BENCH_LARGE_BACKLOG',
  'baseline-backlog': 'BENCH_BASELINE_BACKLOG',
  'latency-rate': 'BENCH_LATENCY_RATE',
  'latency-seconds': 'BENCH_LATENCY_SECONDS',
  'memory-sizes': 'BENCH_MEMORY_SIZES',
  'memory-size-kb': 'BENCH_MEMORY_SIZE_KB',
  'throughput-memory-kb': 'BENCH_THROUGHPUT_MEMORY_KB',
  'timeout-seconds': 'BENCH_TIMEOUT_SECONDS',
  bundle: 'BENCH_BUNDLE',
  'node-args': 'BENCH_NODE_ARGS',
  results: 'BENCH_RESULTS',
} as const;
type Flag = keyof typeof FLAGS;

function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...(Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<
        Flag,
        { type: 'string' }
      >),
      strict: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const text = (flag: Flag): string | undefined => {
    const value = (values as Record<string, string | undefined>)[flag] ?? env[FLAGS[flag]];
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (flag: Flag, fallback: number, min: number): number => {
    const value = text(flag);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new Error(
        `--${flag} (${FLAGS[flag]}) must be an integer of at least ${min}, got ${JSON.stringify(value)}`,
      );
    }
    return parsed;
  };
  const scenarios = (text('scenarios') ?? SCENARIOS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = scenarios.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`Unknown scenario(s) ${unknown.join(', ')}; expected some of ${SCENARIOS.join(', ')}`);
  }
  const memorySizes = (text('memory-sizes') ?? '200,4096,102400,1024000')
    .split(',')
    .map((size) => Number(size));
  if (memorySizes.some((size) => !Number.isInteger(size) || size < 64 || size > 1_024_000)) {
    throw new Error(
      `--memory-sizes must be payload sizes from 64 to 1024000 bytes, got ${text('memory-sizes')}`,
    );
  }
  const all = SCENARIOS.every((scenario) => scenarios.includes(scenario));
  const results = text('results') ?? (all ? resolve(REPOSITORY_ROOT, 'bench', 'RESULTS.md') : 'none');
  return {
    scenarios: scenarios as Scenario[],
    rounds: integer('rounds', 3, 1),
    backlog: integer('backlog', 200_000, 1),
    largeBacklog: integer('large-backlog', 50_000, 1),
    baselineBacklog: integer('baseline-backlog', 10_000, 1),
    latencyRate: integer('latency-rate', 1000, 1),
    latencySeconds: integer('latency-seconds', 10, 1),
    memorySizes,
    memorySizeKb: integer('memory-size-kb', 131072, 32768),
    throughputMemoryKb: integer('throughput-memory-kb', 1_048_576, 32768),
    timeoutMs: integer('timeout-seconds', 180, 1) * 1000,
    bundle: resolve(text('bundle') ?? resolve(REPOSITORY_ROOT, 'dist', 'firehose-connector.js')),
    nodeArgs: (text('node-args') ?? '').split(/\s+/).filter((arg) => arg !== ''),
    results: results === 'none' ? undefined : resolve(results),
    strict: values.strict === true || env.BENCH_STRICT === '1',
  };
}

interface Results {
  ceiling: DrainResult[];
  connector: DrainResult[];
  binary?: DrainResult;
  large?: DrainResult;
  baseline?: DrainResult;
  latency?: { connector: ConnectorLatency; subscriber: LatencySummary; roundTrip: LatencySummary };
  memory: MemoryResult[];
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function describeDrain(result: DrainResult): string {
  const { cpu, delivery } = result;
  const parts = [
    `${count(result.messages)} in ${result.seconds.toFixed(2)} s`,
    `${cpu.subjectMicrosPerMessage.toFixed(1)} CPU us/msg`,
    `cores: process ${cpu.subject.toFixed(2)}, mosquitto ${cpu.broker?.toFixed(2) ?? '?'}, bench ${cpu.bench.toFixed(2)}`,
  ];
  if (delivery) {
    parts.push(
      `${(delivery.calls.records / Math.max(1, delivery.calls.total)).toFixed(1)} records/call`,
      `peak RSS ${mib(delivery.peakRssKb ?? NaN)}`,
    );
    if (delivery.maxQueued !== undefined) parts.push(`most queued ${count(delivery.maxQueued)}`);
  }
  return `${rate(result.messagesPerSecond)} (${parts.join(', ')})`;
}

async function runScenarios(options: Options): Promise<Results> {
  const results: Results = { ceiling: [], connector: [], memory: [] };
  const has = (scenario: Scenario): boolean => options.scenarios.includes(scenario);
  const connectorParameters = {
    PublishInterval: 1,
    MemorySize: options.throughputMemoryKb,
    DeliveryStreamQueueSize: DELIVERY_STREAM_QUEUE_SIZE,
  };
  const connector = connectorUnderTest(options.bundle, connectorParameters, options.nodeArgs);
  const ceiling = bareSubscriberUnderTest(options.nodeArgs);
  const small = { backlog: options.backlog, size: SMALL_PAYLOAD, timeoutMs: options.timeoutMs } as const;

  if (has('ceiling') || has('connector')) {
    for (let round = 1; round <= options.rounds; round++) {
      if (has('ceiling')) {
        const result = await measureDrain(ceiling, { ...small, kind: 'json' });
        results.ceiling.push(result);
        progress(`ceiling round ${round}/${options.rounds}: ${describeDrain(result)}`);
      }
      if (has('connector')) {
        const result = await measureDrain(connector, { ...small, kind: 'json' });
        results.connector.push(result);
        progress(`connector JSON round ${round}/${options.rounds}: ${describeDrain(result)}`);
      }
    }
  }
  if (has('binary')) {
    results.binary = await measureDrain(connector, { ...small, kind: 'binary' });
    progress(`connector binary: ${describeDrain(results.binary)}`);
  }
  if (has('large')) {
    results.large = await measureDrain(connector, {
      backlog: options.largeBacklog,
      size: LARGE_PAYLOAD,
      kind: 'json',
      timeoutMs: options.timeoutMs,
    });
    progress(`connector JSON 4 KiB: ${describeDrain(results.large)}`);
  }
  if (has('baseline')) {
    results.baseline = await measureDrain(baselineUnderTest(options.nodeArgs), {
      ...small,
      backlog: options.baselineBacklog,
      kind: 'json',
    });
    progress(`baseline: ${describeDrain(results.baseline)}`);
  }
  if (has('latency')) {
    const latencyOptions = {
      rate: options.latencyRate,
      seconds: options.latencySeconds,
      size: SMALL_PAYLOAD,
      timeoutMs: options.timeoutMs,
    };
    const roundTrip = await measureEndpointRoundTrip(SMALL_PAYLOAD);
    progress(`endpoint round trip p50 ${ms(roundTrip.p50Ms)}`);
    const subscriber = await measureSubscriberLatency(latencyOptions);
    progress(`bare subscriber latency p50 ${ms(subscriber.p50Ms)}, p99 ${ms(subscriber.p99Ms)}`);
    const connectorLatency = await measureConnectorLatency(options.bundle, latencyOptions, options.nodeArgs);
    progress(
      `connector latency p50 ${ms(connectorLatency.p50Ms)}, p99 ${ms(connectorLatency.p99Ms)}, ` +
        `${count(connectorLatency.calls.total)} calls, CPU ${connectorLatency.cores.toFixed(2)} cores`,
    );
    results.latency = { connector: connectorLatency, subscriber, roundTrip };
  }
  if (has('memory')) {
    for (const size of options.memorySizes) {
      const result = await measureMemory({
        size,
        memorySizeKb: options.memorySizeKb,
        queueSize: DELIVERY_STREAM_QUEUE_SIZE,
        bundle: options.bundle,
        timeoutMs: options.timeoutMs,
        nodeArgs: options.nodeArgs,
      });
      results.memory.push(result);
      progress(
        `memory ${bytes(size)}: peak RSS ${mib(result.peakRssKb)} with ${count(result.accepted)} records queued`,
      );
    }
  }
  return results;
}

function best<T extends DrainResult>(runs: readonly T[]): T | undefined {
  return runs.reduce<T | undefined>(
    (top, run) => (!top || run.messagesPerSecond > top.messagesPerSecond ? run : top),
    undefined,
  );
}

function buildRows(results: Results, options: Options): Row[] {
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

  if (results.memory.length > 0) {
    const idle = median(results.memory.map((result) => result.idleRssKb));
    rows.push({
      figure: 'Connector RSS when idle (1 s after Ready, before any message; median of the memory runs)',
      value: mib(idle),
    });
  }
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
  return rows;
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

function configurationNotes(options: Options): string[] {
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
  if (options.bundle !== resolve(REPOSITORY_ROOT, 'dist', 'firehose-connector.js')) {
    notes.push(`Connector bundle: ${options.bundle}`);
  }
  notes.push(
    `Connector Node.js options: ${CONNECTOR_NODE_OPTIONS.join(' ')} (runtime/node-options.ts, as the component ` +
      `runs it)${options.nodeArgs.length > 0 ? `, then ${options.nodeArgs.join(' ')}` : ''}`,
  );
  return notes;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2), process.env);
  const loadAtStart = loadavg()[0];
  // Ctrl-C: exit handlers of the broker helper and of each child kill what was started.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));

  const started = Date.now();
  const results = await runScenarios(options);
  const rows = buildRows(results, options);
  const machine = describeMachine(loadAtStart);
  const notes = configurationNotes(options);
  const elapsed = `${Math.round((Date.now() - started) / 1000)} s`;
  const markdown = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts, which documents every option). Targets are from issue #5.',
    '',
    markdownTable(rows),
    '',
    '## Configuration',
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    '## Machine',
    '',
    ...machine.map((line) => `- ${line}`),
    `- Run time: ${elapsed}`,
    '',
  ].join('\n');
  // Formatted as `npm run lint` expects, so a fresh RESULTS.md can be committed as it is.
  const config = await resolveConfig(resolve(REPOSITORY_ROOT, 'bench', 'RESULTS.md'));
  const formatted = await format(markdown, { ...config, parser: 'markdown' });
  process.stdout.write(`\n${formatted}`);
  if (options.results) {
    writeFileSync(options.results, formatted);
    progress(`wrote ${relative(process.cwd(), options.results) || options.results}`);
  }
  const failed = rows.filter((row) => row.verdict === 'FAIL').length;
  if (failed > 0) progress(`${failed} target(s) not met`);
  if (options.strict && failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
