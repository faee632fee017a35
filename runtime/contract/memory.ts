/**
 * The memory model: what the process keeps for itself, what queued records may take of `MemorySize`, and the least
 * `MemorySize` that holds both. The runtime sizes its queues from it; the CDK app refuses a smaller memory limit.
 */

/**
 * Memory kept back from `MemorySize` for the process itself before queued records get any: an idle connector
 * (Node.js 20, the AWS SDK, two MQTT connections) has a resident size of about 76 MiB, and garbage collection and
 * a call in flight take up to some 36 MiB more with a full queue (measured with `npm run bench`).
 */
export const RUNTIME_RESERVE_BYTES = 112 * 1024 * 1024;

/**
 * Share of what is left after the reserve that queued records may take: the process's resident size grows by
 * about 1.35 bytes per byte queued (allocator and garbage-collector overhead), measured with `npm run bench`;
 * 0.6 leaves a margin for calls in flight and bursts.
 */
export const QUEUE_SHARE_OF_FREE_MEMORY = 0.6;

/** The least the queues get, so that a `MemorySize` below what Node.js needs still leaves a working connector. */
export const MIN_QUEUE_BYTE_BUDGET = 8 * 1024 * 1024;

/**
 * The least `MemorySize` (KB) that holds the process and the queues' minimum budget. Below it the connector still
 * starts, with a warning; as a deployment's memory limit it would get the process killed, so the CDK app refuses it.
 */
export const MIN_MEMORY_SIZE_KB = Math.ceil(
  (RUNTIME_RESERVE_BYTES + MIN_QUEUE_BYTE_BUDGET / QUEUE_SHARE_OF_FREE_MEMORY) / 1024,
);

/**
 * The MemorySize (KB) to run with: what the CDK deployment and the local mode use unless told otherwise. The
 * parameter's default stays the v1 connector's 65535, which is below what an idle Node.js process needs.
 */
export const RECOMMENDED_MEMORY_SIZE_KB = 131072;
