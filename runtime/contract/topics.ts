/**
 * The topics of the v2-4 connector and the connector's use of Greengrass IPC: what publishers, the recipe's
 * `accessControl` and the runtime's transports must agree on.
 */

/** The MQTT topics of the v2-4 connector. */
export const Topics = {
  json: 'kinesisfirehose/message',
  binary: 'kinesisfirehose/message/binary/#',
  status: 'kinesisfirehose/message/status',
} as const;

/**
 * The connector's use of Greengrass IPC, one definition for the runtime's client (`runtime/ipc/`) and the recipe's
 * `accessControl` (`lib/access-control.ts`), which grants exactly this: the IPC services and operations, the topic
 * filters it subscribes to (the MQTT ones, `#` included, so a binary id may have several levels; the nucleus accepts
 * MQTT wildcards in SubscribeToTopic from v2.6.0), and the topic it publishes statuses on.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-publish-subscribe.html
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-iot-core-mqtt.html
 */
export const Ipc = {
  services: { pubsub: 'aws.greengrass.ipc.pubsub', mqttproxy: 'aws.greengrass.ipc.mqttproxy' },
  operations: {
    subscribeToTopic: 'aws.greengrass#SubscribeToTopic',
    publishToTopic: 'aws.greengrass#PublishToTopic',
    publishToIoTCore: 'aws.greengrass#PublishToIoTCore',
  },
  inputTopics: [Topics.json, Topics.binary],
  statusTopic: Topics.status,
} as const;
