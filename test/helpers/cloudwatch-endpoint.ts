/**
 * The local CloudWatch endpoint (runtime/local/cloudwatch-endpoint.ts) instrumented for tests and the benchmark: it
 * keeps every accepted call, can fail calls, and can be taken offline and back. Test-only: neither bundle carries it.
 */
import { cloudWatchError, type ReceivedDatum } from '../../runtime/local/cloudwatch-protocol';
import {
  LocalCloudWatchEndpoint,
  type LocalCloudWatchEndpointOptions,
} from '../../runtime/local/cloudwatch-endpoint';
import type { AcceptedMetricData, CloudWatchHookDecision } from '../../runtime/local/cloudwatch-service';
import { waitFor } from './wait';

export type { AcceptedMetricData, ReceivedDatum };

export class TestCloudWatchEndpoint extends LocalCloudWatchEndpoint {
  static override async start(options: LocalCloudWatchEndpointOptions = {}): Promise<TestCloudWatchEndpoint> {
    const endpoint = new TestCloudWatchEndpoint(options, { calls: [] });
    await endpoint.listener.listen(options.port ?? 0);
    return endpoint;
  }

  private stopped = false;

  private constructor(
    options: LocalCloudWatchEndpointOptions,
    private readonly state: { readonly calls: AcceptedMetricData[]; failure?: CloudWatchHookDecision },
  ) {
    super(options, {
      beforeCall: () => state.failure,
      onData: (call) => {
        state.calls.push(call);
        options.onData?.(call);
      },
    });
  }

  /** Every call accepted, oldest first. */
  get calls(): readonly AcceptedMetricData[] {
    return this.state.calls;
  }

  /** Every entry accepted, of every call, with the call's namespace. */
  data(namespace?: string): ReceivedDatum[] {
    return this.calls
      .filter((call) => namespace === undefined || call.namespace === namespace)
      .flatMap((call) => call.data);
  }

  /**
   * The sum of a metric's `Value`s (a counter's) over the entries whose dimensions include `dimensions`.
   */
  sum(metricName: string, dimensions: Record<string, string>): number {
    return this.matching(metricName, dimensions).reduce((total, datum) => total + (datum.value ?? 0), 0);
  }

  /** Entries of `metricName` whose dimensions are exactly `dimensions`. */
  matching(metricName: string, dimensions: Record<string, string>): ReceivedDatum[] {
    const wanted = JSON.stringify(Object.entries(dimensions).sort());
    return this.data().filter(
      (datum) =>
        datum.metricName === metricName && JSON.stringify(Object.entries(datum.dimensions).sort()) === wanted,
    );
  }

  /** Resolves once `condition` holds of what arrived; fails after `timeoutMs` naming `what`. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(condition, timeoutMs, what);
  }

  /** Answers every call with InternalServiceFault (HTTP 500) until `clearFaults`. */
  failCalls(): void {
    this.state.failure = cloudWatchError('InternalServiceFault', 'Local endpoint told to fail.');
  }

  clearFaults(): void {
    this.state.failure = undefined;
  }

  /** Stops listening and cuts every connection: calls fail with ECONNREFUSED until `resume`. */
  async pause(): Promise<void> {
    await this.listener.close();
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    if (this.stopped) throw new Error('The local CloudWatch endpoint was stopped; start a new one.');
    await this.listener.listen(this.listener.port);
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    await super.stop();
  }
}
