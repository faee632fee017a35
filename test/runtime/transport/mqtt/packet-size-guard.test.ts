// mqtt-packet is MQTT.js's own codec: the guard's output must parse with exactly what the connector parses with.
import mqttPacket, { type Packet, type IPublishPacket } from 'mqtt-packet';
import { OversizeMarker } from '../../../../runtime/transport/mqtt/packet-size-guard';

const LIMIT = 1000;

function publish(topic: string, payload: Buffer, qos: 0 | 1 = 1, messageId = 7): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos,
    messageId: qos > 0 ? messageId : undefined,
    dup: false,
    retain: false,
  } as IPublishPacket);
}

/** Runs `bytes` through a guard in chunks of `chunkSize` and parses what comes out. */
async function throughGuard(
  marker: OversizeMarker,
  bytes: Buffer,
  chunkSize: number,
  headBytes = 0,
): Promise<Packet[]> {
  const guard = marker.guard(LIMIT, headBytes);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.on('error', (error) => {
    throw error;
  });
  guard.on('data', (chunk: Buffer) => parser.parse(chunk));
  const ended = new Promise((resolve) => guard.on('end', resolve));
  for (let start = 0; start < bytes.length; start += chunkSize) {
    guard.write(bytes.subarray(start, start + chunkSize));
  }
  guard.end();
  await ended;
  return packets;
}

describe('the packet size guard', () => {
  const atLimitTopic = 'kinesisfirehose/message/binary/at-limit';
  // Topic length, topic and packet id: the remaining length is exactly the limit.
  const atLimitPayloadBytes = LIMIT - 2 - atLimitTopic.length - 2;
  const stream = Buffer.concat([
    mqttPacket.generate({ cmd: 'pingresp' }),
    publish('kinesisfirehose/message', Buffer.from('{"request":{"data":"small"}}')),
    publish('kinesisfirehose/message/binary/huge', Buffer.alloc(50_000, 7), 1, 8),
    publish(atLimitTopic, Buffer.alloc(atLimitPayloadBytes, 1), 1, 9),
    publish('kinesisfirehose/message', Buffer.alloc(5000, 0x7b), 0),
    mqttPacket.generate({ cmd: 'puback', messageId: 3 }),
    publish('kinesisfirehose/message/binary/after', Buffer.from('after'), 1, 10),
  ]);

  it.each([1, 2, 3, 7, 64, 1024, stream.length])(
    'passes small packets unchanged and replaces oversized payloads with a marker, in chunks of %i bytes',
    async (chunkSize) => {
      // Prepare
      const marker = new OversizeMarker();

      // Act
      const packets = await throughGuard(marker, stream, chunkSize);

      // Assess
      expect(packets.map((packet) => packet.cmd)).toEqual([
        'pingresp',
        'publish',
        'publish',
        'publish',
        'publish',
        'puback',
        'publish',
      ]);
      const publishes = packets.filter((packet): packet is IPublishPacket => packet.cmd === 'publish');
      const summary = publishes.map((packet) => ({
        topic: packet.topic,
        qos: packet.qos,
        messageId: packet.messageId,
        payloadBytes: (packet.payload as Buffer).length,
        droppedBytes: marker.dropped(packet.payload as Buffer)?.bytes,
      }));
      expect(summary).toEqual([
        {
          topic: 'kinesisfirehose/message',
          qos: 1,
          messageId: 7,
          payloadBytes: 28,
          droppedBytes: undefined,
        },
        {
          topic: 'kinesisfirehose/message/binary/huge',
          qos: 1,
          messageId: 8,
          payloadBytes: 24,
          droppedBytes: 50_000,
        },
        {
          topic: atLimitTopic,
          qos: 1,
          messageId: 9,
          payloadBytes: atLimitPayloadBytes,
          droppedBytes: undefined,
        },
        {
          topic: 'kinesisfirehose/message',
          qos: 0,
          messageId: undefined,
          payloadBytes: 24,
          droppedBytes: 5000,
        },
        {
          topic: 'kinesisfirehose/message/binary/after',
          qos: 1,
          messageId: 10,
          payloadBytes: 5,
          droppedBytes: undefined,
        },
      ]);
    },
  );

  it('never takes a real payload for a marker, even one copied from another connection', async () => {
    // Prepare: a publisher that somehow learned one connector's marker replays it to another.
    const first = new OversizeMarker();
    const second = new OversizeMarker();
    const replayed = first.encode(123);

    // Act
    const packets = await throughGuard(second, publish('kinesisfirehose/message/binary/x', replayed), 16);

    // Assess
    const [packet] = packets as IPublishPacket[];
    expect(second.dropped(packet.payload as Buffer)).toBeUndefined();
    expect(packet.payload).toEqual(replayed);
  });

  it.each([1, 5, 100, 70_000])(
    'keeps the first bytes of a dropped payload in its marker, in chunks of %i bytes',
    async (chunkSize) => {
      // Prepare
      const marker = new OversizeMarker();
      const payload = Buffer.from(`{"id":"early","request":{"data":"${'x'.repeat(20_000)}"}}`);
      const bytes = Buffer.concat([
        publish('kinesisfirehose/message', payload, 1, 11),
        publish('kinesisfirehose/message/binary/after', Buffer.from('after'), 1, 12),
      ]);

      // Act
      const packets = (await throughGuard(marker, bytes, chunkSize, 64)) as IPublishPacket[];

      // Assess
      const dropped = marker.dropped(packets[0].payload as Buffer);
      expect(dropped).toEqual({ bytes: payload.length, head: payload.subarray(0, 64) });
      expect(packets[1]).toMatchObject({ messageId: 12, payload: Buffer.from('after') });
    },
  );
});
