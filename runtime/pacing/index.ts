/**
 * When a stream may send: its adaptive rate at a quota and slow start (stream pacer), the retry backoff, and
 * the budgets all streams share (memory for queued records, calls and bytes in flight, the intake hold).
 */
export type { Amount } from './adaptive-rate';
export { backoffDelayMs } from './backoff';
export type { BackoffOptions } from './backoff';
export { IntakeHold } from './intake-hold';
export { MemoryBudget, recordFootprint } from './memory-budget';
export { SendBudget } from './send-budget';
export { StreamPacer } from './stream-pacer';
