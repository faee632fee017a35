import * as fs from 'node:fs';
import { describeError } from '../../logger';

/** A promise with its settle functions, for work that completes in a later callback. */
export interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

/**
 * A file written with synchronous writes and synced with `fdatasync` in rounds: every `sync()` made before a round
 * starts (in practice, all those of one event-loop turn) shares it, and a round starts as soon as the previous one
 * ends. Writes are synchronous so that a record has reached the operating system, and so survives a kill of the
 * process, before the call that wrote it returns.
 */
export class SyncedFile {
  /** Written to since the last round started. */
  dirty = false;
  /** Settles, never rejecting, when the round in flight ends. */
  private running?: Promise<void>;
  /** What the round in flight tells its waiters. */
  private runningOutcome?: Promise<void>;
  private next?: Deferred;
  private closed?: Promise<void>;

  constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** Writes all of `buffer` at `position`, or at the end of the file when it is null. */
  write(buffer: Buffer, position: number | null): void {
    let done = 0;
    while (done < buffer.length) {
      done += fs.writeSync(
        this.fd,
        buffer,
        done,
        buffer.length - done,
        position === null ? null : position + done,
      );
    }
    this.dirty = true;
  }

  /** Cuts the file to `size` bytes, to take back a write that failed part way. */
  truncate(size: number): void {
    fs.ftruncateSync(this.fd, size);
  }

  /** Resolves once everything written before the call is on the device. */
  sync(): Promise<void> {
    if (this.closed) return this.closed;
    if (!this.dirty && !this.next) return this.runningOutcome ?? Promise.resolve();
    if (!this.next) {
      this.next = deferred();
      if (!this.running) setImmediate(() => this.startRound());
    }
    return this.next.promise;
  }

  /** Waits for the rounds asked for, syncs what is left if `sync`, and closes the file. */
  close(sync: boolean): Promise<void> {
    this.closed ??= this.finish(sync);
    return this.closed;
  }

  private async finish(sync: boolean): Promise<void> {
    try {
      while (this.running || this.next) await (this.running ?? this.next!.promise.catch(() => undefined));
      if (sync && this.dirty) await fdatasync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }

  private startRound(): void {
    const waiters = this.next;
    if (!waiters || this.running) return;
    this.next = undefined;
    this.dirty = false;
    this.runningOutcome = waiters.promise;
    this.running = fdatasync(this.fd)
      .then(
        () => waiters.resolve(),
        (error: unknown) => {
          this.dirty = true;
          waiters.reject(
            new Error(`Cannot sync ${this.path}: ${describeError(error).errorMessage}`, { cause: error }),
          );
        },
      )
      .finally(() => {
        this.running = undefined;
        this.runningOutcome = undefined;
        this.startRound();
      });
  }
}

/** Makes the folder's entries (new or renamed files) durable; folders cannot be synced on Windows. */
export function syncDirectory(path: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
