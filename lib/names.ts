/**
 * Names the stack gives to account-wide or region-wide resources, scoped so that two stacks (or one stack in two
 * regions) never share one: deploying or destroying one leaves the other alone.
 *
 * The default stack keeps the names it has always used, so an existing installation is not renamed: a new component
 * name would make devices remove the old component, and its work folder (with a disk queue) with it.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_STACK_NAME = 'GreengrassFirehoseConnector';

/** Component name of the default stack; `aws.greengrass.*` names are reserved for AWS. */
export const BASE_COMPONENT_NAME = 'community.greengrass.FirehoseConnector';

/** Role alias of the default stack, with `createTokenExchangeRole`. */
export const BASE_ROLE_ALIAS = 'FirehoseConnectorTokenExchangeRoleAlias';

/** The tag the CDK's bucket clean-up function checks before it empties a bucket on stack deletion. */
export const AUTO_DELETE_OBJECTS_TAG = 'aws-cdk:auto-delete-objects';

/**
 * The stack parameter that decided at deletion whether the buckets go, in stacks deployed before the teardown armed
 * the clean-up in the template it deploys; `npm run destroy -- --delete-data` still sets it on such a stack.
 */
export const DESTROY_DATA_PARAMETER = 'DestroyData';

/** Prefix of the inline policy the stack attaches to the token exchange role; the stack and region follow. */
export const DEVICE_POLICY_PREFIX = 'FirehoseConnectorDevices';

/**
 * Room left after the prefix of a device policy name for the region (today's longest has 14 characters, such as
 * ap-southeast-3; 20 are kept) and a suffix such as `-artifact`.
 */
const DEVICE_POLICY_SUFFIX_ROOM = 30;
/** IAM inline policy names: 1 to 128 characters. */
const MAX_POLICY_NAME_LENGTH = 128;

/** The default component name: the base name for the default stack, `<base>.<stackName>` for any other. */
export function defaultComponentName(stackName: string): string {
  return stackName === DEFAULT_STACK_NAME
    ? BASE_COMPONENT_NAME
    : fit(`${BASE_COMPONENT_NAME}.`, stackName, 128);
}

/** The default role alias: the base alias for the default stack, `<base>-<stackName>` for any other. */
export function defaultRoleAlias(stackName: string): string {
  return stackName === DEFAULT_STACK_NAME ? BASE_ROLE_ALIAS : fit(`${BASE_ROLE_ALIAS}-`, stackName, 128);
}

/**
 * The start of the device policy names, `FirehoseConnectorDevices-<stackName>-`, to which the stack appends its region
 * (a deploy-time value) and a purpose: the token exchange role is account-wide, and inline policy names of their
 * own per stack and region keep a second region's deployment from replacing the first one's grants.
 */
export function devicePolicyNamePrefix(stackName: string): string {
  return `${fit(`${DEVICE_POLICY_PREFIX}-`, stackName, MAX_POLICY_NAME_LENGTH - DEVICE_POLICY_SUFFIX_ROOM - 1)}-`;
}

/**
 * Name of the stack's bucket clean-up function, `<stackName>-BucketCleanup` (Lambda function names are regional, like
 * stack names), fixed so that its log group can be a stack resource.
 */
export function bucketCleanupFunctionName(stackName: string): string {
  const suffix = '-BucketCleanup';
  return stackName.length + suffix.length <= 64
    ? `${stackName}${suffix}`
    : fit('', stackName, 64 - suffix.length) + suffix;
}

/**
 * The SSM parameter that holds the highest version ever given to a component in an account and region. It is not a
 * stack resource: it outlives the stack, so that a component deployed again after a destroy never reuses a number
 * that devices may still hold (lib/custom-resources/component-version.ts).
 */
export function componentVersionsParameterName(componentName: string): string {
  return `/greengrass-component-versions/${componentName}`;
}

/**
 * Name of the stack's AWS IoT status policy, `FirehoseConnectorStatus-<stackName>` (policy names are regional, like
 * stacks). A given name, not a generated one: a stack deployed before its targets were a custom resource gets a new
 * policy, attached by the new resource, while the old attachment's clean-up detaches only the old policy.
 */
export function statusPolicyName(stackName: string): string {
  return fit('FirehoseConnectorStatus-', stackName, 128);
}

/** `prefix + name`, with `name` cut and suffixed with a hash of it when the whole would exceed `maxLength`. */
function fit(prefix: string, name: string, maxLength: number): string {
  if (prefix.length + name.length <= maxLength) return prefix + name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${prefix}${name.slice(0, maxLength - prefix.length - hash.length - 1)}-${hash}`;
}
