/**
 * A stand-in for the Amazon Data Firehose data plane (`PutRecord`, `PutRecordBatch`) that the real AWS SDK v3 talks
 * to: the streams that exist, the service's limits and quotas with its error codes, record ids, and the S3-style
 * files it writes. It answers HTTP requests; `LocalFirehoseEndpoint` gives it a server.
 *
 * Tests observe calls and inject faults through a `FirehoseServiceHook` (test/helpers/firehose-endpoint.ts); the
 * local mode passes none.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { billedBytes } from '../firehose';
import { readBody, regionOf } from './aws-json-request';
import {
  checkCallLimits,
  isFirehoseOperation,
  operationOf,
  parseCall,
  type ParsedCall,
  type PutRecordBatchOutput,
  type PutRecordOutput,
  serviceError,
  type ServiceError,
  SLOW_DOWN,
  STREAM_NAME_PATTERN,
  unknownOperation,
  writeError,
  writeJson,
} from './firehose-protocol';
import { ObjectWriter } from './object-writer';
import { type Clock, type QuotaSetting, StreamQuotas, type StreamThrottle } from './stream-quotas';

export interface FirehoseServiceOptions {
  /**
   * Names of the delivery streams that exist. Calls naming any other stream fail with ResourceNotFoundException.
   * @default - no streams
   */
  readonly streams?: readonly string[];
  /**
   * Accept records for any delivery stream name, as the connector's local mode does.
   * @default false
   */
  readonly acceptAnyStream?: boolean;
  /**
   * Account quoted in ResourceNotFoundException messages.
   * @default '123456789012'
   */
  readonly accountId?: string;
  /**
   * Folder under which every accepted call is written as one S3-style object (see object-writer.ts). The call is
   * answered once the object is written (without fsync).
   * @default - nothing is written
   */
  readonly dataDir?: string;
  /**
   * Per-stream throughput quotas, enforced as the service does: a call over the request quota fails whole with
   * ServiceUnavailableException (HTTP 503, "Slow down."); records over the records or bytes quota fail inside a
   * PutRecordBatch with that ErrorCode, and a PutRecord over them fails whole. `'regional-defaults'` applies each
   * region's default quota (stream-quotas.ts).
   * @default - no quotas
   */
  readonly quotas?: QuotaSetting;
  /**
   * The clock the quotas refill by, in milliseconds.
   * @default performance.now
   */
  readonly now?: Clock;
  /**
   * Where tests observe calls and inject faults.
   * @default - none
   */
  readonly hook?: FirehoseServiceHook;
}

/** A record the service accepted. */
export interface AcceptedRecord {
  readonly streamName: string;
  /** Region of the SigV4 credential scope that signed the call; `undefined` for an unsigned call. */
  readonly region: string | undefined;
  /** The record's bytes, base64-decoded. */
  readonly data: Buffer;
  readonly recordId: string;
  readonly receivedAt: Date;
}

/** One request the service answered (or, for a hung call, received). */
export interface FirehoseCall {
  /** Operation named by `X-Amz-Target` without the `Firehose_20150804.` prefix; may be an unknown name. */
  readonly operation: string;
  readonly streamName: string | undefined;
  readonly region: string | undefined;
  /** Records in the request, accepted or not. */
  readonly recordCount: number;
  /** Decoded bytes of all records in the request. */
  readonly bytes: number;
  /**
   * `accepted`: every record stored; `partial`: PutRecordBatch answered with FailedPutCount > 0; `rejected`: the
   * whole call failed with `errorCode`; `hung`: never answered (a hook's choice).
   */
  readonly outcome: 'accepted' | 'partial' | 'rejected' | 'hung';
  readonly failedRecordCount: number;
  readonly errorCode: string | undefined;
  readonly receivedAt: Date;
}

export interface FirehoseServiceStats {
  readonly calls: number;
  readonly rejectedCalls: number;
  readonly acceptedRecords: number;
  readonly acceptedBytes: number;
  /** What the service would bill for the accepted records: each rounded up to the next 5 KB. */
  readonly billedBytes: number;
  /** Records reported with an ErrorCode in a PutRecordBatch response. */
  readonly failedRecords: number;
}

/** What `onRecords` receives for every call that stored at least one record. */
export interface AcceptedRecordsEvent {
  readonly streamName: string;
  readonly region: string | undefined;
  readonly records: readonly AcceptedRecord[];
  readonly bytes: number;
  /** Running totals including this call. */
  readonly stats: FirehoseServiceStats;
}

/** What a hook learns of a request before the service looks at it. */
export type IncomingCall = Pick<FirehoseCall, 'operation' | 'streamName' | 'region' | 'recordCount'>;

/** What `beforeCall` decides: leave the call unanswered, fail it whole with an error, or carry on. */
export type HookDecision = 'hang' | ServiceError | undefined;

/** Points where tests watch the service and change its answers. Every method is optional. */
export interface FirehoseServiceHook {
  /**
   * Called for every request once its body is read, before any check. Resolve with `'hang'` to leave the call
   * unanswered, an error to fail the whole call with it, or nothing to carry on. May wait, to delay the answer.
   */
  beforeCall?(call: IncomingCall): HookDecision | Promise<HookDecision>;
  /** Called per record of a valid call that passed the quotas: an error fails that record. */
  failRecord?(): ServiceError | undefined;
  /** Called once per request, with how it ended. */
  afterCall?(call: FirehoseCall): void;
  /** Called with the records a call stored, before the call is answered. */
  onRecords?(event: AcceptedRecordsEvent): void;
}

interface StoredCall {
  readonly output: PutRecordOutput | PutRecordBatchOutput;
  readonly stored: readonly AcceptedRecord[];
  readonly storedBytes: number;
  readonly billedBytes: number;
}

/** `.` and `..` match the name pattern but name folders: no stream can have them here. */
const FOLDER_NAMES: ReadonlySet<string> = new Set(['.', '..']);

const NO_STATS: FirehoseServiceStats = {
  calls: 0,
  rejectedCalls: 0,
  acceptedRecords: 0,
  acceptedBytes: 0,
  billedBytes: 0,
  failedRecords: 0,
};

export class FirehoseService {
  private readonly accountId: string;
  private readonly acceptAnyStream: boolean;
  private readonly streams = new Set<string>();
  private readonly writer: ObjectWriter | undefined;
  private readonly quotas: StreamQuotas | undefined;
  private readonly hook: FirehoseServiceHook;
  private readonly recordIds = new RecordIds();
  private counters = { ...NO_STATS };

  constructor(options: FirehoseServiceOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.acceptAnyStream = options.acceptAnyStream ?? false;
    for (const name of options.streams ?? []) this.addStream(name);
    this.writer = options.dataDir === undefined ? undefined : new ObjectWriter(options.dataDir);
    this.quotas = options.quotas === undefined ? undefined : new StreamQuotas(options.quotas, options.now);
    this.hook = options.hook ?? {};
  }

  get stats(): FirehoseServiceStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters = { ...NO_STATS };
  }

  /** Makes a delivery stream exist from now on. */
  addStream(streamName: string): void {
    if (!STREAM_NAME_PATTERN.test(streamName) || FOLDER_NAMES.has(streamName)) {
      throw new Error(
        `Delivery stream names are 1 to 64 characters of [a-zA-Z0-9_.-], other than . and .., got ${JSON.stringify(streamName)}`,
      );
    }
    this.streams.add(streamName);
  }

  /** Makes a delivery stream unknown from now on, as if it had been deleted. */
  removeStream(streamName: string): void {
    this.streams.delete(streamName);
  }

  /** Resolves once every object being written to `dataDir` is written. */
  async settled(): Promise<void> {
    await this.writer?.settled();
  }

  /** Answers one HTTP request; never rejects. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.answer(request, response);
    } catch (error) {
      writeError(
        response,
        serviceError('InternalFailure', { message: `Local endpoint failure: ${String(error)}` }),
      );
    }
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const receivedAt = new Date();
    const operation = operationOf(request.headers);
    const region = regionOf(request.headers);
    const parsed = isFirehoseOperation(operation)
      ? parseCall(operation, body)
      : unknownOperation(request.headers);
    const details: Partial<ParsedCall> = 'code' in parsed ? {} : parsed;
    const ended = (outcome: FirehoseCall['outcome'], errorCode?: string, failedRecordCount = 0): void =>
      this.callEnded({
        operation,
        streamName: details.streamName,
        region,
        recordCount: details.records?.length ?? 0,
        bytes: details.bytes ?? 0,
        outcome,
        failedRecordCount,
        errorCode,
        receivedAt,
      });
    const reject = (error: ServiceError): void => {
      this.counters.rejectedCalls++;
      ended('rejected', error.code);
      writeError(response, error);
    };

    const intercepted = await this.hook.beforeCall?.({
      operation,
      streamName: details.streamName,
      region,
      recordCount: details.records?.length ?? 0,
    });
    if (intercepted === 'hang') {
      ended('hung');
      return;
    }
    // The client gave up, or the server was closed, while the hook waited.
    if (response.destroyed) return;
    if (intercepted !== undefined) return reject(intercepted);
    if ('code' in parsed) return reject(parsed);
    const refused = checkCallLimits(parsed) ?? this.checkStream(parsed.streamName);
    if (refused !== undefined) return reject(refused);
    const throttle = this.quotas?.forStream(region, parsed.streamName);
    if (throttle !== undefined && !throttle.admitCall()) return reject(SLOW_DOWN);

    const accepted = await this.accept(parsed, region, receivedAt, throttle);
    if ('code' in accepted) return reject(accepted);
    const { output, stored, storedBytes } = accepted;
    const failedCount = parsed.records.length - stored.length;
    this.counters.acceptedRecords += stored.length;
    this.counters.acceptedBytes += storedBytes;
    this.counters.billedBytes += accepted.billedBytes;
    this.counters.failedRecords += failedCount;
    ended(failedCount > 0 ? 'partial' : 'accepted', undefined, failedCount);
    if (stored.length > 0) {
      const event = { streamName: parsed.streamName, region, records: stored, bytes: storedBytes };
      this.hook.onRecords?.({ ...event, stats: this.stats });
    }
    writeJson(response, 200, output);
  }

  /**
   * Stores the records of a valid call and builds its answer: records over the stream's quota, or failed by the
   * hook, get an ErrorCode and the others are stored; a PutRecord whose record fails, fails whole.
   */
  private async accept(
    call: ParsedCall,
    region: string | undefined,
    receivedAt: Date,
    throttle: StreamThrottle | undefined,
  ): Promise<StoredCall | ServiceError> {
    const failures = call.records.map((data) =>
      throttle !== undefined && !throttle.admitRecord(data.length) ? SLOW_DOWN : this.hook.failRecord?.(),
    );
    if (call.operation === 'PutRecord' && failures[0] !== undefined) return failures[0];

    const ids = this.recordIds.forCall(call.records.length);
    const stored: AcceptedRecord[] = [];
    let storedBytes = 0;
    let billed = 0;
    call.records.forEach((data, index) => {
      if (failures[index] !== undefined) return;
      stored.push({ streamName: call.streamName, region, data, recordId: ids[index], receivedAt });
      storedBytes += data.length;
      billed += billedBytes(data.length);
    });
    if (this.writer !== undefined && stored.length > 0) {
      try {
        await this.writer.write(
          call.streamName,
          stored.map((record) => record.data),
          receivedAt,
        );
      } catch (error) {
        return serviceError('InternalFailure', {
          message: `Could not write to the data directory: ${String(error)}`,
        });
      }
    }
    const output: PutRecordOutput | PutRecordBatchOutput =
      call.operation === 'PutRecord'
        ? { RecordId: ids[0], Encrypted: false }
        : {
            FailedPutCount: call.records.length - stored.length,
            Encrypted: false,
            RequestResponses: failures.map((failure, index) =>
              failure === undefined
                ? { RecordId: ids[index] }
                : { ErrorCode: failure.code, ErrorMessage: failure.message },
            ),
          };
    return { output, stored, storedBytes, billedBytes: billed };
  }

  /**
   * A name that matches the pattern but names no stream gets ResourceNotFoundException, as from the service; that
   * includes `.` and `..`, which the pattern allows but which would name folders outside `dataDir` here.
   */
  private checkStream(streamName: string): ServiceError | undefined {
    const exists = this.acceptAnyStream ? !FOLDER_NAMES.has(streamName) : this.streams.has(streamName);
    if (exists) return undefined;
    return serviceError('ResourceNotFoundException', {
      message: `Firehose ${streamName} not found under account ${this.accountId}.`,
    });
  }

  private callEnded(call: FirehoseCall): void {
    this.counters.calls++;
    this.hook.afterCall?.(call);
  }
}

/**
 * Record ids shaped like the service's: long base64 strings. A random part per call and a sequence number per
 * record keep them unique without drawing random bytes for every record.
 */
class RecordIds {
  private sequence = 0;

  forCall(count: number): string[] {
    const prefix = randomBytes(153).toString('base64');
    const ids: string[] = [];
    const suffix = Buffer.alloc(12);
    for (let index = 0; index < count; index++) {
      suffix.writeUIntBE(++this.sequence, 6, 6);
      ids.push(prefix + suffix.toString('base64'));
    }
    return ids;
  }
}
