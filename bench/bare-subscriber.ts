/**
 * The benchmark's ceiling: a bare MQTT.js subscriber that only `JSON.parse`s each message, in its own process like
 * the connector. It resumes the persistent session the benchmark created (clean: false, same client id), so the
 * backlog queued for it flows as soon as it connects.
 *
 * Configuration from the environment: BENCH_BROKER_URL, BENCH_CLIENT_ID, BENCH_COUNT (messages to wait for). It
 * logs JSON lines: "Connected to the MQTT broker" (connection intake), then "Drained" with the time of the last
 * message.
 */
import mqtt from 'mqtt';

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    JSON.stringify({ time: new Date().toISOString(), level: 'info', message, ...fields }) + '\n',
  );
}

function main(): void {
  const expected = Number(process.env.BENCH_COUNT);
  if (!process.env.BENCH_BROKER_URL || !process.env.BENCH_CLIENT_ID || !(expected > 0)) {
    throw new Error('BENCH_BROKER_URL, BENCH_CLIENT_ID and BENCH_COUNT must be set');
  }
  const client = mqtt.connect(process.env.BENCH_BROKER_URL, {
    clientId: process.env.BENCH_CLIENT_ID,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
  });
  client.on('connect', (packet) =>
    log('Connected to the MQTT broker', { connection: 'intake', sessionPresent: packet.sessionPresent }),
  );
  let received = 0;
  let invalid = 0;
  client.on('message', (_topic, payload) => {
    try {
      JSON.parse(payload.toString('utf8'));
    } catch {
      invalid++;
    }
    if (++received === expected) log('Drained', { received, invalid, lastAt: Date.now() });
  });
  const stop = (): void => {
    client.end(false, {}, () => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
