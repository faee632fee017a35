import { createServer, type RequestListener, type Server } from 'node:http';

/** An HTTP server on one address that can stop listening, cutting every connection, and listen again. */
export class HttpListener {
  private readonly server: Server;
  private boundPort = 0;
  private listening = false;

  constructor(
    private readonly host: string,
    listener: RequestListener,
  ) {
    this.server = createServer(listener);
    // Well above Node's 5 s default, so the SDK's keep-alive agent seldom reuses a socket just as the server closes it.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
  }

  /** e.g. `http://127.0.0.1:4573`. */
  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  /** The port listened on, or last listened on. */
  get port(): number {
    return this.boundPort;
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Listens on `port` (0: a free one) and resolves once connections are accepted. */
  async listen(port: number): Promise<void> {
    if (this.listening) return;
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

  /**
   * Stops listening and cuts every open connection: new connections are refused (ECONNREFUSED), and a client's
   * kept-alive connection fails its next call with ECONNRESET.
   */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
