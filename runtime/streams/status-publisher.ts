import { describeError, type Logger } from '../logger';
import { type StatusEntry, statusPayload } from '../message';

/** Most entries in one status message: one PutRecordBatch worth, about 50 KB of JSON. */
const MAX_ENTRIES_PER_MESSAGE = 500;

/**
 * Most bytes of status messages handed to the transport and not yet acknowledged. A status connection that is
 * down keeps what is published (MQTT.js stores QoS 1 messages until it connects), so without a bound a connector
 * whose status connection never comes up would grow with every message it takes in.
 */
export const MAX_UNACKNOWLEDGED_STATUS_BYTES = 8 * 1024 * 1024;

/**
 * Gathers status entries reported in the same turn of the event loop into one `{"response":[...]}` message,
 * so a batch of 500 records costs one MQTT publish rather than 500.
 */
export class StatusPublisher {
  private pending: StatusEntry[] = [];
  private scheduled = false;
  private readonly publishing = new Set<Promise<void>>();
  private unacknowledgedBytes = 0;
  /** Entries dropped since the status destination last caught up. */
  private dropped = 0;

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
      const payload = statusPayload(chunk);
      const bytes = Buffer.byteLength(payload);
      if (this.unacknowledgedBytes + bytes > MAX_UNACKNOWLEDGED_STATUS_BYTES) {
        if (this.dropped === 0) {
          this.logger.warn(
            'Dropping status messages: the status destination has not acknowledged the earlier ones',
            {
              unacknowledgedBytes: this.unacknowledgedBytes,
            },
          );
        }
        this.dropped += entryCount;
        continue;
      }
      this.unacknowledgedBytes += bytes;
      const publishing = this.publish(payload)
        .then(() => {
          if (this.dropped === 0) return;
          this.logger.warn('Publishing status messages again', { droppedEntries: this.dropped });
          this.dropped = 0;
        })
        .catch((error: unknown) => {
          this.logger.warn('Could not publish a status message', {
            entries: entryCount,
            ...describeError(error),
          });
        })
        .finally(() => {
          this.unacknowledgedBytes -= bytes;
          this.publishing.delete(publishing);
        });
      this.publishing.add(publishing);
    }
  }
}
