export interface BackoffOptions {
  /** Delay after the first failure. @default 1000 */
  readonly baseMs?: number;
  /** Longest delay, reached after a few consecutive failures. @default 30000 */
  readonly maxMs?: number;
}

/**
 * Delay before the next attempt after `failures` consecutive failed or throttled calls: exponential, with
 * "equal jitter" (half fixed, half random) so that streams spread out but never retry in a tight loop.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelayMs(failures: number, options: BackoffOptions = {}, random = Math.random): number {
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 30_000;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
