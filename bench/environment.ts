import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { TestCloudWatchEndpoint } from '../test/helpers/cloudwatch-endpoint';
import { TestFirehoseEndpoint } from '../test/helpers/firehose-endpoint';
import { CONNECTOR_ENVIRONMENT, PARAMETERS, Topics, connectorNodeOptions } from '../runtime/contract';
import type { QuotaSetting } from '../runtime/local/stream-quotas';
import type { StatusEntry } from '../runtime/message';
import { startTestBroker, type TestBroker } from '../test/helpers/broker';
import { BenchChild } from './child';

export const STREAM_NAME = 'bench';
export const STREAM_ARN = `arn:aws:firehose:us-east-1:123456789012:deliverystream/${STREAM_NAME}`;
export const INPUT_TOPICS = [Topics.json, Topics.binary];

/** Things to stop at the end, newest first, whatever happened in between. */
export class Resources {
  private readonly stops: { name: string; stop: () => Promise<unknown> }[] = [];

  add<T>(name: string, resource: T, stop: (resource: T) => Promise<unknown>): T {
    this.stops.push({ name, stop: () => stop(resource) });
    return resource;
  }

  async stopAll(): Promise<void> {
    while (this.stops.length > 0) {
      const { name, stop } = this.stops.pop()!;
      try {
        await stop();
      } catch (error) {
        process.stderr.write(`bench: stopping ${name} failed: ${(error as Error).message}\n`);
      }
    }
  }
}

/**
 * A fresh mosquitto, a fresh local Firehose endpoint and a local CloudWatch endpoint (for connectors with metrics on),
 * all on free ports of 127.0.0.1.
 */
export interface Stage {
  readonly broker: TestBroker;
  readonly endpoint: TestFirehoseEndpoint;
  readonly cloudWatch: TestCloudWatchEndpoint;
}

export interface StageOptions {
  /**
   * Throughput quotas of the endpoint's streams, as the service enforces them.
   * @default - none
   */
  readonly quotas?: QuotaSetting;
}

export async function startStage(resources: Resources, options: StageOptions = {}): Promise<Stage> {
  const broker = resources.add('mosquitto', await startTestBroker({ kind: 'mosquitto' }), (b) => b.stop());
  const endpoint = resources.add(
    'Firehose endpoint',
    await TestFirehoseEndpoint.start({
      host: '127.0.0.1',
      streams: [STREAM_NAME],
      keepRecords: false,
      quotas: options.quotas,
    }),
    (e) => e.stop(),
  );
  const cloudWatch = resources.add(
    'CloudWatch endpoint',
    await TestCloudWatchEndpoint.start({ host: '127.0.0.1' }),
    (e) => e.stop(),
  );
  return { broker, endpoint, cloudWatch };
}

/** Opens a persistent session subscribed to `topics` at QoS 1 and leaves it, so the broker queues for it. */
export async function createSession(url: string, clientId: string, topics: readonly string[]): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    clientId,
    clean: false,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  try {
    await client.subscribeAsync([...topics], { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

/** Counts the status entries the connector publishes. */
export class StatusCounter {
  entries = 0;
  success = 0;
  readonly failures = new Map<string, number>();
  /** Request ids answered, to tell one status per message from duplicates. */
  readonly ids = new Set<string>();
  lastAt = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (_topic, payload) => {
      const { response } = JSON.parse(payload.toString('utf8')) as { response: StatusEntry[] };
      for (const entry of response) {
        this.ids.add(entry.id);
        if (entry.status === 'success') this.success++;
        else this.failures.set(entry.ErrorCode, (this.failures.get(entry.ErrorCode) ?? 0) + 1);
      }
      this.entries += response.length;
      this.lastAt = Date.now();
      for (const wake of [...this.waiters]) wake();
    });
  }

  static async connect(url: string): Promise<StatusCounter> {
    const client = await mqtt.connectAsync(url, {
      clientId: `bench-status-${process.pid}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    await client.subscribeAsync(Topics.status, { qos: 1 });
    return new StatusCounter(client);
  }

  failed(code: string): number {
    return this.failures.get(code) ?? 0;
  }

  /** Resolves true once `condition` holds, false after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.waiters.add(wake);
      });
    }
    return true;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export interface ConnectorLaunch {
  readonly brokerUrl: string;
  readonly endpointUrl: string;
  /** The local CloudWatch endpoint, for a connector with metrics on. @default - none */
  readonly cloudWatchUrl?: string;
  readonly clientId: string;
  /** Connector parameters on top of the defaults below. */
  readonly parameters: Record<string, string | number>;
  /** Bundle to run. @default dist/firehose-connector.js of this repository */
  readonly bundle: string;
  /** Node.js options placed before the bundle, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

/** Starts the connector bundle as users do, `node dist/firehose-connector.js --config FILE`, against the stage. */
export function spawnConnector(launch: ConnectorLaunch): BenchChild {
  const directory = mkdtempSync(join(tmpdir(), 'bench-connector-'));
  const configFile = join(directory, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      DefaultDeliveryStreamArn: STREAM_ARN,
      MqttBrokerUrl: launch.brokerUrl,
      MqttClientId: launch.clientId,
      StatsIntervalSeconds: 0,
      ...launch.parameters,
    }),
  );
  const child = BenchChild.spawn(
    'connector',
    [
      ...connectorNodeOptions(Number(launch.parameters?.MemorySize ?? PARAMETERS.MemorySize.default)),
      ...(launch.nodeArgs ?? []),
      launch.bundle,
      '--config',
      configFile,
    ],
    {
      PATH: process.env.PATH,
      ...CONNECTOR_ENVIRONMENT,
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench-secret',
      AWS_ENDPOINT_URL_FIREHOSE: launch.endpointUrl,
      ...(launch.cloudWatchUrl ? { AWS_ENDPOINT_URL_CLOUDWATCH: launch.cloudWatchUrl } : {}),
    },
  );
  // The config file is read at start-up; remove it once the process is gone.
  const remove = (): void => rmSync(directory, { recursive: true, force: true });
  void child.whenExited().then(remove);
  return child;
}
