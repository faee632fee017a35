import { createLogger, type Logger, silentLogger } from '../../../../runtime/logger';
import { MqttTransport } from '../../../../runtime/transport/mqtt/mqtt-transport';
import type { LogLine } from '../../../helpers/connector-process';
import { ScriptedBroker, type ScriptedBrokerOptions } from '../../../helpers/scripted-broker';
import { waitFor } from '../../../helpers/wait';

const JSON_TOPIC = 'kinesisfirehose/message';
const BINARY_FILTER = 'kinesisfirehose/message/binary/#';

let broker: ScriptedBroker | undefined;
let transport: MqttTransport | undefined;

afterEach(async () => {
  await transport?.close();
  transport = undefined;
  await broker?.stop();
  broker = undefined;
});

async function open(
  clientId: string,
  options: ScriptedBrokerOptions,
  logger: Logger = silentLogger,
): Promise<{ broker: ScriptedBroker; transport: MqttTransport }> {
  broker = await ScriptedBroker.start(options);
  transport = MqttTransport.open({ brokerUrl: broker.url, clientId }, () => Promise.resolve(), logger);
  return { broker, transport };
}

/** Refuses each topic filter the first time a client asks for it (as a broker whose ACL is then fixed). */
function refuseOnce(): (clientId: string, filter: string) => boolean {
  const asked = new Set<string>();
  return (clientId, filter) => {
    const key = `${clientId} ${filter}`;
    if (asked.has(key)) return false;
    asked.add(key);
    return true;
  };
}

describe('MqttTransport', () => {
  it('logs a subscription the broker refuses and subscribes again until the broker grants it', async () => {
    // Prepare
    const logs: LogLine[] = [];
    const logger = createLogger('info', (line) => logs.push(JSON.parse(line) as LogLine));

    // Act
    const { broker, transport } = await open('refused-once', { refuseSubscription: refuseOnce() }, logger);
    await transport.ready();

    // Assess
    expect(broker.subscribes).toHaveLength(2);
    expect(logs.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        'The broker refused the subscription to the input topics; retrying',
        'Subscribed',
      ]),
    );
    const refusal = logs.find((line) => line.message.startsWith('The broker refused'));
    expect(refusal).toMatchObject({
      level: 'error',
      topics: [JSON_TOPIC, BINARY_FILTER],
      errorMessage: 'Subscribe error: Unspecified error',
    });
  });

  it('subscribes again to the topics the broker refused, and only to those', async () => {
    // Prepare
    let refusals = 0;
    const refuseBinaryTwice = (_: string, filter: string) => filter === BINARY_FILTER && ++refusals <= 2;

    // Act
    const { broker, transport } = await open('binary-refused', { refuseSubscription: refuseBinaryTwice });
    await transport.ready();

    // Assess
    expect(broker.subscribes.map((subscribe) => subscribe.filters)).toEqual([
      [JSON_TOPIC, BINARY_FILTER],
      [BINARY_FILTER],
      [BINARY_FILTER],
    ]);
  });

  it('subscribes at start even when the broker kept a session, which an earlier run may have left without a topic', async () => {
    // Act
    const { broker } = await open('kept-session', { sessionPresent: true });
    await waitFor(() => broker.subscribes.length === 1, 5000, 'a SUBSCRIBE');

    // Assess
    expect(broker.subscribes).toEqual([{ clientId: 'kept-session', filters: [JSON_TOPIC, BINARY_FILTER] }]);
  });
});
