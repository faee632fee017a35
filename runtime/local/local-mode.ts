import { resolve } from 'node:path';
import { type ConnectorConfig, loadConfig } from '../config';
import { DEFAULT_METRICS_NAMESPACE, RECOMMENDED_MEMORY_SIZE_KB, Topics } from '../contract';
import { createLogger } from '../logger';
import { runConnector, type RunningConnector } from '../run';
import { LocalCloudWatchEndpoint } from './cloudwatch-endpoint';
import { startEmbeddedBroker } from './embedded-broker';
import { LocalFirehoseEndpoint } from './firehose-endpoint';
import { summarizeMetricData } from './metrics-summary';

/** The stream the local mode sends to unless the configuration names another. */
export const LOCAL_DELIVERY_STREAM_ARN =
  'arn:aws:firehose:us-east-1:000000000000:deliverystream/local-stream';
const LOCAL_MQTT_PORT = 1883;
const LOCAL_FIREHOSE_PORT = 4573;
const LOCAL_CLOUDWATCH_PORT = 4582;
/** Short periods, so that a newcomer sees the metrics soon; a device's default is a minute. */
const LOCAL_METRICS_INTERVAL_SECONDS = 10;

export interface LocalModeOptions {
  readonly configFile?: string;
  /** Where the local endpoint writes its S3-style objects. @default ./local-firehose */
  readonly dataDir?: string;
}

/**
 * Runs the connector with everything it needs on this machine: an embedded MQTT broker and a local
 * Firehose-compatible endpoint that writes records as files, so a newcomer sees the whole path without AWS.
 */
export async function runLocal(options: LocalModeOptions): Promise<RunningConnector> {
  const dataDir = resolve(options.dataDir ?? 'local-firehose');
  const broker = await onPreferredPort(LOCAL_MQTT_PORT, (port) =>
    startEmbeddedBroker({ host: '127.0.0.1', port }),
  );
  const endpoint = await onPreferredPort(LOCAL_FIREHOSE_PORT, (port) =>
    LocalFirehoseEndpoint.start({ host: '127.0.0.1', port, acceptAnyStream: true, dataDir }),
  );
  process.env.AWS_ENDPOINT_URL_FIREHOSE = endpoint.url;
  // What the connector would send to CloudWatch is printed as it arrives.
  const screen = new Screen();
  const cloudWatch = await onPreferredPort(LOCAL_CLOUDWATCH_PORT, (port) =>
    LocalCloudWatchEndpoint.start({
      host: '127.0.0.1',
      port,
      onData: (call) => screen.print(summarizeMetricData(call)),
    }),
  );
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudWatch.url;

  const config = loadConfig({
    file: options.configFile,
    env: process.env,
    fallbacks: {
      DefaultDeliveryStreamArn: LOCAL_DELIVERY_STREAM_ARN,
      PublishInterval: 1,
      MemorySize: RECOMMENDED_MEMORY_SIZE_KB,
      LogLevel: 'warn',
      StatsIntervalSeconds: 0,
      MetricsNamespace: DEFAULT_METRICS_NAMESPACE,
      MetricsIntervalSeconds: LOCAL_METRICS_INTERVAL_SECONDS,
    },
    overrides: { MqttBrokerUrl: broker.url },
  });
  const logger = createLogger(config.logLevel, (line) => process.stderr.write(line));
  const running = runConnector(config, {
    logger,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // The banner invites a publish: the embedded broker keeps nothing for a session not yet subscribed.
  await running.ready;

  const stream = config.defaultDeliveryStream.name;
  process.stdout.write(`Firehose connector running locally (no AWS account needed)
  MQTT broker    ${broker.url} (embedded)
  Firehose       ${endpoint.url} (local endpoint, any stream name accepted)
  Records land   ${dataDir}/${stream}/YYYY/MM/DD/HH/
  Publishing     every ${config.publishIntervalSeconds} s (PublishInterval)
  CloudWatch     ${cloudWatch.url} (local endpoint: ${describeMetrics(config.metrics)})

Send a record (in another terminal):
  npx mqtt pub -h 127.0.0.1 -p ${broker.port} -q 1 -t ${Topics.json} -m '{"request":{"data":"Message from Firehose Connector Test"},"id":"req_123"}'
Watch the statuses:
  npx mqtt sub -h 127.0.0.1 -p ${broker.port} -q 1 -t ${Topics.status} -v
(mosquitto_pub / mosquitto_sub take the same -h -p -q -t -m flags.) Stop with Ctrl+C.

`);
  const counter = startCounter(running, endpoint, screen);
  return {
    ready: running.ready,
    stats: () => running.stats(),
    stop: async () => {
      clearInterval(counter);
      process.stdout.write('\n');
      await running.stop();
      await endpoint.stop();
      await cloudWatch.stop();
      await broker.close();
    },
  };
}

/** Starts a server on its usual port, or on a free one when it cannot have that one. */
function onPreferredPort<Server>(port: number, start: (port: number) => Promise<Server>): Promise<Server> {
  return start(port).catch(() => start(0));
}

function describeMetrics(metrics: ConnectorConfig['metrics']): string {
  if (!metrics) return 'metrics off, MetricsNamespace is empty';
  return `metrics of namespace ${metrics.namespace} printed every ${metrics.periodSeconds} s`;
}

/** A live line of counts: rewritten in place on a terminal, printed on change elsewhere. */
function startCounter(
  running: RunningConnector,
  endpoint: LocalFirehoseEndpoint,
  screen: Screen,
): NodeJS.Timeout {
  return setInterval(() => {
    const stats = running.stats();
    const { acceptedRecords, billedBytes } = endpoint.stats;
    screen.status(
      `received ${stats.received} | delivered ${stats.delivered} | failed ${stats.failed + stats.rejected}` +
        ` | queued ${stats.queued} | Firehose records ${acceptedRecords}, billed as ${billedBytes / 1024} KB`,
    );
  }, 1000);
}

/** Lines printed for good, under which a terminal keeps the live line of counts. */
class Screen {
  private last = '';
  private readonly tty = process.stdout.isTTY;

  /** The live line: rewritten in place on a terminal, printed when it changes elsewhere. */
  status(line: string): void {
    if (line === this.last) return;
    this.last = line;
    process.stdout.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  print(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const text = lines.join('\n') + '\n';
    process.stdout.write(this.tty ? `\r\x1b[K${text}${this.last}` : text);
  }
}
