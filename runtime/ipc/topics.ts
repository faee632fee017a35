import { Topics } from '../messages';

/**
 * The topic filters the connector subscribes to over IPC: the v1 connector's, `#` included, so that a binary
 * message's id may have several levels. The nucleus accepts MQTT wildcards in SubscribeToTopic from v2.6.0.
 * The recipe's accessControl (lib/access-control.ts) grants exactly these.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/ipc-publish-subscribe.html
 */
export const IPC_INPUT_TOPICS = [Topics.json, Topics.binary] as const;

/** The topic statuses are published on, on local publish/subscribe and to AWS IoT Core. */
export const IPC_STATUS_TOPIC = Topics.status;
