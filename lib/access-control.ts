/**
 * The component's Greengrass IPC permissions: the `accessControl` block of its default configuration, built from the
 * same operation names and topics the runtime's IPC transport uses, so the recipe grants exactly what the connector
 * does and nothing more (no `*`). Pure: no constructs, no I/O.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/interprocess-communication.html#ipc-authorization-policies
 */
import { IpcService, PublishToIoTCore, PublishToTopic, SubscribeToTopic } from '../runtime/ipc/model';
import { IPC_INPUT_TOPICS, IPC_STATUS_TOPIC } from '../runtime/ipc/topics';

export interface AccessControlPolicy {
  readonly policyDescription: string;
  readonly operations: readonly string[];
  readonly resources: readonly string[];
}

/** IPC service, then a policy id unique on the device, then the policy. */
export type AccessControl = Readonly<Record<string, Readonly<Record<string, AccessControlPolicy>>>>;

export interface AccessControlProps {
  /** The component's name; policy ids start with it, as they must be unique on the core device. */
  readonly componentName: string;
  /**
   * Also allow `PublishToIoTCore` on the status topic (`StatusToIoTCore`).
   * @default false
   */
  readonly statusToIoTCore?: boolean;
}

/**
 * Local publish/subscribe: subscribe to the two input topic filters (as literal resources, which is how the
 * nucleus matches a subscription's filter) and publish on the status topic; with `statusToIoTCore`, PublishToIoTCore
 * on the status topic.
 */
export function buildAccessControl(props: AccessControlProps): AccessControl {
  const { componentName } = props;
  const pubsub = {
    [`${componentName}:pubsub:input`]: {
      policyDescription: 'Receive input messages on the connector topics',
      operations: [SubscribeToTopic.name],
      resources: [...IPC_INPUT_TOPICS],
    },
    [`${componentName}:pubsub:status`]: {
      policyDescription: 'Publish a status for every record',
      operations: [PublishToTopic.name],
      resources: [IPC_STATUS_TOPIC],
    },
  };
  if (!props.statusToIoTCore) return { [IpcService.pubsub]: pubsub };
  return {
    [IpcService.pubsub]: pubsub,
    [IpcService.mqttproxy]: {
      [`${componentName}:mqttproxy:status`]: {
        policyDescription: 'Publish statuses to AWS IoT Core',
        operations: [PublishToIoTCore.name],
        resources: [IPC_STATUS_TOPIC],
      },
    },
  };
}
