/**
 * One dispatcher per delivery stream (queue, batches, settlement of each call into statuses and retries),
 * the registry that bounds how many are served, and the status publisher.
 */
export { StatusPublisher } from './status-publisher';
export { StreamDispatcher } from './stream-dispatcher';
export type { StreamCounts, StreamSnapshot } from './stream-counts';
export { StreamRegistry, TooManyStreamsError } from './stream-registry';
