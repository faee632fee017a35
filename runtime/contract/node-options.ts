/**
 * How Node.js runs the connector: options and environment shared by the component's Run script, `npm start`, the
 * tests and the benchmark.
 */

/**
 * Node.js options the connector runs with: the component's Run script, `npm start`, the tests and the benchmark all
 * start it this way.
 *
 * Under a steady stream of messages V8 grows its young generation to two 16 MiB semi-spaces, which is most of the
 * gap between an idle and a busy connector's RSS. Capped at 2 MiB, the peak RSS with a full queue at MemorySize
 * 131072 fell from 105-130 MiB to 87-102 MiB, with no measurable change in throughput (`npm run bench`).
 *
 * `--no-maglev`: V8's mid-tier compiler is on by default from Node.js 24 (off on 20 and 22). On 24 it took the
 * resident size after 3,000 messages to distinct streams to 121-131 MiB, over `MemorySize` 131072 (native memory,
 * not the JavaScript heap), against 11-15 MiB of growth without it; this keeps 24 on the tiers 22 runs with.
 */
export const CONNECTOR_NODE_OPTIONS: readonly string[] = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=100',
  '--no-maglev',
];

/** The least old generation the connector is given, whatever `MemorySize` says: what an idle one holds, and room. */
export const MIN_OLD_SPACE_MIB = 32;

/**
 * MiB kept from the old generation's half of `MemorySize`, for what V8 holds beside it (code, the young generation,
 * the heap's own tables): with it, 3,000 messages to distinct streams raised an idle connector's RSS by 15-22 MiB at
 * MemorySize 131072, against 20-24 MiB without.
 */
export const OLD_SPACE_HEADROOM_MIB = 16;

/**
 * MiB of V8's old generation for a `MemorySize` (KB): half of it, less `OLD_SPACE_HEADROOM_MIB`. Node.js sizes its
 * heap from the machine's memory, or at best from the whole cgroup limit, so without this V8 fills the memory limit
 * with garbage it has no reason to collect (a burst of 12,000 messages to distinct streams took an idle connector
 * from 76 to 147 MiB at MemorySize 131072; with 64 MiB it stayed under 95). Queued records are Buffers, outside
 * this limit; their bytes are bounded by the queue budget.
 *
 * `--heap-growing-percent=100` (in CONNECTOR_NODE_OPTIONS) goes with it: with an old generation below about a
 * gigabyte, V8 lets the heap grow only a little past its live size before the next full collection, and a backlog
 * drain spent 37 us of CPU per message instead of 26; letting it double first costs no more CPU than no limit at
 * all, and the limit still holds (`npm run bench`, 2026-12-02).
 * @see https://github.com/nodejs/node/issues/64646
 */
export function oldSpaceMiB(memorySizeKb: number): number {
  return Math.max(MIN_OLD_SPACE_MIB, Math.floor(memorySizeKb / 2048) - OLD_SPACE_HEADROOM_MIB);
}

/** Every Node.js option of a connector started with `memorySizeKb`: the fixed ones and the old generation's size. */
export function connectorNodeOptions(memorySizeKb: number): string[] {
  return [...CONNECTOR_NODE_OPTIONS, `--max-old-space-size=${oldSpaceMiB(memorySizeKb)}`];
}

/**
 * Environment the connector runs with. glibc gives each thread that allocates (libuv's pool: DNS, files, crypto)
 * an arena of its own, up to eight per core, and keeps their pages: two arenas took 8 MiB off the resident size
 * after the same burst.
 */
export const CONNECTOR_ENVIRONMENT = { MALLOC_ARENA_MAX: '2' } as const;
