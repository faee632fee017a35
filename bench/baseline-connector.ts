/**
 * The benchmark's baseline: the seed's unbatched behaviour, as the v1 (Python) Kinesis Firehose connector had it.
 * Each message is handled to the end before the next one is read: parse the JSON, await one `PutRecord`, publish
 * one status. It is acknowledged to the broker only then, which is what makes it sequential (MQTT.js hands the
 * next message to `handleMessage` once the previous callback ran).
 *
 * Configuration comes from the environment: BENCH_BROKER_URL, BENCH_CLIENT_ID, BENCH_STREAM_NAME, BENCH_REGION,
 * and the SDK's own AWS_ENDPOINT_URL_FIREHOSE and credentials. It logs JSON lines like the connector, so the
 * benchmark times it the same way: from the intake connection's "Connected to the MQTT broker".
 */
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import mqtt from 'mqtt';
import { Topics } from '../runtime/contract';

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    JSON.stringify({ time: new Date().toISOString(), level: 'info', message, ...fields }) + '\n',
  );
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

function statusOf(id: string, outcome: { recordId: string } | { code: string; message: string }): string {
  const entry =
    'recordId' in outcome
      ? { firehose_record_id: outcome.recordId, id, status: 'success' }
      : { ErrorCode: outcome.code, ErrorMessage: outcome.message, id, status: 'fail' };
  return JSON.stringify({ response: [entry] });
}

function main(): void {
  const brokerUrl = required('BENCH_BROKER_URL');
  const streamName = required('BENCH_STREAM_NAME');
  const firehose = new FirehoseClient({ region: process.env.BENCH_REGION ?? 'us-east-1' });
  const client = mqtt.connect(brokerUrl, {
    clientId: required('BENCH_CLIENT_ID'),
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
  });
  client.on('connect', (packet) =>
    log('Connected to the MQTT broker', { connection: 'intake', sessionPresent: packet.sessionPresent }),
  );
  client.on('error', (error) => log('MQTT error', { errorMessage: error.message }));

  client.handleMessage = (packet, done) => {
    void (async () => {
      let id = '';
      let outcome: { recordId: string } | { code: string; message: string };
      try {
        const message = JSON.parse(packet.payload.toString()) as {
          request?: { data?: unknown };
          id?: unknown;
        };
        id = typeof message.id === 'string' ? message.id : '';
        const data = message.request?.data;
        if (data === undefined || data === null) throw new Error('"request.data" is required');
        const text = typeof data === 'string' ? data : JSON.stringify(data);
        const response = await firehose.send(
          new PutRecordCommand({ DeliveryStreamName: streamName, Record: { Data: Buffer.from(text) } }),
        );
        outcome = { recordId: response.RecordId ?? '' };
      } catch (error) {
        outcome = { code: (error as Error).name, message: (error as Error).message };
      }
      client.publish(Topics.status, statusOf(id, outcome), { qos: 1 });
      done();
    })();
  };

  const stop = (): void => {
    client.end(false, {}, () => {
      firehose.destroy();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
