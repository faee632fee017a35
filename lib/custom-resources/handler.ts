/**
 * The stack's custom resource function: one Lambda function for the stack's custom resource types, each handled by
 * a module of its own, and the response sent to CloudFormation whatever happens (an unanswered request leaves the
 * stack waiting for an hour).
 */
import { allocateComponentVersion, type ComponentVersionProperties } from './component-version';
import { SdkComponentVersionStore } from './component-version-store';
import { SdkIoTPolicyApi } from './iot-policy-api';
import { type IoTPolicyTargetsProperties, updateTargets } from './iot-policy-targets';
import { type CustomResourceEvent, type HandlerResult, responseFor, sendResponse } from './protocol';
import { checkRemovals, type RemovalGuardProperties } from './removal-guard';

/** The custom resource types of the stack, as the template names them. */
export const RESOURCE_TYPES = {
  componentVersion: 'Custom::ComponentVersion',
  removalGuard: 'Custom::RemovalGuard',
  iotPolicyTargets: 'Custom::IoTPolicyTargets',
} as const;

/** The work a request asks for; a Delete of a version or a guard has none. */
export async function handle(event: CustomResourceEvent): Promise<HandlerResult> {
  const physicalResourceId = event.PhysicalResourceId ?? event.LogicalResourceId;
  switch (event.ResourceType) {
    case RESOURCE_TYPES.componentVersion:
      // A version is deleted by its AWS::GreengrassV2::ComponentVersion; the high-water mark stays on purpose.
      if (event.RequestType === 'Delete') return { physicalResourceId };
      return allocateComponentVersion(
        event.ResourceProperties as unknown as ComponentVersionProperties,
        new SdkComponentVersionStore(),
      );
    case RESOURCE_TYPES.removalGuard:
      if (event.RequestType === 'Update') {
        checkRemovals(
          event.OldResourceProperties as RemovalGuardProperties,
          event.ResourceProperties as RemovalGuardProperties,
        );
      }
      return { physicalResourceId: `${event.LogicalResourceId}-guard` };
    case RESOURCE_TYPES.iotPolicyTargets:
      return updateTargets(
        event.RequestType,
        event.ResourceProperties as unknown as IoTPolicyTargetsProperties,
        event.OldResourceProperties as unknown as IoTPolicyTargetsProperties | undefined,
        new SdkIoTPolicyApi(),
      );
    default:
      throw new Error(`Unknown resource type ${event.ResourceType}`);
  }
}

export async function handler(event: CustomResourceEvent): Promise<void> {
  console.log(JSON.stringify({ ...event, ResponseURL: '(presigned)' }));
  let outcome: HandlerResult | Error;
  try {
    outcome = await handle(event);
  } catch (error) {
    outcome = error instanceof Error ? error : new Error(String(error));
    console.log(`Failed: ${outcome.message}`);
  }
  await sendResponse(event.ResponseURL, responseFor(event, outcome));
}
