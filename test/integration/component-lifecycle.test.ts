import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecipe, type ComponentRecipe } from '../../lib/recipe';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { CONNECTOR_BUNDLE, type LogLine } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { StandInNucleus } from '../helpers/ipc-nucleus';
import { TestMqttClient } from '../helpers/mqtt-client';
import { waitFor } from '../helpers/wait';

/**
 * The component's Run and Shutdown steps as the nucleus runs them: the recipe's scripts with `{configuration:/...}`,
 * `{artifacts:path}` and `{work:path}` interpolated, each started with `sh -c` in the work folder with the Setenv
 * variables, against a real broker and the local Firehose endpoint. When a component stops, the nucleus runs the
 * Shutdown step, then sends SIGTERM to the Run process and SIGKILL 5 s later (GenericExternalService.shutdown,
 * Exec.gracefulShutdownTimeout); the tests do the same.
 */

const COMPONENT = 'community.greengrass.FirehoseConnector';
const STREAM_ARN = streamArn('main');
/** Longer than the 5 s between the nucleus's SIGTERM and its SIGKILL. */
const SLOW_CALL_MS = 6000;

let broker: TestBroker;
let endpoint: TestFirehoseEndpoint;
let client: TestMqttClient;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.stop();
});

beforeEach(async () => {
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
  client = await TestMqttClient.connect(broker.url);
});

afterEach(async () => {
  for (const child of processes.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await client.close();
  await endpoint.stop();
});

/** A component installed as the nucleus lays it out: the artifact in its store, and a work folder. */
interface InstalledComponent {
  readonly recipe: ComponentRecipe;
  readonly workDir: string;
  readonly artifactsPath: string;
  /** The Setenv variables, interpolated. */
  readonly env: NodeJS.ProcessEnv;
  /** A lifecycle script, interpolated. */
  script(step: 'Run' | 'Shutdown'): string;
}

/** `nucleusEnv`: what the nucleus adds to the environment of its components' processes (its IPC socket and token). */
function install(
  configuration: Record<string, string>,
  nucleusEnv: NodeJS.ProcessEnv = {},
): InstalledComponent {
  const root = mkdtempSync(join(tmpdir(), 'greengrass-'));
  const artifactsPath = join(root, 'packages', 'artifacts', COMPONENT, '1.0.0');
  const workDir = join(root, 'work', COMPONENT);
  mkdirSync(artifactsPath, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  copyFileSync(CONNECTOR_BUNDLE, join(artifactsPath, 'firehose-connector.js'));
  const recipe = buildRecipe({
    componentName: COMPONENT,
    componentVersion: '1.0.0',
    defaultDeliveryStreamArn: STREAM_ARN,
    artifactUri: `s3://bucket/${COMPONENT}/1.0.0/firehose-connector.js`,
  });
  const values: Record<string, unknown> = {
    ...recipe.ComponentConfiguration.DefaultConfiguration,
    ...configuration,
  };
  // An absent key keeps its placeholder, as the nucleus's KernelConfigResolver does.
  const interpolate = (text: string) =>
    text
      .replace(/\{configuration:\/(\w+)\}/g, (placeholder, key: string) =>
        key in values ? String(values[key]) : placeholder,
      )
      .replace(/\{artifacts:path\}/g, artifactsPath)
      .replace(/\{work:path\}/g, workDir);
  const lifecycle = recipe.Manifests[0].Lifecycle;
  const env = {
    ...nucleusEnv,
    ...Object.fromEntries(
      Object.entries(lifecycle.Setenv).map(([name, value]) => [name, interpolate(value)]),
    ),
  };
  return { recipe, workDir, artifactsPath, env, script: (step) => interpolate(lifecycle[step].Script) };
}

/** A lifecycle step started as the nucleus starts it, with its output collected. */
class Step {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    processes.push(child);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.logs.splice(
        0,
        this.logs.length,
        ...this.stdout
          .split('\n')
          .filter((line) => line.startsWith('{') && line.endsWith('}'))
          .map((line) => JSON.parse(line) as LogLine),
      );
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(component: InstalledComponent, step: 'Run' | 'Shutdown'): Step {
    const child = spawn('/bin/sh', ['-c', component.script(step)], {
      cwd: component.workDir,
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        AWS_ENDPOINT_URL_FIREHOSE: endpoint.url,
        ...component.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Step(child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForLog(predicate: (line: LogLine) => boolean, what: string): Promise<void> {
    await waitFor(() => this.logs.some(predicate) || !this.running, 15_000, what);
    if (!this.logs.some(predicate)) throw new Error(`Exited before ${what}:\n${this.stdout}\n${this.stderr}`);
  }
}

/** What the nucleus does after the Shutdown step: SIGTERM to the Run process, SIGKILL 5 s later. */
async function stopLikeTheNucleus(run: Step): Promise<void> {
  if (!run.running) return;
  run.child.kill('SIGTERM');
  const killer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
  await run.exited;
  clearTimeout(killer);
}

async function startConnector(
  configuration: Record<string, string> = {},
): Promise<{ component: InstalledComponent; run: Step }> {
  const component = install({
    // These steps are checked on the broker path; the last test runs the recipe's default input, IPC.
    InputSource: 'mqtt',
    MqttBrokerUrl: broker.url,
    MqttClientId: `component-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
    PublishInterval: '600',
    StatsIntervalSeconds: '1',
    ShutdownTimeoutSeconds: '20',
    ...configuration,
  });
  const run = Step.start(component, 'Run');
  await run.waitForLog((line) => line.message === 'Ready', 'the Ready log line');
  return { component, run };
}

/** Publishes `count` JSON messages and waits until the connector holds them all in its queue. */
async function queueRecords(run: Step, count: number): Promise<string[]> {
  const data = Array.from({ length: count }, (_, index) => `queued record ${index}`);
  for (const [index, text] of data.entries())
    await client.publishJson({ request: { data: text }, id: `id-${index}` });
  await run.waitForLog(
    (line) => line.message === 'stats' && line.queued === count,
    `${count} queued records`,
  );
  return data;
}

describe('the component lifecycle', () => {
  test('a restart delivers every queued record with a success status, although the flush outlasts the 5 s kill', async () => {
    // Prepare
    const { component, run } = await startConnector();
    const data = await queueRecords(run, 20);
    endpoint.setLatency(SLOW_CALL_MS);

    // Act
    const shutdown = Step.start(component, 'Shutdown');
    const shutdownCode = await shutdown.exited;
    await stopLikeTheNucleus(run);

    // Assess: the connector exited by itself (code 0), not by the nucleus's SIGKILL.
    expect({ shutdownCode, runExit: run.child.exitCode, runSignal: run.child.signalCode }).toEqual({
      shutdownCode: 0,
      runExit: 0,
      runSignal: null,
    });
    // The recipe packs the messages into records, each message followed by a newline.
    expect(
      endpoint
        .records('main')
        .flatMap((record) => record.data.toString('utf8').split('\n').slice(0, -1))
        .sort(),
    ).toEqual([...data].sort());
    const statuses = client.statuses.filter((status) => status.status === 'success');
    expect(statuses.map((status) => status.id).sort()).toEqual(data.map((_, index) => `id-${index}`).sort());
    expect(shutdown.stdout).toMatch(/^Stopping the connector \(process \d+\); waiting up to 26 s/);
  });

  test('without the Shutdown step the nucleus would cut the same flush off (the case the step exists for)', async () => {
    // Prepare
    const { run } = await startConnector();
    await queueRecords(run, 20);
    endpoint.setLatency(SLOW_CALL_MS);

    // Act
    await stopLikeTheNucleus(run);

    // Assess
    expect(run.child.signalCode).toBe('SIGKILL');
    expect(client.statuses).toEqual([]);
  });

  test('the Shutdown step does nothing when the connector is not running', async () => {
    // Prepare: a connector that ran and exited, leaving its process id behind.
    const { component, run } = await startConnector();
    await stopLikeTheNucleus(run);

    // Act
    const shutdown = Step.start(component, 'Shutdown');

    // Assess
    expect(await shutdown.exited).toBe(0);
    expect(shutdown.stdout).toBe('');
  });

  test('the Shutdown step leaves alone a process that reuses the connector process id', async () => {
    // Prepare
    const component = install({});
    const other = spawn('sleep', ['30']);
    processes.push(other);
    writeFileSync(join(component.workDir, 'firehose-connector.pid'), `${other.pid}\n`);

    // Act
    const shutdown = Step.start(component, 'Shutdown');

    // Assess
    expect(await shutdown.exited).toBe(0);
    expect(other.exitCode === null && other.signalCode === null).toBe(true);
  });

  test('the Shutdown step gives up after ShutdownTimeoutSeconds plus 6 s, leaving the rest to the nucleus', async () => {
    // Prepare: a process of this component that ignores SIGTERM.
    const component = install({ ShutdownTimeoutSeconds: '0' });
    const stubborn = spawn(process.execPath, [
      '-e',
      "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ignoring SIGTERM')",
      join(component.artifactsPath, 'firehose-connector.js'),
    ]);
    processes.push(stubborn);
    await new Promise((resolve) => stubborn.stdout.once('data', resolve));
    writeFileSync(join(component.workDir, 'firehose-connector.pid'), `${stubborn.pid}\n`);

    // Act
    const shutdown = Step.start(component, 'Shutdown');
    const code = await shutdown.exited;

    // Assess
    expect(code).toBe(0);
    // Whole seconds of the clock: 6, or 7 when a sleep ends just past a second boundary on a loaded machine.
    expect(shutdown.stderr).toMatch(
      /^The connector is still running after [67] s; the nucleus stops it now\.\n$/,
    );
    expect(stubborn.exitCode === null && stubborn.signalCode === null).toBe(true);
  });

  test("with the recipe's defaults the connector takes input over IPC, allowed by the recipe's accessControl", async () => {
    // Prepare: a nucleus whose only IPC permissions for the component are those of its recipe.
    const recipe = install({}).recipe;
    const nucleus = await StandInNucleus.start({
      [COMPONENT]: {
        authToken: 'svcuid',
        accessControl: recipe.ComponentConfiguration.DefaultConfiguration.accessControl,
      },
    });
    try {
      const component = install({ PublishInterval: '0' }, nucleus.environmentFor(COMPONENT));
      const run = Step.start(component, 'Run');
      await run.waitForLog((line) => line.message === 'Ready', 'the Ready log line');

      // Act
      nucleus.publish('kinesisfirehose/message', { json: { request: { data: 'over IPC' }, id: 'ipc-1' } });
      const [record] = await endpoint.waitForRecords('main', 1, 10_000);
      await waitFor(
        () => nucleus.messagesOn('kinesisfirehose/message/status').length === 1,
        10_000,
        'a status',
      );

      // Assess
      expect(record.data.toString()).toBe('over IPC\n');
      expect(JSON.parse(nucleus.messagesOn('kinesisfirehose/message/status')[0].payload.toString())).toEqual({
        response: [{ firehose_record_id: record.recordId, id: 'ipc-1', status: 'success' }],
      });
      await stopLikeTheNucleus(run);
    } finally {
      await nucleus.dispose();
    }
  });
});
