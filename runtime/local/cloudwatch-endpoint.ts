/**
 * A local CloudWatch endpoint for `PutMetricData`: the service emulation (cloudwatch-service.ts) on an HTTP port, for
 * the real AWS SDK v3 through `AWS_ENDPOINT_URL_CLOUDWATCH`. The local mode runs one in-process and prints what
 * arrives; tests use test/helpers/cloudwatch-endpoint.ts, which keeps what arrives and can go offline.
 */
import {
  type AcceptedMetricData,
  CloudWatchService,
  type CloudWatchServiceHook,
  type CloudWatchServiceStats,
} from './cloudwatch-service';
import { HttpListener } from './http-listener';

export interface LocalCloudWatchEndpointOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; 0 lets the system pick a free one, read back from `port`. @default 0 */
  readonly port?: number;
  /** Called with every call accepted. @default - nothing */
  readonly onData?: (call: AcceptedMetricData) => void;
}

export class LocalCloudWatchEndpoint {
  /** Starts an endpoint and resolves once it accepts connections. */
  static async start(options: LocalCloudWatchEndpointOptions = {}): Promise<LocalCloudWatchEndpoint> {
    const endpoint = new LocalCloudWatchEndpoint(options, { onData: options.onData });
    await endpoint.listener.listen(options.port ?? 0);
    return endpoint;
  }

  protected readonly service: CloudWatchService;
  protected readonly listener: HttpListener;

  /** `hook`: the local mode's listener, or the instrumentation of the tests. */
  protected constructor(options: LocalCloudWatchEndpointOptions, hook: CloudWatchServiceHook) {
    this.service = new CloudWatchService(hook);
    this.listener = new HttpListener(options.host ?? '127.0.0.1', (request, response) => {
      void this.service.handle(request, response);
    });
  }

  /** Base URL for `AWS_ENDPOINT_URL_CLOUDWATCH`, e.g. `http://127.0.0.1:4582`. */
  get url(): string {
    return this.listener.url;
  }

  get port(): number {
    return this.listener.port;
  }

  get stats(): CloudWatchServiceStats {
    return this.service.stats;
  }

  /** Stops listening and cuts every connection. */
  async stop(): Promise<void> {
    await this.listener.close();
  }
}
