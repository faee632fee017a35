/**
 * A local stand-in for the Amazon Data Firehose data plane (`PutRecord`, `PutRecordBatch`) that the real AWS SDK v3
 * talks to through `AWS_ENDPOINT_URL_FIREHOSE` or the client's `endpoint` option.
 *
 * It speaks AWS JSON 1.1 as the service does, enforces the service's limits with the service's error codes, records
 * what it accepts for tests, optionally writes it to disk the way Firehose writes to S3, and injects faults on demand.
 * The connector's local mode runs it in-process; tests start one per suite.
 *
 * API reference: https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The service quotas the endpoint enforces. https://docs.aws.amazon.com/firehose/latest/dev/limits.html */
export const FIREHOSE_LIMITS = {
  /** Records in one PutRecordBatch call. */
  maxRecordsPerBatch: 500,
  /** Bytes of one record, before base64 encoding. */
  maxRecordBytes: 1_024_000,
  /** Bytes of all records of one call, before base64 encoding. */
  maxCallBytes: 4 * 1024 * 1024,
} as const;

export type FirehoseOperation = 'PutRecord' | 'PutRecordBatch';

export interface LocalFirehoseEndpointOptions {
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on; 0 lets the system pick a free one, read back from `port`.
   * @default 0
   */
  readonly port?: number;
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
   * Directory under which every accepted call is written as one S3-style object,
   * `<dataDir>/<stream>/YYYY/MM/DD/HH/<stream>-<seq>-YYYY-MM-DD-HH-MM-SS-<uuid>` (UTC), holding the call's accepted
   * records concatenated with nothing added, as Firehose delivers to S3. The call is answered once the object is
   * written (without fsync).
   * @default - nothing is written
   */
  readonly dataDir?: string;
  /**
   * Keep every accepted record in memory for `records()` and `waitForRecords()`. Turn it off for long benchmarks;
   * the call log, the counters and `onRecords` listeners keep working.
   * @default true
   */
  readonly keepRecords?: boolean;
}

/** A record the endpoint accepted. */
export interface AcceptedRecord {
  readonly streamName: string;
  /** Region of the SigV4 credential scope that signed the call; `undefined` for an unsigned call. */
  readonly region: string | undefined;
  /** The record's bytes, base64-decoded. */
  readonly data: Buffer;
  readonly recordId: string;
  readonly receivedAt: Date;
}

/** One request the endpoint answered (or, for a hung call, received). */
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
   * whole call failed with `errorCode`; `hung`: never answered (see `hangCalls`).
   */
  readonly outcome: 'accepted' | 'partial' | 'rejected' | 'hung';
  readonly failedRecordCount: number;
  readonly errorCode: string | undefined;
  readonly receivedAt: Date;
}

export interface FirehoseEndpointStats {
  readonly calls: number;
  readonly rejectedCalls: number;
  readonly acceptedRecords: number;
  readonly acceptedBytes: number;
  /** Records reported with an ErrorCode in a PutRecordBatch response. */
  readonly failedRecords: number;
}

/** What `onRecords` listeners receive for every call that stored at least one record. */
export interface AcceptedRecordsEvent {
  readonly streamName: string;
  readonly region: string | undefined;
  readonly records: readonly AcceptedRecord[];
  readonly bytes: number;
  /** Running totals including this call. */
  readonly stats: FirehoseEndpointStats;
}

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
   * How many calls are left unanswered. Their connections stay open until the client gives up or `stop()`.
   * @default Infinity - every call hangs until `clearFaults()`
   */
  readonly count?: number;
}

interface ErrorReply {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

interface ParsedCall {
  readonly operation: FirehoseOperation;
  readonly streamName: string;
  readonly records: readonly Buffer[];
  readonly bytes: number;
}

/** Response bodies, shaped as the service's. */
interface PutRecordOutput {
  readonly RecordId: string;
  readonly Encrypted: false;
}

interface PutRecordBatchOutput {
  readonly FailedPutCount: number;
  readonly Encrypted: false;
  readonly RequestResponses: ReadonlyArray<
    { RecordId: string } | { ErrorCode: string; ErrorMessage: string }
  >;
}

/** What `logCall` needs: the parsed request when there is one, plus how it ended. */
type CallLogEntry = Partial<Omit<ParsedCall, 'operation'>> &
  Pick<FirehoseCall, 'operation' | 'region' | 'receivedAt' | 'outcome'> &
  Partial<Pick<FirehoseCall, 'errorCode' | 'failedRecordCount'>>;

interface RecordsWaiter {
  readonly streamName: string;
  readonly count: number;
  readonly resolve: () => void;
}

const TARGET_PREFIX = 'Firehose_20150804.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;
const CREDENTIAL_SCOPE_REGION = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//;

/** Status and message the service sends with the error codes tests inject most. */
const KNOWN_ERRORS: Readonly<Record<string, { readonly status: number; readonly message: string }>> = {
  ServiceUnavailableException: { status: 503, message: 'Slow down.' },
  InternalFailure: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ThrottlingException: { status: 400, message: 'Rate exceeded' },
};

function errorReply(code: string, status?: number, message?: string): ErrorReply {
  const known = KNOWN_ERRORS[code];
  return {
    code,
    status: status ?? known?.status ?? 400,
    message: message ?? known?.message ?? `Injected ${code}.`,
  };
}

function validationError(message: string): ErrorReply {
  return errorReply('ValidationException', 400, `1 validation error detected: ${message}`);
}

function checkCount(name: string, value: number | undefined): number {
  const count = value ?? Infinity;
  if (count !== Infinity && !(Number.isInteger(count) && count >= 0)) {
    throw new Error(`${name} must be a non-negative integer or Infinity, got ${String(value)}`);
  }
  return count;
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

/** Writes accepted calls as S3-style objects, creating each hour's directory once. */
class ObjectWriter {
  private sequence = 0;
  private readonly directories = new Map<string, Promise<unknown>>();

  constructor(private readonly dataDir: string) {}

  async write(streamName: string, records: readonly Buffer[], at: Date): Promise<void> {
    const iso = at.toISOString();
    const [year, month, day, hour, minute, second] = [
      iso.slice(0, 4),
      iso.slice(5, 7),
      iso.slice(8, 10),
      iso.slice(11, 13),
      iso.slice(14, 16),
      iso.slice(17, 19),
    ];
    const directory = join(this.dataDir, streamName, year, month, day, hour);
    let created = this.directories.get(directory);
    if (created === undefined) {
      created = mkdir(directory, { recursive: true });
      this.directories.set(directory, created);
      created.catch(() => this.directories.delete(directory));
    }
    await created;
    const sequence = String(++this.sequence).padStart(8, '0');
    const name = `${streamName}-${sequence}-${year}-${month}-${day}-${hour}-${minute}-${second}-${randomUUID()}`;
    await writeFile(join(directory, name), Buffer.concat(records));
  }
}

/** Remaining budget of an injected fault: how many more calls or records it applies to. */
interface Budget {
  remaining: number;
}

export class LocalFirehoseEndpoint {
  /**
   * Starts an endpoint and resolves once it accepts connections.
   *
   * @example
   * const endpoint = await LocalFirehoseEndpoint.start({ streams: ['s1'] });
   * const client = new FirehoseClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials });
   */
  static async start(options: LocalFirehoseEndpointOptions = {}): Promise<LocalFirehoseEndpoint> {
    const endpoint = new LocalFirehoseEndpoint(options);
    await endpoint.listen(options.port ?? 0);
    return endpoint;
  }

  private readonly server: Server;
  private readonly host: string;
  private readonly accountId: string;
  private readonly acceptAnyStream: boolean;
  private readonly keepRecords: boolean;
  private readonly streams: Set<string>;
  private readonly writer: ObjectWriter | undefined;
  private readonly recordIds = new RecordIds();
  private readonly accepted: AcceptedRecord[] = [];
  private readonly acceptedByStream = new Map<string, number>();
  private readonly callLog: FirehoseCall[] = [];
  private readonly listeners = new Set<(event: AcceptedRecordsEvent) => void>();
  private readonly waiters = new Set<RecordsWaiter>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private counters = { calls: 0, rejectedCalls: 0, acceptedRecords: 0, acceptedBytes: 0, failedRecords: 0 };
  private callFault: (ErrorReply & Budget) | undefined;
  private recordFault: (ErrorReply & Budget & { rate: number; seen: number }) | undefined;
  private hangFault: Budget | undefined;
  private latencyMs = 0;
  private boundPort = 0;
  private listening = false;
  private stopped = false;

  private constructor(options: LocalFirehoseEndpointOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.accountId = options.accountId ?? '123456789012';
    this.acceptAnyStream = options.acceptAnyStream ?? false;
    this.keepRecords = options.keepRecords ?? true;
    this.streams = new Set(options.streams ?? []);
    for (const name of this.streams) this.checkStreamName(name);
    this.writer = options.dataDir === undefined ? undefined : new ObjectWriter(options.dataDir);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.reply(response, errorReply('InternalFailure', 500, `Local endpoint failure: ${String(error)}`));
      });
    });
    // Well above Node's 5 s default, so the SDK's keep-alive agent seldom reuses a socket just as the server closes it.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
  }

  /** Base URL for the SDK's `endpoint` option or `AWS_ENDPOINT_URL_FIREHOSE`, e.g. `http://127.0.0.1:4573`. */
  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  /** The port listened on; it stays the same across `pause()` and `resume()`. */
  get port(): number {
    return this.boundPort;
  }

  /** Every call received so far, oldest first. */
  get calls(): readonly FirehoseCall[] {
    return [...this.callLog];
  }

  get stats(): FirehoseEndpointStats {
    return { ...this.counters };
  }

  /** Accepted records, oldest first, of one stream or of all. Empty when `keepRecords` is off. */
  records(streamName?: string): AcceptedRecord[] {
    return streamName === undefined
      ? [...this.accepted]
      : this.accepted.filter((record) => record.streamName === streamName);
  }

  /** Makes a delivery stream exist from now on. */
  addStream(streamName: string): void {
    this.checkStreamName(streamName);
    this.streams.add(streamName);
  }

  /** Makes a delivery stream unknown from now on, as if it had been deleted. */
  removeStream(streamName: string): void {
    this.streams.delete(streamName);
  }

  /** Forgets accepted records, the call log and the counters; streams, faults and latency stay. */
  clear(): void {
    this.accepted.length = 0;
    this.callLog.length = 0;
    this.acceptedByStream.clear();
    this.counters = { calls: 0, rejectedCalls: 0, acceptedRecords: 0, acceptedBytes: 0, failedRecords: 0 };
  }

  /**
   * Calls `listener` after every call that stored records, before the call is answered. Returns a function that
   * removes the listener. An exception thrown by a listener is rethrown asynchronously and does not fail the call.
   */
  onRecords(listener: (event: AcceptedRecordsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the stream's records once at least `count` have been accepted for it (counting records accepted
   * before the call); rejects after `timeoutMs` saying how many arrived. With `keepRecords` off it resolves with [].
   */
  waitForRecords(streamName: string, count: number, timeoutMs = 10_000): Promise<AcceptedRecord[]> {
    if ((this.acceptedByStream.get(streamName) ?? 0) >= count) {
      return Promise.resolve(this.records(streamName));
    }
    return new Promise((resolve, reject) => {
      const waiter: RecordsWaiter = {
        streamName,
        count,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.records(streamName));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const received = this.acceptedByStream.get(streamName) ?? 0;
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${count} records on delivery stream ${streamName}; ${received} arrived.`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /**
   * Fails whole calls with an error response, by default the throttling answer of the service:
   * ServiceUnavailableException, HTTP 503, "Slow down.". The SDK retries 5xx and throttling errors by itself; give
   * the client `maxAttempts: 1` to see every failure. Replaces any earlier call fault.
   */
  failCalls(options: CallFaultOptions = {}): void {
    const reply = errorReply(options.code ?? 'ServiceUnavailableException', options.status, options.message);
    this.callFault = { ...reply, remaining: checkCount('failCalls count', options.count) };
  }

  /**
   * Fails individual records: PutRecordBatch answers them with `ErrorCode`/`ErrorMessage` and counts them in
   * `FailedPutCount`, storing the others; PutRecord fails the whole call with the code. Replaces any earlier record
   * fault.
   */
  failRecords(options: RecordFaultOptions = {}): void {
    const rate = options.rate ?? 1;
    if (!(rate > 0 && rate <= 1)) {
      throw new Error(`failRecords rate must be above 0 and at most 1, got ${rate}`);
    }
    const reply = errorReply(options.code ?? 'ServiceUnavailableException', undefined, options.message);
    this.recordFault = { ...reply, remaining: checkCount('failRecords count', options.count), rate, seen: 0 };
  }

  /** Leaves calls unanswered so clients hit their request timeout. Replaces any earlier hang fault. */
  hangCalls(options: HangOptions = {}): void {
    this.hangFault = { remaining: checkCount('hangCalls count', options.count) };
  }

  /** Removes every call, record and hang fault and the added latency. Calls already hanging stay unanswered. */
  clearFaults(): void {
    this.callFault = undefined;
    this.recordFault = undefined;
    this.hangFault = undefined;
    this.latencyMs = 0;
  }

  /** Delays every answer by `latencyMs` (0 removes the delay). */
  setLatency(latencyMs: number): void {
    if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) {
      throw new Error(`latency must be a non-negative number of milliseconds, got ${latencyMs}`);
    }
    this.latencyMs = latencyMs;
  }

  /**
   * Stops listening and cuts every open connection: new connections are refused (ECONNREFUSED), and a client's
   * kept-alive connection fails its next call with ECONNRESET ("socket hang up"), as when the service is
   * unreachable. A call cut while waiting out `setLatency` is dropped; one cut later may still be stored although its
   * client saw an error, as can happen with the service.
   */
  async pause(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again on the same port after `pause()`. */
  async resume(): Promise<void> {
    if (this.stopped) throw new Error('The local Firehose endpoint was stopped; start a new one.');
    if (this.listening) return;
    await this.listen(this.boundPort);
  }

  /** Stops listening, cuts every connection and waits for objects being written to `dataDir`. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pause();
    await Promise.allSettled([...this.pendingWrites]);
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.host, port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`expected a TCP address from the listening server, got ${String(address)}`);
    }
    this.boundPort = address.port;
    this.listening = true;
  }

  private checkStreamName(streamName: string): void {
    if (!STREAM_NAME_PATTERN.test(streamName)) {
      throw new Error(
        `Delivery stream names are 1 to 64 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(streamName)}`,
      );
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const receivedAt = new Date();
    const target = request.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    // Only the region is read from the Authorization header; the header and its key id are never kept.
    const region = CREDENTIAL_SCOPE_REGION.exec(request.headers.authorization ?? '')?.[1];

    const known = operation === 'PutRecord' || operation === 'PutRecordBatch';
    const parsed = known ? this.parse(operation, chunks) : undefined;
    const details = parsed === undefined || 'code' in parsed ? {} : parsed;

    if (this.hangFault !== undefined && this.hangFault.remaining > 0) {
      this.hangFault.remaining--;
      this.logCall({ ...details, operation, region, receivedAt, outcome: 'hung' });
      return;
    }
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (response.destroyed) return;

    const rejected = (reply: ErrorReply): void => {
      this.counters.rejectedCalls++;
      this.logCall({ ...details, operation, region, receivedAt, outcome: 'rejected', errorCode: reply.code });
      this.reply(response, reply);
    };

    if (parsed === undefined) {
      const shown = typeof target === 'string' ? target : '(no X-Amz-Target header)';
      rejected(errorReply('UnknownOperationException', 400, `Unknown operation ${shown}.`));
      return;
    }
    if (this.callFault !== undefined && this.callFault.remaining > 0) {
      this.callFault.remaining--;
      rejected(this.callFault);
      return;
    }
    if ('code' in parsed) {
      rejected(parsed);
      return;
    }
    const refused = this.checkLimits(parsed);
    if (refused !== undefined) {
      rejected(refused);
      return;
    }

    const answer = await this.accept(parsed, region, receivedAt);
    if ('code' in answer) {
      rejected(answer);
      return;
    }
    this.replyJson(response, 200, answer);
  }

  /**
   * Stores the records of a valid call, except those a record fault fails, and returns the response body; or the
   * error that fails the whole call.
   */
  private async accept(
    call: ParsedCall,
    region: string | undefined,
    receivedAt: Date,
  ): Promise<PutRecordOutput | PutRecordBatchOutput | ErrorReply> {
    const failures = call.records.map(() => this.nextRecordFault());
    if (call.operation === 'PutRecord' && failures[0] !== undefined) return failures[0];

    const ids = this.recordIds.forCall(call.records.length);
    const stored: AcceptedRecord[] = [];
    call.records.forEach((data, index) => {
      if (failures[index] === undefined) {
        stored.push({ streamName: call.streamName, region, data, recordId: ids[index], receivedAt });
      }
    });
    if (this.writer !== undefined && stored.length > 0) {
      const write = this.writer.write(
        call.streamName,
        stored.map((record) => record.data),
        receivedAt,
      );
      this.pendingWrites.add(write);
      try {
        await write;
      } catch (error) {
        return errorReply('InternalFailure', 500, `Could not write to the data directory: ${String(error)}`);
      } finally {
        this.pendingWrites.delete(write);
      }
    }

    const failedCount = call.records.length - stored.length;
    this.store(stored);
    this.counters.failedRecords += failedCount;
    this.logCall({
      ...call,
      region,
      receivedAt,
      outcome: failedCount > 0 ? 'partial' : 'accepted',
      failedRecordCount: failedCount,
    });
    if (stored.length > 0) this.notify(call.streamName, region, stored);

    if (call.operation === 'PutRecord') return { RecordId: ids[0], Encrypted: false };
    return {
      FailedPutCount: failedCount,
      Encrypted: false,
      RequestResponses: failures.map((failure, index) =>
        failure === undefined
          ? { RecordId: ids[index] }
          : { ErrorCode: failure.code, ErrorMessage: failure.message },
      ),
    };
  }

  /** Decodes the request body, answering malformed requests as the service's front end does. */
  private parse(operation: FirehoseOperation, chunks: readonly Buffer[]): ParsedCall | ErrorReply {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return errorReply('SerializationException', 400, 'Start of structure or map found where not expected.');
    }
    if (typeof body !== 'object' || body === null) {
      return errorReply('SerializationException', 400, 'Expected a JSON object as request body.');
    }
    const input = body as { DeliveryStreamName?: unknown; Record?: unknown; Records?: unknown };
    const streamName = input.DeliveryStreamName;
    if (typeof streamName !== 'string') {
      return validationError(
        "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
      );
    }
    if (!STREAM_NAME_PATTERN.test(streamName)) {
      return validationError(
        `Value '${streamName}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
      );
    }
    const rawRecords = operation === 'PutRecord' ? [input.Record] : input.Records;
    if (!Array.isArray(rawRecords)) {
      return validationError("Value null at 'records' failed to satisfy constraint: Member must not be null");
    }
    const records: Buffer[] = [];
    let bytes = 0;
    for (const raw of rawRecords) {
      const data = (raw as { Data?: unknown } | null | undefined)?.Data;
      if (typeof data !== 'string') {
        return validationError(
          "Value null at 'record.data' failed to satisfy constraint: Member must not be null",
        );
      }
      const decoded = Buffer.from(data, 'base64');
      records.push(decoded);
      bytes += decoded.length;
    }
    return { operation, streamName, records, bytes };
  }

  /** Applies the service quotas, in the order the service reports them: shape, then size, then the stream. */
  private checkLimits(call: ParsedCall): ErrorReply | undefined {
    const { records } = call;
    if (call.operation === 'PutRecordBatch') {
      if (records.length === 0) {
        return validationError(
          "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
      }
      if (records.length > FIREHOSE_LIMITS.maxRecordsPerBatch) {
        return validationError(
          `Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordsPerBatch}`,
        );
      }
    }
    const tooLarge = records.findIndex((data) => data.length > FIREHOSE_LIMITS.maxRecordBytes);
    if (tooLarge >= 0) {
      const field = call.operation === 'PutRecord' ? 'record.data' : `records.${tooLarge + 1}.member.data`;
      return validationError(
        `Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordBytes}`,
      );
    }
    if (call.bytes > FIREHOSE_LIMITS.maxCallBytes) {
      return errorReply('InvalidArgumentException', 400, 'Records size exceeds 4 MB limit');
    }
    if (!this.acceptAnyStream && !this.streams.has(call.streamName)) {
      return errorReply(
        'ResourceNotFoundException',
        400,
        `Firehose ${call.streamName} not found under account ${this.accountId}.`,
      );
    }
    return undefined;
  }

  private nextRecordFault(): ErrorReply | undefined {
    const fault = this.recordFault;
    if (fault === undefined || fault.remaining <= 0) return undefined;
    // Fails record n when floor(n * rate) steps up, which spreads failures evenly and makes rate 1 fail every record.
    fault.seen++;
    if (Math.floor(fault.seen * fault.rate) === Math.floor((fault.seen - 1) * fault.rate)) return undefined;
    fault.remaining--;
    return fault;
  }

  private store(records: readonly AcceptedRecord[]): void {
    if (records.length === 0) return;
    const { streamName } = records[0];
    let bytes = 0;
    for (const record of records) {
      bytes += record.data.length;
      if (this.keepRecords) this.accepted.push(record);
    }
    this.counters.acceptedRecords += records.length;
    this.counters.acceptedBytes += bytes;
    const total = (this.acceptedByStream.get(streamName) ?? 0) + records.length;
    this.acceptedByStream.set(streamName, total);
    for (const waiter of this.waiters) {
      if (waiter.streamName === streamName && total >= waiter.count) waiter.resolve();
    }
  }

  private notify(streamName: string, region: string | undefined, records: readonly AcceptedRecord[]): void {
    if (this.listeners.size === 0) return;
    const bytes = records.reduce((sum, record) => sum + record.data.length, 0);
    const event: AcceptedRecordsEvent = { streamName, region, records, bytes, stats: this.stats };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private logCall(call: CallLogEntry): void {
    this.counters.calls++;
    this.callLog.push({
      operation: call.operation,
      streamName: call.streamName,
      region: call.region,
      recordCount: call.records?.length ?? 0,
      bytes: call.bytes ?? 0,
      outcome: call.outcome,
      failedRecordCount: call.failedRecordCount ?? 0,
      errorCode: call.errorCode,
      receivedAt: call.receivedAt,
    });
  }

  private reply(response: ServerResponse, error: ErrorReply): void {
    this.replyJson(response, error.status, { __type: error.code, message: error.message });
  }

  private replyJson(response: ServerResponse, status: number, body: object): void {
    if (response.destroyed || response.headersSent) return;
    const payload = JSON.stringify(body);
    response.writeHead(status, {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(payload),
      'x-amzn-RequestId': randomUUID(),
    });
    response.end(payload);
  }
}
