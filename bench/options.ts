/** The benchmark's command line: flags, their environment variables, and the scenarios (bench/README.md). */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const REPOSITORY_ROOT = resolve(__dirname, '..');
/** The device bundle `npm run build` writes: what the Greengrass component runs. */
export const DEVICE_BUNDLE = resolve(REPOSITORY_ROOT, 'dist', 'firehose-connector.js');
/** The local bundle `npm start` runs. */
export const LOCAL_BUNDLE = resolve(REPOSITORY_ROOT, 'dist', 'firehose-connector-local.js');

export const SCENARIOS = [
  'bundles',
  'ceiling',
  'connector',
  'binary',
  'large',
  'baseline',
  'latency',
  'memory',
  'throttling',
  'packing',
  'metrics',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Bytes of each message in the backlog and latency scenarios, and in the 4 KiB one. */
export const SMALL_PAYLOAD = 200;
export const LARGE_PAYLOAD = 4096;
/** The metrics scenario's MetricsIntervalSeconds: the shortest, for the most PutMetricData calls a drain can make. */
export const METRICS_INTERVAL_SECONDS = 1;
/** Large enough that the whole backlog fits in the connector's queue. */
export const DELIVERY_STREAM_QUEUE_SIZE = 10_000_000;

export interface Options {
  readonly scenarios: readonly Scenario[];
  readonly rounds: number;
  readonly backlog: number;
  readonly largeBacklog: number;
  readonly baselineBacklog: number;
  readonly packingBacklog: number;
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
  'packing-backlog': 'BENCH_PACKING_BACKLOG',
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

/** Reads each option from its flag, else its environment variable, else its default; throws naming a bad one. */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
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
    packingBacklog: integer('packing-backlog', 20_000, 1),
    latencyRate: integer('latency-rate', 1000, 1),
    latencySeconds: integer('latency-seconds', 10, 1),
    memorySizes,
    memorySizeKb: integer('memory-size-kb', 131072, 32768),
    throughputMemoryKb: integer('throughput-memory-kb', 1_048_576, 32768),
    timeoutMs: integer('timeout-seconds', 180, 1) * 1000,
    bundle: resolve(text('bundle') ?? DEVICE_BUNDLE),
    nodeArgs: (text('node-args') ?? '').split(/\s+/).filter((arg) => arg !== ''),
    results: results === 'none' ? undefined : resolve(results),
    strict: values.strict === true || env.BENCH_STRICT === '1',
  };
}
