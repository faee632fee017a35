/**
 * A local Firehose endpoint: the service emulation (firehose-service.ts) on an HTTP port, for the real AWS SDK v3
 * through `AWS_ENDPOINT_URL_FIREHOSE` or the client's `endpoint` option. The connector's local mode runs one
 * in-process; tests use test/helpers/firehose-endpoint.ts, which adds observation and fault injection.
 */
import {
  FirehoseService,
  type FirehoseServiceHook,
  type FirehoseServiceOptions,
  type FirehoseServiceStats,
} from './firehose-service';
import { HttpListener } from './http-listener';

export interface LocalFirehoseEndpointOptions extends Omit<FirehoseServiceOptions, 'hook'> {
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
    await endpoint.listener.listen(options.port ?? 0);
    return endpoint;
  }

  protected readonly service: FirehoseService;
  protected readonly listener: HttpListener;

  /** `hook`: for the instrumented endpoint of the tests (test/helpers/firehose-endpoint.ts). */
  protected constructor(options: LocalFirehoseEndpointOptions, hook?: FirehoseServiceHook) {
    this.service = new FirehoseService({ ...options, hook });
    this.listener = new HttpListener(options.host ?? '127.0.0.1', (request, response) => {
      void this.service.handle(request, response);
    });
  }

  /** Base URL for the SDK's `endpoint` option or `AWS_ENDPOINT_URL_FIREHOSE`, e.g. `http://127.0.0.1:4573`. */
  get url(): string {
    return this.listener.url;
  }

  /** The port listened on. */
  get port(): number {
    return this.listener.port;
  }

  get stats(): FirehoseServiceStats {
    return this.service.stats;
  }

  /** Stops listening, cuts every connection and waits for objects being written to `dataDir`. */
  async stop(): Promise<void> {
    await this.listener.close();
    await this.service.settled();
  }
}
