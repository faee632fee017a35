import {
  FirehoseClient,
  type FirehoseClientConfig,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import type { BuildHandlerOptions, BuildMiddleware, MetadataBearer } from '@smithy/types';
import type { DeliveryStreamTarget } from './delivery-stream';
import { type FirehoseRecord, putRecordBatchBody, putRecordBody } from './request-body';

/** The result of one record in one send. */
export type RecordOutcome =
  | { readonly ok: true; readonly recordId: string }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly retryable: boolean;
      /** The call failed as a whole (no answer, or an error response), rather than this record alone. */
      readonly wholeCall?: boolean;
    };

/** Sends one batch of one stream's records; one outcome per record, in order. Never throws. */
export interface RecordSender {
  send(stream: DeliveryStreamTarget, records: readonly FirehoseRecord[]): Promise<RecordOutcome[]>;
}

export interface FirehoseSenderOptions {
  /**
   * Time allowed for one call, the SDK's own attempts and their backoff included: a call still unanswered then is
   * abandoned (AbortError) and its records go back to the queue.
   */
  readonly requestTimeoutMs: number;
  /** Attempts the SDK's standard retry strategy makes per call. @default 3 */
  readonly sdkMaxAttempts?: number;
  /** Fixed credentials (the local mode); the default credential chain otherwise. */
  readonly credentials?: FirehoseClientConfig['credentials'];
}

/**
 * Error codes (per record, or the name of a call's error) that mean "try again later". Firehose reports throttling
 * per record as ServiceUnavailableException ("Slow down."); the SDK names transport failures TimeoutError and
 * AbortError, and credential trouble (the token exchange service not up yet) CredentialsProviderError.
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalFailureException',
  'InternalServerError',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  'ExpiredTokenException',
  'RequestExpired',
  'CredentialsProviderError',
]);

/** Node.js system error codes of a call that never got an answer. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Sends records with the AWS SDK: PutRecord for a lone record (what the v1 connector did and what
 * `PublishInterval` 0 often produces), PutRecordBatch otherwise. One client per region, because a message may
 * override the stream with one in another region and must be signed for that region.
 */
export class FirehoseSender implements RecordSender {
  private readonly clients = new Map<string, FirehoseClient>();

  constructor(private readonly options: FirehoseSenderOptions) {}

  async send(stream: DeliveryStreamTarget, records: readonly FirehoseRecord[]): Promise<RecordOutcome[]> {
    const client = this.clientFor(stream.region);
    // Bounds the whole call: the SDK's request timeout applies to each of its attempts only.
    const options = { abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs) };
    try {
      if (records.length === 1) {
        const input = { DeliveryStreamName: stream.name, Record: { Data: EMPTY } };
        const response = await client.send(
          new PutRecordCommand(withBody(input, putRecordBody(stream.name, records[0]))),
          options,
        );
        return [{ ok: true, recordId: response.RecordId ?? '' }];
      }
      const input = { DeliveryStreamName: stream.name, Records: [] };
      const body = putRecordBatchBody(stream.name, records);
      const response = await client.send(new PutRecordBatchCommand(withBody(input, body)), options);
      const results = response.RequestResponses ?? [];
      return records.map((_, index): RecordOutcome => {
        const result = results[index];
        if (result && !result.ErrorCode) return { ok: true, recordId: result.RecordId ?? '' };
        const code = result?.ErrorCode ?? 'InternalFailure';
        const message = result?.ErrorMessage ?? 'Firehose returned no result for this record';
        return { ok: false, code, message, retryable: RETRYABLE_CODES.has(code) };
      });
    } catch (error) {
      const outcome = classifyError(error);
      return records.map(() => outcome);
    }
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /** Lets go of the clients (and their connections) of regions no stream in `streams` is in. */
  retainRegionsOf(streams: readonly DeliveryStreamTarget[]): void {
    const used = new Set(streams.map((stream) => stream.region));
    for (const [region, client] of this.clients) {
      if (used.has(region)) continue;
      client.destroy();
      this.clients.delete(region);
    }
  }

  private clientFor(region: string): FirehoseClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new FirehoseClient({
        region,
        credentials: this.options.credentials,
        maxAttempts: this.options.sdkMaxAttempts ?? 3,
        // Resolve the middleware stack once per command type instead of on every call: about a tenth of the CPU of
        // a one-record call. Safe because nothing changes the stack after the client is made.
        cacheMiddleware: true,
        requestHandler: {
          requestTimeout: this.options.requestTimeoutMs,
          connectionTimeout: Math.min(this.options.requestTimeoutMs, 10_000),
          // Without this a timed-out request only logs a warning and the call hangs on.
          throwOnRequestTimeout: true,
        },
      });
      client.middlewareStack.add(usePrebuiltBody, PREBUILT_BODY_MIDDLEWARE);
      this.clients.set(region, client);
    }
    return client;
  }
}

const EMPTY = new Uint8Array(0);

/** Where a command's input carries the request body built by `request-body.ts`. */
const PREBUILT_BODY = Symbol('prebuiltBody');

function withBody<T extends object>(input: T, body: Uint8Array): T {
  return Object.assign(input, { [PREBUILT_BODY]: body });
}

/**
 * Puts the prebuilt body in place of what the SDK's serializer wrote for the record-less input: first in the
 * build step, so that the content length, the signature and the SDK's retries all see the real body.
 */
const usePrebuiltBody: BuildMiddleware<object, MetadataBearer> = (next) => (args) => {
  const body = (args.input as { [PREBUILT_BODY]?: Uint8Array })[PREBUILT_BODY];
  if (body !== undefined) (args.request as { body?: unknown }).body = body;
  return next(args);
};

const PREBUILT_BODY_MIDDLEWARE: BuildHandlerOptions & { priority: 'high' } = {
  step: 'build',
  priority: 'high',
  name: 'firehoseConnectorPrebuiltBody',
};

/**
 * Decides whether a failed call is worth retrying: throttling, 5xx, timeouts, network and credential trouble are.
 * Anything else is not, an error without an HTTP status included: a `TypeError` is a bug to report, not a reason
 * to send the same records again for a day.
 */
export function classifyError(error: unknown): RecordOutcome & { ok: false } {
  const details = error as {
    name?: string;
    code?: string;
    message?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const code = details?.name && details.name !== 'Error' ? details.name : (details?.code ?? 'UnknownError');
  const message = details?.message || String(error);
  const status = details?.$metadata?.httpStatusCode;
  const retryable =
    RETRYABLE_CODES.has(code) ||
    (details?.code !== undefined && NETWORK_ERROR_CODES.has(details.code)) ||
    details?.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500);
  return { ok: false, code, message, retryable, wholeCall: true };
}
