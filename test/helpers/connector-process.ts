import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CONNECTOR_ENVIRONMENT,
  CONNECTOR_NODE_OPTIONS,
  connectorNodeOptions,
} from '../../runtime/contract/node-options';
import { PARAMETERS } from '../../runtime/contract/parameters';

/** The device bundle `npm run build` writes; jest's global setup builds it before any suite runs. */
export const CONNECTOR_BUNDLE = resolve(__dirname, '../../dist/firehose-connector.js');
/** The local bundle `npm start` runs: the device bundle plus the embedded broker and local Firehose endpoint. */
export const LOCAL_BUNDLE = resolve(__dirname, '../../dist/firehose-connector-local.js');

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** The real connector, as a child process started the way users start it: `firehose-connector --config FILE`. */
export class ConnectorProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    let partialLine = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      // A chunk may end mid-line: keep the tail until the rest of its line arrives.
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) this.logs.push(JSON.parse(line) as LogLine);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  /**
   * Starts the connector with `parameters` in a config file and the local endpoint as its Firehose endpoint.
   * Waits until it is ready (subscribed) unless `waitUntilSubscribed` is false.
   */
  static async start(
    parameters: Record<string, string | number>,
    options: {
      firehoseUrl?: string;
      env?: NodeJS.ProcessEnv;
      args?: string[];
      waitUntilSubscribed?: boolean;
      /** Shell commands run before the connector is exec'd, such as `ulimit -f 64;`. @default none */
      shellPrefix?: string;
    } = {},
  ): Promise<ConnectorProcess> {
    const configFile = join(mkdtempSync(join(tmpdir(), 'connector-')), 'config.json');
    writeFileSync(configFile, JSON.stringify({ StatsIntervalSeconds: 0, ...parameters }));
    const memorySizeKb = Number(parameters.MemorySize ?? PARAMETERS.MemorySize.default);
    const nodeArgs = [
      ...connectorNodeOptions(memorySizeKb),
      CONNECTOR_BUNDLE,
      '--config',
      configFile,
      ...(options.args ?? []),
    ];
    // exec keeps the connector's PID, so signals and /proc readings reach it and not the shell.
    const [command, args] = options.shellPrefix
      ? ['/bin/sh', ['-c', `${options.shellPrefix} exec "$0" "$@"`, process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const child = spawn(command, args, {
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        ...CONNECTOR_ENVIRONMENT,
        ...(options.firehoseUrl ? { AWS_ENDPOINT_URL_FIREHOSE: options.firehoseUrl } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const connector = new ConnectorProcess(child);
    if (options.waitUntilSubscribed ?? true) await connector.waitForLog('Ready');
    return connector;
  }

  /** Runs the bundle with `args` to completion, for the command-line checks. */
  static async runToExit(
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [...CONNECTOR_NODE_OPTIONS, CONNECTOR_BUNDLE, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const connector = new ConnectorProcess(child);
    const code = await connector.exited;
    return { code, stdout: connector.stdout, stderr: connector.stderr };
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForLog(message: string, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((entry) => entry.message === message);
      if (line) return line;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `No "${message}" log line (exit ${this.child.exitCode}). stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise((tick) => setTimeout(tick, 20));
    }
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`connector did not exit within ${timeoutMs} ms of ${signal}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
