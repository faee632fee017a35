/**
 * What the connector needs from an input source: messages in, statuses out. `mqtt/` (a broker) and
 * `ipc/` (Greengrass IPC) provide it; `open-transports.ts` picks them from the configuration.
 */

/**
 * Handles one input message; the source may count it as taken (acknowledge it) once the promise settles.
 * `messageBytes` is the message's size as received: larger than `payload` when the source dropped an oversized
 * payload without reading it. The handler answers every message itself (with a status), so it never rejects.
 */
export type MessageHandler = (topic: string, payload: Buffer, messageBytes: number) => Promise<void>;

export interface Transport {
  /** Resolves once the input topics are subscribed and statuses can be published. */
  ready(): Promise<void>;
  /** Publishes one status message on `kinesisfirehose/message/status`; resolves once the destination has it. */
  publishStatus(payload: string): Promise<void>;
  /** Stops taking input; statuses still go out, for the shutdown flush. */
  stopIntake(): Promise<void>;
  close(): Promise<void>;
}

/** Waits for every promise, then rejects with the first failure, so one destination never cuts another short. */
export async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
  const failure = (await Promise.allSettled(promises)).find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}
