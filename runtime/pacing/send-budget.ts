import { FirehoseLimits } from '../firehose';

/**
 * Calls and record bytes in flight across all delivery streams. Each call holds its records two or three times over
 * while the SDK encodes them, so bytes in flight are bounded for the process as a whole (one full batch, what the
 * memory reserve was measured with), not per stream: a publisher naming many streams cannot multiply them.
 */
export class SendBudget {
  private calls = 0;
  private bytes = 0;
  /** Streams waiting for room, woken in the order they asked, each once. */
  private waiters: (() => void)[] = [];

  constructor(
    readonly maxCalls = 16,
    readonly maxBytes: number = FirehoseLimits.maxBatchBytes,
  ) {}

  /**
   * Bytes a new call may carry now, or 0 when no call may start. A call may always start when none is in flight,
   * whatever its size, so that the largest record still goes.
   */
  room(): number {
    if (this.calls === 0) return Number.MAX_SAFE_INTEGER;
    if (this.calls >= this.maxCalls) return 0;
    return Math.max(0, this.maxBytes - this.bytes);
  }

  take(bytes: number): void {
    this.calls++;
    this.bytes += bytes;
  }

  give(bytes: number): void {
    this.calls = Math.max(0, this.calls - 1);
    this.bytes = Math.max(0, this.bytes - bytes);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Calls `wake` once, the next time a call ends. */
  whenRoom(wake: () => void): void {
    if (!this.waiters.includes(wake)) this.waiters.push(wake);
  }

  /** Forgets a waiter (its stream closed). */
  forget(wake: () => void): void {
    this.waiters = this.waiters.filter((waiter) => waiter !== wake);
  }
}
