import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestMqttClient } from '../helpers/mqtt-client';
import { ConnectorProcess, LOCAL_BUNDLE } from '../helpers/connector-process';
import { waitFor } from '../helpers/wait';

const BROKER_LINE = /MQTT broker\s+(mqtt:\/\/\S+)/;

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(folder, entry))
    .filter((path) => statSync(path).isFile());
}

describe('the local mode (npm start)', () => {
  it('runs with no broker and no AWS account, without warnings, and writes a published message to an S3-style file', async () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'local-mode-'));
    const child = spawn(process.execPath, [LOCAL_BUNDLE, '--local'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await waitFor(() => BROKER_LINE.test(stdout), 10_000, 'the broker address on stdout');
      const brokerUrl = BROKER_LINE.exec(stdout)![1];
      const client = await TestMqttClient.connect(brokerUrl);

      // Act
      await client.publishJson({ request: { data: 'Message from Firehose Connector Test' }, id: 'req_123' });
      const [status] = await client.waitForStatuses(1, 10_000);
      await client.close();

      // Assess
      expect(status).toMatchObject({ id: 'req_123', status: 'success' });
      const folder = join(cwd, 'local-firehose');
      await waitFor(() => filesUnder(folder).length > 0, 5000, 'a file under local-firehose');
      const files = filesUnder(folder);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/local-firehose\/local-stream\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/local-stream-/);
      expect(readFileSync(files[0], 'utf8')).toBe('Message from Firehose Connector Test');
      // A newcomer's first run logs no warning of the connector's: the local mode runs with the recommended
      // MemorySize. (Node.js's own deprecation notices, such as the AWS SDK's about Node.js 20, may still appear.)
      expect(stderr).not.toMatch(/"level":"(warn|error)"/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((exited) => child.once('exit', exited));
    }
  });

  it('is not in the device bundle: firehose-connector --local exits 2 and points to npm start', async () => {
    // Act
    const { code, stdout, stderr } = await ConnectorProcess.runToExit(['--local']);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('The local mode is not part of this bundle, which is the one for devices.');
    expect(stderr).toContain('`npm ci && npm start`');
  });
});
