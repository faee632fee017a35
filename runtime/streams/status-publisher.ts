import { describeError, type Logger } from '../logger';
import { type StatusEntry, statusPayload } from '../message';

/** Most entries in one status message: one PutRecordBatch worth, about 50 KB of JSON. */
const MAX_ENTRIES_PER_MESSAGE = 500;

/**
 * Gathers status entries reported in the same turn of the event loop into one `{"response":[...]}` message,
 * so a batch of 500 records costs one MQTT publish rather than 500.
 */
export class StatusPublisher {
  private pending: StatusEntry[] = [];
  private scheduled = false;
  private readonly publishing = new Set<Promise<void>>();

  constructor(
    private readonly publish: (payload: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  report(entries: readonly StatusEntry[]): void {
    for (const entry of entries) this.pending.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.publishPending());
  }

  /** Publishes what is pending and resolves when every publish so far has been acknowledged or has failed. */
  async flush(): Promise<void> {
    this.publishPending();
    await Promise.all(this.publishing);
  }

  private publishPending(): void {
    this.scheduled = false;
    const entries = this.pending;
    this.pending = [];
    for (let start = 0; start < entries.length; start += MAX_ENTRIES_PER_MESSAGE) {
      const chunk = entries.slice(start, start + MAX_ENTRIES_PER_MESSAGE);
      // Only the count is kept for the log: a publish waiting for its acknowledgement must not hold its entries.
      const entryCount = chunk.length;
      const publishing = this.publish(statusPayload(chunk))
        .catch((error: unknown) => {
          this.logger.warn('Could not publish a status message', {
            entries: entryCount,
            ...describeError(error),
          });
        })
        .finally(() => this.publishing.delete(publishing));
      this.publishing.add(publishing);
    }
  }
}
