/**
 * `npm run bench`: the connector's throughput, latency, memory, bundle sizes and Firehose efficiency, measured
 * against a real mosquitto and the local Firehose endpoint. Scenarios, options and how to read the figures:
 * bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { relative, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { measureBundles } from './bundles';
import { measureConnectorLatency, measureEndpointRoundTrip, measureSubscriberLatency } from './latency';
import { measureMemory } from './memory';
import {
  DELIVERY_STREAM_QUEUE_SIZE,
  LARGE_PAYLOAD,
  LOCAL_BUNDLE,
  METRICS_INTERVAL_SECONDS,
  type Options,
  readOptions,
  REPOSITORY_ROOT,
  type Scenario,
  SMALL_PAYLOAD,
} from './options';
import { bytes, count, describeMachine, markdownTable, mib, ms, rate } from './report';
import { buildRows, configurationNotes, type Results } from './rows';
import {
  bareSubscriberUnderTest,
  baselineUnderTest,
  connectorUnderTest,
  measureDrain,
  type DrainResult,
} from './throughput';
import { measurePacking } from './packing';
import { measureQuotaDrain, THROTTLING_CASES } from './throttling';

/** Idle starts of the device bundle in the bundles scenario. */
const IDLE_STARTS = 3;

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
  const results: Results = {
    ceiling: [],
    connector: [],
    memory: [],
    throttling: [],
    metrics: { off: [], on: [] },
  };
  const has = (scenario: Scenario): boolean => options.scenarios.includes(scenario);
  if (has('bundles')) {
    results.bundles = await measureBundles({
      deviceBundle: options.bundle,
      localBundle: LOCAL_BUNDLE,
      memorySizeKb: options.memorySizeKb,
      starts: IDLE_STARTS,
      nodeArgs: options.nodeArgs,
    });
    const { device, local, idleRssKb } = results.bundles;
    progress(
      `bundles: device ${count(device.bytes)} bytes (${count(device.gzipBytes)} gzipped), local ` +
        `${count(local.bytes)} bytes (${count(local.gzipBytes)} gzipped); idle RSS ${idleRssKb.map((kb) => mib(kb)).join(', ')}`,
    );
  }
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
  if (has('metrics')) {
    const withMetrics = connectorUnderTest(
      options.bundle,
      {
        ...connectorParameters,
        MetricsNamespace: 'Bench/FirehoseConnector',
        MetricsIntervalSeconds: METRICS_INTERVAL_SECONDS,
      },
      options.nodeArgs,
    );
    for (let round = 1; round <= options.rounds; round++) {
      const off = await measureDrain(connector, { ...small, kind: 'json' });
      results.metrics.off.push(off);
      progress(`metrics off, round ${round}/${options.rounds}: ${describeDrain(off)}`);
      const on = await measureDrain(withMetrics, { ...small, kind: 'json' });
      results.metrics.on.push(on);
      progress(
        `metrics on, round ${round}/${options.rounds}: ${describeDrain(on)}, ` +
          `${on.delivery?.metricsCalls ?? 0} PutMetricData calls`,
      );
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
  if (has('throttling')) {
    for (const { label, ...scenario } of THROTTLING_CASES) {
      const result = await measureQuotaDrain({
        ...scenario,
        bundle: options.bundle,
        timeoutMs: options.timeoutMs,
        parameters: connectorParameters,
        nodeArgs: options.nodeArgs,
      });
      results.throttling.push({ label, result });
      progress(
        `throttling, ${label}: ${result.deliveredOfQuota.toFixed(2)} of the quota, ` +
          `${result.refusedPerDelivered.toFixed(3)} refused per delivered, ${result.callsPerSecond.toFixed(1)} calls/s`,
      );
    }
  }
  if (has('packing')) {
    results.packing = await measurePacking({
      bundle: options.bundle,
      backlog: options.packingBacklog,
      rounds: options.rounds,
      parameters: connectorParameters,
      timeoutMs: options.timeoutMs,
      nodeArgs: options.nodeArgs,
      progress,
    });
  }
  return results;
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
    'Written by `npm run bench` (bench/README.md documents every scenario and option). Targets are from issue #5, ' +
      'those of the record packing rows from issue #18.',
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
