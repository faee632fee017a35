/**
 * The component's Greengrass IPC permissions: the `accessControl` block of its default configuration, built from the
 * component contract's `Ipc` (the operations and topics the runtime's IPC client uses), so the recipe grants exactly
 * what the connector does and nothing more (no `*`). Pure: no constructs, no I/O.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/interprocess-communication.html#ipc-authorization-policies
 */
import { Ipc } from '../runtime/contract';

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
      operations: [Ipc.operations.subscribeToTopic],
      resources: [...Ipc.inputTopics],
    },
    [`${componentName}:pubsub:status`]: {
      policyDescription: 'Publish a status for every record',
      operations: [Ipc.operations.publishToTopic],
      resources: [Ipc.statusTopic],
    },
  };
  if (!props.statusToIoTCore) return { [Ipc.services.pubsub]: pubsub };
  return {
    [Ipc.services.pubsub]: pubsub,
    [Ipc.services.mqttproxy]: {
      [`${componentName}:mqttproxy:status`]: {
        policyDescription: 'Publish statuses to AWS IoT Core',
        operations: [Ipc.operations.publishToIoTCore],
        resources: [Ipc.statusTopic],
      },
    },
  };
}
