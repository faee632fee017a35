import { FirehoseLimits } from '../firehose';

/** Ready records, or bytes, beyond which intake waits for a free send slot (four full batches). */
const HOLD_BACKLOG_RECORDS = 4 * FirehoseLimits.maxBatchRecords;
const HOLD_BACKLOG_BYTES = 4 * FirehoseLimits.maxBatchBytes;
/** Longest intake waits for a send slot: well under MQTT's 30 s keepalive, which a stalled connection would miss. */
const MAX_HOLD_MS = 5000;

/**
 * Holds intake (and so the message's acknowledgement) while no call can start and a backlog is ready, so that
 * during a burst the broker keeps the messages rather than the connector's memory. Never for long, since the MQTT
 * connection waits meanwhile; and once a hold runs out (calls that hang until RequestTimeoutSeconds), not again
 * until a send slot frees, so that such calls cannot slow intake to one message per hold.
 */
export class IntakeHold {
  private waiters: (() => void)[] = [];
  private expired = false;

  /** Whether a backlog of this size is worth holding intake for. */
  static worthHolding(readyRecords: number, readyBytes: number): boolean {
    return readyRecords >= HOLD_BACKLOG_RECORDS || readyBytes >= HOLD_BACKLOG_BYTES;
  }

  /** Resolves once `mustHold` is false, a slot frees and it says so, or a hold runs out. */
  async whileHeld(mustHold: () => boolean): Promise<void> {
    while (!this.expired && mustHold()) {
      const slotFreed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), MAX_HOLD_MS);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!slotFreed) this.expired = true;
    }
  }

  /** A send slot freed: holds look again. */
  slotFreed(): void {
    this.expired = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
