import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import mqtt from 'mqtt';
import { Topics } from '../runtime/contract';
import { Resources, spawnConnector, startStage, STREAM_NAME } from './environment';
import { FastPublisher } from './fast-publisher';
import { jsonMessage } from './payloads';
import { percentile } from './stats';
import { summarizeCalls, type CallSummary } from './throughput';

export interface LatencyOptions {
  /** Messages per second. */
  readonly rate: number;
  /** Seconds measured, after one second of warm-up at the same rate. */
  readonly seconds: number;
  readonly size: number;
  readonly timeoutMs: number;
}

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ConnectorLatency extends LatencySummary {
  /** Firehose calls the connector made, warm-up included. */
  readonly calls: CallSummary;
  /** CPU the connector used while messages flowed, in cores. */
  readonly cores: number;
}

const WARM_UP_SECONDS = 1;
const ROUND_TRIP_WARM_UP = 50;
const ROUND_TRIPS = 500;

function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
}

/** The publish time (performance.now(), this process) that a latency message carries at the start of its data. */
function sentAt(data: Buffer | string): number {
  const text = typeof data === 'string' ? data : data.toString('latin1', 0, 24);
  return Number(text.slice(0, text.indexOf('|')));
}

/**
 * Publishes at a fixed rate for warm-up plus `seconds`, each message carrying its publish time, and resolves once
 * `received()` reaches the total or the timeout passes.
 */
async function publishAtRate(
  url: string,
  options: LatencyOptions,
  received: () => number,
): Promise<{ total: number; warmUp: number }> {
  const publisher = await FastPublisher.connect(url, `bench-latency-publisher-${process.pid}`);
  const warmUp = options.rate * WARM_UP_SECONDS;
  const total = warmUp + Math.round(options.rate * options.seconds);
  try {
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * options.rate) / 1000) + 1);
      for (; sent < due; sent++) {
        publisher.publish(jsonMessage(sent, options.size, `${performance.now().toFixed(3)}|`));
      }
      await new Promise((tick) => setTimeout(tick, 1));
    }
    const deadline = Date.now() + options.timeoutMs;
    while (received() < total && Date.now() < deadline) await new Promise((tick) => setTimeout(tick, 20));
    if (received() < total) throw new Error(`Only ${received()} of ${total} latency messages arrived`);
    return { total, warmUp };
  } finally {
    await publisher.close();
  }
}

/** Publish to arrival at the endpoint, through the connector with `PublishInterval` 0. */
export async function measureConnectorLatency(
  bundle: string,
  options: LatencyOptions,
  nodeArgs: readonly string[] = [],
): Promise<ConnectorLatency> {
  const resources = new Resources();
  try {
    const { broker, endpoint } = await startStage(resources);
    const latencies: number[] = [];
    endpoint.onRecords((event) => {
      const now = performance.now();
      for (const record of event.records) latencies.push(now - sentAt(record.data));
    });
    const connector = resources.add(
      'connector',
      spawnConnector({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        clientId: 'bench-latency',
        parameters: { PublishInterval: 0 },
        bundle,
        nodeArgs,
      }),
      (c) => c.stop(),
    );
    await connector.waitForLog((line) => line.message === 'Ready', '"Ready"');
    const cpuBefore = connector.cpuSeconds() ?? NaN;
    const started = performance.now();
    const { warmUp } = await publishAtRate(broker.url, options, () => latencies.length);
    const cores = ((connector.cpuSeconds() ?? NaN) - cpuBefore) / ((performance.now() - started) / 1000);
    // Records may arrive out of publish order across concurrent calls; warm-up is the first second by count.
    return { ...summarize(latencies.slice(warmUp)), calls: summarizeCalls(endpoint.callTotals), cores };
  } finally {
    await resources.stopAll();
  }
}

/** Publish to receipt by a bare MQTT.js subscriber at QoS 1. */
export async function measureSubscriberLatency(options: LatencyOptions): Promise<LatencySummary> {
  const resources = new Resources();
  try {
    const { broker } = await startStage(resources);
    const client = resources.add(
      'latency subscriber',
      await mqtt.connectAsync(broker.url, {
        clientId: 'bench-latency-subscriber',
        reconnectPeriod: 0,
        protocolVersion: 4,
      }),
      (c) => c.endAsync(true),
    );
    await client.subscribeAsync(Topics.json, { qos: 1 });
    const latencies: number[] = [];
    client.on('message', (_topic, payload) => {
      const now = performance.now();
      const message = JSON.parse(payload.toString('utf8')) as { request: { data: string } };
      latencies.push(now - sentAt(message.request.data));
    });
    const { warmUp } = await publishAtRate(broker.url, options, () => latencies.length);
    return summarize(latencies.slice(warmUp));
  } finally {
    await resources.stopAll();
  }
}

/** One `PutRecord` from the AWS SDK to the local endpoint, sequentially, after a warm-up. */
export async function measureEndpointRoundTrip(size: number): Promise<LatencySummary> {
  const resources = new Resources();
  try {
    const { endpoint } = await startStage(resources);
    const client = resources.add(
      'Firehose client',
      new FirehoseClient({
        region: 'us-east-1',
        endpoint: endpoint.url,
        credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
      }),
      (c) => Promise.resolve(c.destroy()),
    );
    const data = Buffer.alloc(size, 'x');
    const times: number[] = [];
    for (let index = 0; index < ROUND_TRIP_WARM_UP + ROUND_TRIPS; index++) {
      const started = performance.now();
      await client.send(new PutRecordCommand({ DeliveryStreamName: STREAM_NAME, Record: { Data: data } }));
      if (index >= ROUND_TRIP_WARM_UP) times.push(performance.now() - started);
    }
    return summarize(times);
  } finally {
    await resources.stopAll();
  }
}
