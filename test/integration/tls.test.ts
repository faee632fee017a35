import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { TestFirehoseEndpoint } from '../helpers/firehose-endpoint';
import { startTestBroker, type TestBroker } from '../helpers/broker';
import { createTestCertificates, type TestCertificates } from '../helpers/certificates';
import { ConnectorProcess } from '../helpers/connector-process';
import { streamArn } from '../helpers/factories';
import { sleep, waitFor } from '../helpers/wait';

/** The connector against a broker that, like the Greengrass broker, accepts only TLS clients with a certificate. */

const STREAM_ARN = streamArn('main');

let certificates: TestCertificates;
let broker: TestBroker;
let endpoint: TestFirehoseEndpoint;
let connector: ConnectorProcess | undefined;

beforeAll(async () => {
  certificates = createTestCertificates();
  broker = await startTestBroker({
    tls: {
      caFile: certificates.caFile,
      certFile: certificates.serverCertFile,
      keyFile: certificates.serverKeyFile,
    },
  });
  endpoint = await TestFirehoseEndpoint.start({ streams: ['main'] });
});

afterAll(async () => {
  await connector?.stop('SIGKILL');
  await endpoint.stop();
  await broker.stop();
});

describe('MQTT over TLS', () => {
  it('connects with MqttCaFile, MqttCertFile and MqttKeyFile and delivers over mqtts', async () => {
    // Prepare
    connector = await ConnectorProcess.start(
      {
        DefaultDeliveryStreamArn: STREAM_ARN,
        MqttBrokerUrl: broker.url,
        MqttClientId: `tls-${Date.now()}`,
        MqttCaFile: certificates.caFile,
        MqttCertFile: certificates.clientCertFile,
        MqttKeyFile: certificates.clientKeyFile,
        PublishInterval: 0,
      },
      { firehoseUrl: endpoint.url },
    );
    const publisher = await mqtt.connectAsync(broker.url, {
      ca: readFileSync(certificates.caFile),
      cert: readFileSync(certificates.clientCertFile),
      key: readFileSync(certificates.clientKeyFile),
    });

    // Act
    await publisher.publishAsync(
      'kinesisfirehose/message',
      JSON.stringify({ request: { data: 'over TLS' } }),
      { qos: 1 },
    );
    const [record] = await endpoint.waitForRecords('main', 1);
    await publisher.endAsync();

    // Assess
    expect(broker.url).toMatch(/^mqtts:/);
    expect(record.data.toString()).toBe('over TLS');
  });

  it('is refused by the broker with a certificate from another CA, and logs the failed connection', async () => {
    const refused = await ConnectorProcess.start(
      {
        DefaultDeliveryStreamArn: STREAM_ARN,
        MqttBrokerUrl: broker.url,
        MqttClientId: `stranger-${Date.now()}`,
        MqttCaFile: certificates.caFile,
        MqttCertFile: certificates.strangerCertFile,
        MqttKeyFile: certificates.strangerKeyFile,
      },
      { firehoseUrl: endpoint.url, waitUntilSubscribed: false },
    );

    // mosquitto answers with a TLS alert (an MQTT error); a Node.js TLS server just drops the connection.
    const isConnectionWarning = (entry: { level: string; message: string }) =>
      entry.level === 'warn' && /^MQTT (error|broker unreachable)/.test(entry.message);
    await waitFor(() => refused.logs.some(isConnectionWarning), 10_000, 'a connection warning');
    await sleep(500);
    await refused.stop('SIGKILL');

    expect(refused.logs.find(isConnectionWarning)).toMatchObject({
      level: 'warn',
      connection: expect.any(String),
    });
    expect(refused.logs.some((entry) => entry.message === 'Ready')).toBe(false);
  });
});
