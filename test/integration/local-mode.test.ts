import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestMqttClient } from '../helpers/mqtt-client';
import { CONNECTOR_BUNDLE } from '../helpers/connector-process';

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(folder, entry))
    .filter((path) => statSync(path).isFile());
}

describe('the local mode (npm start)', () => {
  it('runs with no broker and no AWS account, and writes a published message to an S3-style file', async () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'local-mode-'));
    const child = spawn(process.execPath, [CONNECTOR_BUNDLE, '--local'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    try {
      const deadline = Date.now() + 10_000;
      while (!/MQTT broker\s+(mqtt:\/\/\S+)/.test(stdout) && Date.now() < deadline)
        await new Promise((t) => setTimeout(t, 20));
      const brokerUrl = /MQTT broker\s+(mqtt:\/\/\S+)/.exec(stdout)![1];
      const client = await TestMqttClient.connect(brokerUrl);

      // Act
      await client.publishJson({ request: { data: 'Message from Firehose Connector Test' }, id: 'req_123' });
      const [status] = await client.waitForStatuses(1, 10_000);
      await client.close();

      // Assess
      expect(status).toMatchObject({ id: 'req_123', status: 'success' });
      const folder = join(cwd, 'local-firehose');
      const written = Date.now() + 5000;
      while (filesUnder(folder).length === 0 && Date.now() < written)
        await new Promise((t) => setTimeout(t, 20));
      const files = filesUnder(folder);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/local-firehose\/local-stream\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/local-stream-/);
      expect(readFileSync(files[0], 'utf8')).toBe('Message from Firehose Connector Test');
    } finally {
      child.kill('SIGTERM');
      await new Promise((exited) => child.once('exit', exited));
    }
  });
});
