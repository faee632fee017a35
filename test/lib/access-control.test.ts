import { buildAccessControl } from '../../lib/access-control';
import { buildRecipe } from '../../lib/recipe';
import { accessControlProblems, IpcAuthorizer } from '../helpers/ipc-access-control';

/**
 * The recipe's accessControl, checked against the nucleus's rules (test/helpers/ipc-access-control.ts): a document
 * it loads whole, granting the requests the connector makes over IPC and nothing else. The integration tests
 * (test/integration/ipc.test.ts) run the connector against a stand-in nucleus holding this same document.
 */

const COMPONENT = 'community.greengrass.FirehoseConnector';
const PUBSUB = 'aws.greengrass.ipc.pubsub';
const MQTT_PROXY = 'aws.greengrass.ipc.mqttproxy';
const SUBSCRIBE = 'aws.greengrass#SubscribeToTopic';
const PUBLISH = 'aws.greengrass#PublishToTopic';
const PUBLISH_TO_IOT_CORE = 'aws.greengrass#PublishToIoTCore';

function authorizer(statusToIoTCore: boolean): IpcAuthorizer {
  return new IpcAuthorizer({
    [COMPONENT]: buildAccessControl({ componentName: COMPONENT, statusToIoTCore }),
  });
}

describe('buildAccessControl', () => {
  it('is a document the nucleus loads whole, as it reaches the device in the recipe JSON', () => {
    // Prepare
    const recipe = buildRecipe({
      componentName: COMPONENT,
      componentVersion: '1.0.0',
      defaultDeliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/s',
      artifactUri: 's3://bucket/firehose-connector.js',
      statusToIoTCore: true,
    });

    // Act
    const onDevice = JSON.parse(JSON.stringify(recipe)).ComponentConfiguration.DefaultConfiguration
      .accessControl;

    // Assess
    expect(accessControlProblems(onDevice)).toEqual([]);
  });

  it('allows subscribing to the two input topic filters and publishing statuses, on local publish/subscribe', () => {
    // Act
    const allowed = authorizer(false);

    // Assess
    const requests = [
      [PUBSUB, SUBSCRIBE, 'kinesisfirehose/message'],
      [PUBSUB, SUBSCRIBE, 'kinesisfirehose/message/binary/#'],
      [PUBSUB, PUBLISH, 'kinesisfirehose/message/status'],
    ];
    expect(
      requests.filter(([service, op, topic]) => !allowed.isAuthorized(service, COMPONENT, op, topic)),
    ).toEqual([]);
  });

  it('allows nothing else: no publishing on input topics, no other topics, no AWS IoT Core', () => {
    // Act
    const allowed = authorizer(false);

    // Assess
    const requests = [
      [PUBSUB, PUBLISH, 'kinesisfirehose/message'],
      [PUBSUB, PUBLISH, 'kinesisfirehose/message/binary/id'],
      [PUBSUB, SUBSCRIBE, 'kinesisfirehose/message/status'],
      [PUBSUB, SUBSCRIBE, '#'],
      [PUBSUB, SUBSCRIBE, 'kinesisfirehose/#'],
      [MQTT_PROXY, PUBLISH_TO_IOT_CORE, 'kinesisfirehose/message/status'],
    ];
    expect(
      requests.filter(([service, op, topic]) => allowed.isAuthorized(service, COMPONENT, op, topic)),
    ).toEqual([]);
  });

  it('with statusToIoTCore, also allows PublishToIoTCore on the status topic and on no other', () => {
    // Act
    const allowed = authorizer(true);

    // Assess
    expect(
      allowed.isAuthorized(MQTT_PROXY, COMPONENT, PUBLISH_TO_IOT_CORE, 'kinesisfirehose/message/status'),
    ).toBe(true);
    expect(allowed.isAuthorized(MQTT_PROXY, COMPONENT, PUBLISH_TO_IOT_CORE, 'kinesisfirehose/message')).toBe(
      false,
    );
  });

  it('names its policies after the component, so they stay unique on a device with several components', () => {
    // Act
    const accessControl = buildAccessControl({ componentName: 'com.example.Other', statusToIoTCore: true });

    // Assess
    const policyIds = Object.values(accessControl).flatMap((policies) => Object.keys(policies));
    expect(policyIds.filter((id) => !id.startsWith('com.example.Other:'))).toEqual([]);
  });
});

describe('the nucleus rules the recipe is checked against', () => {
  it.each([
    [
      'a policy without operations',
      { [PUBSUB]: { p: { operations: [], resources: ['a'] } } },
      `${PUBSUB}.p: operations must be a non-empty list of strings`,
    ],
    [
      'an operation of another service',
      { [PUBSUB]: { p: { operations: [PUBLISH_TO_IOT_CORE], resources: ['a'] } } },
      `${PUBSUB}.p: ${PUBLISH_TO_IOT_CORE} is not an operation of ${PUBSUB}`,
    ],
    [
      'an unescaped "?"',
      { [PUBSUB]: { p: { operations: [PUBLISH], resources: ['a?'] } } },
      `${PUBSUB}.p: resource "a?" has '?', which is only allowed escaped as \${?}`,
    ],
    [
      'resources that are not a list',
      { [PUBSUB]: { p: { operations: [PUBLISH], resources: 'a' } } },
      `${PUBSUB}.p: resources must be a list of strings`,
    ],
  ])('reject %s', (_, accessControl, problem) => {
    // Act & Assess
    expect(accessControlProblems(accessControl)).toEqual([problem]);
  });

  it('match MQTT wildcards and "*" in a policy, as the nucleus does', () => {
    // Prepare
    const allowed = new IpcAuthorizer({
      c: { [PUBSUB]: { p: { operations: ['*'], resources: ['a/+/c', 'b/#', 'x*z', 'q${?}'] } } },
    });

    // Act
    const check = (topic: string) => allowed.isAuthorized(PUBSUB, 'c', PUBLISH, topic);

    // Assess
    expect(['a/b/c', 'b', 'b/1/2', 'xyz', 'q?'].filter((topic) => !check(topic))).toEqual([]);
    expect(['a/b/d', 'a/b/b/c', 'bb', 'xy', 'q'].filter((topic) => check(topic))).toEqual([]);
  });
});
