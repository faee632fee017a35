import mqtt, { type MqttClient } from 'mqtt';
import type { StatusEntry } from '../../runtime/message/status';
import { waitFor } from './wait';

/** A test-side MQTT client: publishes input messages and collects every status entry the connector publishes. */
export class TestMqttClient {
  readonly statuses: StatusEntry[] = [];
  readonly statusMessages: string[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (_topic, payload) => {
      const text = payload.toString();
      this.statusMessages.push(text);
      this.statuses.push(...(JSON.parse(text) as { response: StatusEntry[] }).response);
    });
  }

  static async connect(url: string): Promise<TestMqttClient> {
    const client = await mqtt.connectAsync(url, {
      clientId: `test-${process.pid}-${Math.random().toString(16).slice(2)}`,
    });
    await client.subscribeAsync('kinesisfirehose/message/status', { qos: 1 });
    return new TestMqttClient(client);
  }

  async publish(topic: string, payload: string | Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  async publishJson(message: unknown): Promise<void> {
    await this.publish('kinesisfirehose/message', JSON.stringify(message));
  }

  statusFor(id: string): StatusEntry | undefined {
    return this.statuses.find((status) => status.id === id);
  }

  async waitForStatuses(count: number, timeoutMs = 15_000): Promise<StatusEntry[]> {
    await waitFor(() => this.statuses.length >= count, timeoutMs, `${count} statuses`);
    return this.statuses;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
