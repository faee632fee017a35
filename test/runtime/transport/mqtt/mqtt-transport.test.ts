import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket, { type ISubscribePacket } from 'mqtt-packet';
import { createLogger } from '../../../../runtime/logger';
import { MqttTransport } from '../../../../runtime/transport/mqtt/mqtt-transport';
import type { LogLine } from '../../../helpers/connector-process';

/**
 * A scripted broker for what real brokers rarely do on demand: it refuses the first SUBSCRIBE of each client
 * (SUBACK 0x80, as a broker with an ACL or a quota does) and grants the next ones.
 */
async function startRefusingBroker(): Promise<{ url: string; subscribes: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { subscribes: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let refused = false;
    parser.on('packet', (packet) => {
      const send = (reply: object) => socket.write(mqttPacket.generate(reply as mqttPacket.Packet));
      if (packet.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      if (packet.cmd === 'pingreq') send({ cmd: 'pingresp' });
      if (packet.cmd === 'subscribe') {
        state.subscribes++;
        const { messageId, subscriptions } = packet as ISubscribePacket;
        const granted = subscriptions.map(() => (refused ? 1 : 0x80));
        refused = true;
        send({ cmd: 'suback', messageId, granted });
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get subscribes() {
      return state.subscribes;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('MqttTransport', () => {
  it('logs a subscription the broker refuses and subscribes again until the broker grants it', async () => {
    // Prepare
    const broker = await startRefusingBroker();
    const logs: LogLine[] = [];
    const logger = createLogger('info', (line) => logs.push(JSON.parse(line) as LogLine));

    // Act
    const transport = MqttTransport.open(
      { brokerUrl: broker.url, clientId: 'refused-once' },
      () => Promise.resolve(),
      logger,
    );
    await transport.ready();
    await transport.close();
    await broker.close();

    // Assess
    expect(broker.subscribes).toBe(2);
    expect(logs.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        'The broker refused the subscription to the input topics; retrying',
        'Subscribed',
      ]),
    );
    const refusal = logs.find((line) => line.message.startsWith('The broker refused'));
    expect(refusal).toMatchObject({
      level: 'error',
      topics: ['kinesisfirehose/message', 'kinesisfirehose/message/binary/#'],
      errorMessage: 'Subscribe error: Unspecified error',
    });
  });
});
