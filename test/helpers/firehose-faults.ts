/**
 * Fault injection for the local Firehose service: failed calls, failed records, hung calls and added latency, through
 * the service's hook. Test-only: the connector's bundles never carry it.
 */
import { type ServiceError, serviceError } from '../../runtime/local/firehose-protocol';
import type { FirehoseServiceHook, HookDecision, IncomingCall } from '../../runtime/local/firehose-service';
import { sleep } from './wait';

export interface CallFaultOptions {
  /**
   * How many calls fail.
   * @default Infinity - every call fails until `clearFaults()`
   */
  readonly count?: number;
  /**
   * Error code sent as `__type`, which the SDK turns into the exception's `name`.
   * @default 'ServiceUnavailableException'
   */
  readonly code?: string;
  /**
   * HTTP status of the error response.
   * @default the service's status for `code`: 503 for ServiceUnavailableException, 500 for InternalFailure, else 400
   */
  readonly status?: number;
  /**
   * Error message.
   * @default the service's message for `code`, 'Slow down.' for ServiceUnavailableException
   */
  readonly message?: string;
}

export interface RecordFaultOptions {
  /**
   * How many records fail in total.
   * @default Infinity - records fail until `clearFaults()`
   */
  readonly count?: number;
  /**
   * Fraction of records that fail, spread evenly rather than at random so tests can count: 0.25 fails every fourth
   * record. From 0 (exclusive) to 1.
   * @default 1
   */
  readonly rate?: number;
  /**
   * `ErrorCode` of a failed record. A failed record of a PutRecord call fails the whole call with this code.
   * @default 'ServiceUnavailableException'
   */
  readonly code?: string;
  /**
   * `ErrorMessage` of a failed record.
   * @default the service's message for `code`, 'Slow down.' for ServiceUnavailableException
   */
  readonly message?: string;
}

export interface HangOptions {
  /**
   * How many calls are left unanswered. Their connections stay open until the client gives up or the endpoint
   * stops.
   * @default Infinity - every call hangs until `clearFaults()`
   */
  readonly count?: number;
}

/** Remaining budget of an injected fault: how many more calls or records it applies to. */
interface Budget {
  remaining: number;
}

export class FirehoseFaults implements Required<Pick<FirehoseServiceHook, 'beforeCall' | 'failRecord'>> {
  private callFault: (ServiceError & Budget) | undefined;
  private recordFault: (ServiceError & Budget & { rate: number; seen: number }) | undefined;
  private hangFault: Budget | undefined;
  private latencyMs = 0;

  /** Replaces any earlier call fault. */
  failCalls(options: CallFaultOptions = {}): void {
    const error = serviceError(options.code ?? 'ServiceUnavailableException', options);
    this.callFault = { ...error, remaining: checkCount('failCalls count', options.count) };
  }

  /** Replaces any earlier record fault. */
  failRecords(options: RecordFaultOptions = {}): void {
    const rate = options.rate ?? 1;
    if (!(rate > 0 && rate <= 1)) {
      throw new Error(`failRecords rate must be above 0 and at most 1, got ${rate}`);
    }
    const error = serviceError(options.code ?? 'ServiceUnavailableException', { message: options.message });
    this.recordFault = { ...error, remaining: checkCount('failRecords count', options.count), rate, seen: 0 };
  }

  /** Replaces any earlier hang fault. */
  hangCalls(options: HangOptions = {}): void {
    this.hangFault = { remaining: checkCount('hangCalls count', options.count) };
  }

  setLatency(latencyMs: number): void {
    if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) {
      throw new Error(`latency must be a non-negative number of milliseconds, got ${latencyMs}`);
    }
    this.latencyMs = latencyMs;
  }

  clear(): void {
    this.callFault = undefined;
    this.recordFault = undefined;
    this.hangFault = undefined;
    this.latencyMs = 0;
  }

  async beforeCall(call: IncomingCall): Promise<HookDecision> {
    if (this.hangFault !== undefined && this.hangFault.remaining > 0) {
      this.hangFault.remaining--;
      return 'hang';
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    // A call the service cannot route (an unknown operation) is refused before any fault would apply.
    const known = call.operation === 'PutRecord' || call.operation === 'PutRecordBatch';
    if (known && this.callFault !== undefined && this.callFault.remaining > 0) {
      this.callFault.remaining--;
      return this.callFault;
    }
    return undefined;
  }

  failRecord(): ServiceError | undefined {
    const fault = this.recordFault;
    if (fault === undefined || fault.remaining <= 0) return undefined;
    // Fails record n when floor(n * rate) steps up, which spreads failures evenly and makes rate 1 fail every record.
    fault.seen++;
    if (Math.floor(fault.seen * fault.rate) === Math.floor((fault.seen - 1) * fault.rate)) return undefined;
    fault.remaining--;
    return fault;
  }
}

function checkCount(name: string, value: number | undefined): number {
  const count = value ?? Infinity;
  if (count !== Infinity && !(Number.isInteger(count) && count >= 0)) {
    throw new Error(`${name} must be a non-negative integer or Infinity, got ${String(value)}`);
  }
  return count;
}
