/**
 * A real MQTT broker per test suite: mosquitto when it is installed, otherwise the connector's embedded aedes broker,
 * each in its own process on a free port of 127.0.0.1.
 *
 * `TEST_BROKER=mosquitto` insists on mosquitto (CI sets it, so a missing install fails loudly);
 * `TEST_BROKER=embedded` forces the embedded broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { freePort } from './ports';
import { sleep } from './wait';

export type TestBrokerKind = 'mosquitto' | 'embedded';

export interface TestBrokerOptions {
  /**
   * Which broker to run.
   * @default `TEST_BROKER` when set, else mosquitto when installed, else embedded
   */
  readonly kind?: TestBrokerKind;
  /**
   * Port to listen on.
   * @default a free port
   */
  readonly port?: number;
  /**
   * mosquitto's `max_inflight_messages`: outgoing QoS 1 messages per client awaiting PUBACK. mosquitto's default of
   * 20 throttles a benchmark subscriber to one round trip per 20 messages.
   * @default 1000
   */
  readonly maxInflightMessages?: number;
  /**
   * Serve MQTT over TLS with these PEM files; clients must present a certificate signed by `caFile`.
   * @default plain TCP
   */
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
}

export interface TestBroker {
  /** URL for MQTT clients, e.g. `mqtt://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly kind: TestBrokerKind;
  /**
   * Stops the broker and starts it again on the same port. Persistent sessions and their queued QoS 1 messages
   * survive: mosquitto saves them to its database on SIGTERM and reloads them; the embedded broker keeps them in
   * memory while it drops every client.
   */
  restart(): Promise<void>;
  /** Stops the broker process and removes its files. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;
const REPOSITORY_ROOT = resolve(__dirname, '..', '..');
const EMBEDDED_BROKER_MODULE = join(REPOSITORY_ROOT, 'runtime', 'local', 'embedded-broker.ts');

let noticePrinted = false;

/** Starts a broker and resolves once its port accepts connections. */
export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const kind = options.kind ?? chooseKind();
  if (kind === 'embedded') {
    const broker = await startEmbeddedBrokerProcess({ port: options.port, tls: options.tls });
    return { url: broker.url, port: broker.port, kind, restart: broker.restart, stop: broker.kill };
  }
  const binary = findMosquitto();
  if (binary === undefined) {
    throw new Error(
      'mosquitto was requested but is not installed (searched PATH and /usr/sbin). Install it, for example ' +
        '`apt-get install mosquitto`, or unset TEST_BROKER to fall back to the embedded broker.',
    );
  }
  return startMosquitto(binary, options);
}

/** Path of the mosquitto executable, searched in PATH and the sbin directories Debian and Homebrew use. */
export function findMosquitto(): string | undefined {
  const directories = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/opt/homebrew/sbin',
  ];
  for (const directory of directories.filter((entry) => entry !== '')) {
    const candidate = join(directory, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function chooseKind(): TestBrokerKind {
  const requested = process.env.TEST_BROKER;
  if (requested === 'mosquitto') return 'mosquitto';
  if (requested === 'embedded') {
    printNotice('TEST_BROKER=embedded: running against the embedded aedes broker instead of mosquitto');
    return 'embedded';
  }
  if (requested !== undefined && requested !== '') {
    throw new Error(`TEST_BROKER must be "mosquitto" or "embedded", got ${JSON.stringify(requested)}`);
  }
  if (findMosquitto() !== undefined) return 'mosquitto';
  printNotice(
    'mosquitto not found: running against the embedded aedes broker (install mosquitto to cover the real broker)',
  );
  return 'embedded';
}

function printNotice(notice: string): void {
  if (noticePrinted) return;
  noticePrinted = true;
  process.stderr.write(`${notice}\n`);
}

async function startMosquitto(binary: string, options: TestBrokerOptions): Promise<TestBroker> {
  const directory = await mkdtemp(join(tmpdir(), 'test-mosquitto-'));
  const configFile = join(directory, 'mosquitto.conf');
  const writeConfig = (port: number): Promise<void> =>
    writeFile(configFile, mosquittoConfig(port, directory, options.maxInflightMessages ?? 1000, options.tls));

  // A port found free can be taken before mosquitto binds it (another jest worker); then try another.
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  for (let attempt = 1; child === undefined; attempt++) {
    await writeConfig(port);
    try {
      child = await spawnMosquitto(binary, configFile, port);
    } catch (error) {
      const addressInUse = error instanceof Error && /Address already in use/i.test(error.message);
      if (!addressInUse || options.port !== undefined || attempt === 3) {
        await rm(directory, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  let current: ChildProcess = child;
  let stopped = false;
  const killOnExit = (): void => {
    current.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    kind: 'mosquitto',
    restart: async () => {
      if (stopped) throw new Error('This test broker was stopped; start a new one.');
      await terminate(current);
      current = await spawnMosquitto(binary, configFile, port);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.off('exit', killOnExit);
      await terminate(current);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * mosquitto 2.0 configuration for tests. `man mosquitto.conf` for each option:
 * - max_queued_messages: the default of 1000 silently drops QoS 1 messages for a subscriber that falls behind or
 *   is offline, which would look like the connector losing records.
 * - persistence with autosave_interval 0: the database is written only on shutdown (SIGTERM), so `restart()` keeps
 *   sessions without disk writes slowing a benchmark.
 * - user: when run as root, mosquitto otherwise switches to the mosquitto user, which cannot write the temp dir.
 */
function mosquittoConfig(
  port: number,
  directory: string,
  maxInflightMessages: number,
  tls: TestBrokerOptions['tls'],
): string {
  const tlsLines = tls
    ? [
        `cafile ${tls.caFile}`,
        `certfile ${tls.certFile}`,
        `keyfile ${tls.keyFile}`,
        'require_certificate true',
      ]
    : [];
  return [
    `listener ${port} 127.0.0.1`,
    ...tlsLines,
    'allow_anonymous true',
    'max_queued_messages 1000000',
    `max_inflight_messages ${maxInflightMessages}`,
    'persistence true',
    `persistence_location ${directory}/`,
    'autosave_interval 0',
    `user ${userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

async function spawnMosquitto(binary: string, configFile: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output = (output + chunk).slice(-4000);
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `mosquitto did not start on 127.0.0.1:${port}: ${(error as Error).message}\n${output}`.trim(),
    );
  }
  return child;
}

/** Resolves once 127.0.0.1:`port` accepts a TCP connection; rejects when `child` exits first or on timeout. */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      // Let the last stderr chunk arrive so the error says why.
      await sleep(50);
      throw new Error(`it exited with ${child.exitCode ?? child.signalCode}`);
    }
    if (await accepts(port)) return;
    await sleep(25);
  }
  throw new Error(`its port did not accept connections within ${STARTUP_TIMEOUT_MS} ms`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends SIGTERM (mosquitto saves its database on it) and waits for the exit, escalating to SIGKILL. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** The embedded broker running in a child process, driven over IPC. */
export interface EmbeddedBrokerProcess {
  readonly url: string;
  readonly port: number;
  /** Calls the broker's `restart()` in the child. */
  restart(): Promise<void>;
  /** Calls the broker's `close()` in the child, which keeps running until `kill()`. */
  close(): Promise<void>;
  /** Ends the child process. */
  kill(): Promise<void>;
}

interface ChildEvent {
  readonly event: 'ready' | 'restarted' | 'closed' | 'failed';
  readonly port?: number;
  readonly error?: string;
}

/**
 * Runs `startEmbeddedBroker` (runtime/local/embedded-broker.ts) in a child process. The child is needed because
 * aedes 1.x is an ES module, which Jest cannot load into a CommonJS test on Node before 24.9; tsx compiles the
 * TypeScript module in the child.
 */
export async function startEmbeddedBrokerProcess(
  options: { readonly port?: number; readonly tls?: TestBrokerOptions['tls'] } = {},
): Promise<EmbeddedBrokerProcess> {
  const tls = options.tls
    ? `{ key: read(${JSON.stringify(options.tls.keyFile)}), cert: read(${JSON.stringify(options.tls.certFile)}), ca: read(${JSON.stringify(options.tls.caFile)}) }`
    : 'undefined';
  const script = `
    const { startEmbeddedBroker } = require(${JSON.stringify(EMBEDDED_BROKER_MODULE)});
    const read = (file) => require('node:fs').readFileSync(file);
    const fail = (error) => process.send({ event: 'failed', error: String(error && error.stack || error) });
    startEmbeddedBroker({ host: '127.0.0.1', port: ${options.port ?? 0}, tls: ${tls} }).then((broker) => {
      process.on('message', (message) => {
        if (message === 'restart') broker.restart().then(() => process.send({ event: 'restarted' }), fail);
        if (message === 'close') broker.close().then(() => process.send({ event: 'closed' }), fail);
      });
      process.send({ event: 'ready', port: broker.port });
    }, fail);
    process.on('disconnect', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const request = (
    message: 'restart' | 'close' | undefined,
    expected: ChildEvent['event'],
  ): Promise<ChildEvent> =>
    new Promise((resolvePromise, reject) => {
      const onMessage = (event: ChildEvent): void => {
        cleanup();
        if (event.event === expected) resolvePromise(event);
        else reject(new Error(`The embedded broker process failed: ${event.error ?? event.event}`));
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(
          new Error(
            `The embedded broker process exited with ${code ?? signal} while waiting for "${expected}"`,
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `The embedded broker process did not answer "${expected}" within ${STARTUP_TIMEOUT_MS} ms`,
          ),
        );
      }, STARTUP_TIMEOUT_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      if (message !== undefined) child.send(message);
    });

  const kill = async (): Promise<void> => {
    process.off('exit', killOnExit);
    await terminate(child);
  };
  let ready: ChildEvent;
  try {
    ready = await request(undefined, 'ready');
  } catch (error) {
    await kill();
    throw error;
  }
  const port = ready.port ?? 0;
  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await request('restart', 'restarted');
    },
    close: async () => {
      await request('close', 'closed');
    },
    kill,
  };
}

/** An MQTT client that records every message it receives, from the first packet after CONNACK. */
export interface RecordingClient {
  readonly client: MqttClient;
  /** Payloads received so far, as UTF-8 text, in arrival order. */
  readonly messages: string[];
  /** Resolves once at least `count` messages have arrived; rejects after `timeoutMs` saying how many did. */
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
}

/**
 * Connects an MQTT client without automatic reconnection. The message listener is attached before CONNACK, so
 * messages a persistent session had queued are not missed.
 */
export async function connectRecordingClient(
  url: string,
  options: IClientOptions = {},
): Promise<RecordingClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const messages: string[] = [];
  client.on('message', (_topic, payload) => messages.push(payload.toString()));
  await new Promise<void>((resolvePromise, reject) => {
    const onClose = (): void => fail(new Error(`MQTT connection to ${url} closed before CONNACK`));
    const fail = (error: Error): void => {
      client.end(true);
      reject(error);
    };
    client.once('error', fail);
    client.once('close', onClose);
    client.once('connect', () => {
      client.off('error', fail);
      client.off('close', onClose);
      resolvePromise();
    });
  });
  const waitForMessages = async (count: number, timeoutMs = 5000): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${count} MQTT messages; ${messages.length} arrived`,
        );
      }
      await new Promise((tick) => setTimeout(tick, 10));
    }
    return messages;
  };
  return { client, messages, waitForMessages };
}
