import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './wait';

/**
 * The official Greengrass IPC client (aws-iot-device-sdk-v2) for tests, running in a child process
 * (`official-ipc-client-process.ts`, which says why). One instance is one client connection.
 */

/** A failure as the official client reports it: its `RpcErrorType` and, for a modeled error, the service's error. */
export interface OfficialClientError {
  readonly type?: number;
  readonly description: string;
  readonly serviceError?: { readonly message?: string };
}

/** A `SubscriptionResponseMessage` as the official client delivered it, binary bytes as a Buffer. */
export interface ReceivedMessage {
  readonly binaryMessage?: { readonly message: Buffer; readonly context?: { readonly topic?: string } };
  readonly jsonMessage?: { readonly message: unknown; readonly context?: { readonly topic?: string } };
}

export interface OfficialSubscription {
  readonly messages: ReceivedMessage[];
  /** The official client emitted `ended` (the server terminated the stream). */
  readonly ended: boolean;
  close(): Promise<void>;
}

type Line =
  | { readonly id: number; readonly result?: unknown; readonly error?: OfficialClientError }
  | { readonly event: 'message'; readonly operation: number; readonly message: Record<string, unknown> }
  | { readonly event: 'ended'; readonly operation: number }
  | { readonly event: 'disconnection' };

const REPOSITORY = resolve(__dirname, '../..');

export class OfficialIpcClient {
  /** The official client emitted `disconnection`. */
  disconnected = false;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: unknown) => void }
  >();
  private readonly subscriptions = new Map<number, { messages: ReceivedMessage[]; ended: boolean }>();

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => this.receive(JSON.parse(text) as Line));
    child.stderr!.resume();
  }

  /** Connects to `socketPath` with `authToken`; rejects with an `OfficialClientError` when the client fails to. */
  static async connect(socketPath: string, authToken: string): Promise<OfficialIpcClient> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'official-ipc-client-process.ts')],
      {
        cwd: REPOSITORY,
        env: { PATH: process.env.PATH },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const client = new OfficialIpcClient(child);
    try {
      await client.call('connect', { socketPath, authToken });
    } catch (error) {
      child.kill();
      throw error;
    }
    return client;
  }

  async subscribe(topic: string): Promise<OfficialSubscription> {
    const id = this.nextId;
    const state = { messages: [] as ReceivedMessage[], ended: false };
    this.subscriptions.set(id, state);
    await this.call('subscribe', { topic });
    return {
      messages: state.messages,
      get ended() {
        return state.ended;
      },
      close: async () => void (await this.call('closeOperation', { operation: id })),
    };
  }

  /** `request` as the official client takes it; a `{ base64 }` value stands for bytes. */
  async publishToTopic(request: object): Promise<void> {
    await this.call('publishToTopic', { request });
  }

  async publishToIoTCore(request: object): Promise<void> {
    await this.call('publishToIoTCore', { request });
  }

  async waitForDisconnection(): Promise<void> {
    await waitFor(() => this.disconnected, 5000, 'the disconnection event');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    await this.call('close', {}).catch(() => undefined);
    await exited;
  }

  private call(op: string, fields: object): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      this.child.stdin!.write(JSON.stringify({ id, op, ...fields }) + '\n');
    });
  }

  private receive(line: Line): void {
    if ('id' in line) {
      const waiter = this.pending.get(line.id);
      this.pending.delete(line.id);
      if (line.error) waiter?.reject(Object.assign(new Error(line.error.description), line.error));
      else waiter?.resolve(line.result);
      return;
    }
    if (line.event === 'disconnection') {
      this.disconnected = true;
      return;
    }
    const subscription = this.subscriptions.get(line.operation);
    if (!subscription) return;
    if (line.event === 'ended') subscription.ended = true;
    else subscription.messages.push(decodeMessage(line.message));
  }
}

function decodeMessage(message: Record<string, unknown>): ReceivedMessage {
  const binary = message.binaryMessage as { base64: string; context?: { topic?: string } } | undefined;
  return binary
    ? { binaryMessage: { message: Buffer.from(binary.base64, 'base64'), context: binary.context } }
    : (message as ReceivedMessage);
}
