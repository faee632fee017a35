/**
 * Node.js options the connector runs with: the component's Run script, `npm start`, the tests and the benchmark all
 * start it this way.
 *
 * Under a steady stream of messages V8 grows its young generation to two 16 MiB semi-spaces, which is most of the
 * gap between an idle and a busy connector's RSS. Capped at 2 MiB, the peak RSS with a full queue at MemorySize
 * 131072 fell from 105-130 MiB to 87-102 MiB, with no measurable change in throughput (`npm run bench`).
 */
export const CONNECTOR_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];
