/**
 * A stand-in for CloudWatch's `PutMetricData` that the real AWS SDK v3 talks to: it checks calls as the service
 * does (cloudwatch-protocol.ts), answers them, and hands what it accepted to whoever listens. It keeps nothing but
 * counts; `LocalCloudWatchEndpoint` gives it a server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, regionOf } from './aws-json-request';
import {
  cloudWatchError,
  type CloudWatchError,
  isPutMetricData,
  type MetricDataCall,
  parsePutMetricData,
  unknownOperation,
  writeAccepted,
  writeCloudWatchError,
} from './cloudwatch-protocol';

/** A call the service accepted. */
export interface AcceptedMetricData extends MetricDataCall {
  readonly receivedAt: Date;
  /** Region of the SigV4 credential scope that signed the call; `undefined` for an unsigned call. */
  readonly region: string | undefined;
}

export interface CloudWatchServiceStats {
  readonly calls: number;
  readonly rejectedCalls: number;
  /** `MetricData` entries accepted. */
  readonly data: number;
}

/** What `beforeCall` decides: leave the call unanswered, fail it with an error, or carry on. */
export type CloudWatchHookDecision = 'hang' | CloudWatchError | undefined;

/** Points where the local mode and the tests watch the service and change its answers. Every method is optional. */
export interface CloudWatchServiceHook {
  /** Called for every request once its body is read, before any check. */
  beforeCall?(): CloudWatchHookDecision | Promise<CloudWatchHookDecision>;
  /** Called with every call accepted, before it is answered. */
  onData?(call: AcceptedMetricData): void;
}

export class CloudWatchService {
  private counters = { calls: 0, rejectedCalls: 0, data: 0 };

  constructor(
    private readonly hook: CloudWatchServiceHook = {},
    private readonly now: () => number = Date.now,
  ) {}

  get stats(): CloudWatchServiceStats {
    return { ...this.counters };
  }

  /** Answers one HTTP request; never rejects. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.answer(request, response);
    } catch (error) {
      writeCloudWatchError(
        response,
        cloudWatchError('InternalServiceFault', `Local endpoint failure: ${String(error)}`),
      );
    }
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    this.counters.calls++;
    const receivedAt = new Date(this.now());
    const reject = (error: CloudWatchError): void => {
      this.counters.rejectedCalls++;
      writeCloudWatchError(response, error);
    };
    const decision = await this.hook.beforeCall?.();
    if (decision === 'hang' || response.destroyed) return;
    if (decision !== undefined) return reject(decision);
    if (!isPutMetricData(request.headers)) return reject(unknownOperation(request.headers));
    const call = parsePutMetricData(request.headers, body, receivedAt);
    if ('code' in call) return reject(call);
    this.counters.data += call.data.length;
    const region = regionOf(request.headers, 'monitoring');
    this.hook.onData?.({ ...call, receivedAt, region });
    writeAccepted(response);
  }
}
