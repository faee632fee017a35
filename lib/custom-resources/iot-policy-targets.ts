/**
 * `Custom::IoTPolicyTargets`: attaches the stack's AWS IoT policy to a thing group, and on deletion detaches it from
 * every target (also certificates it was attached to by hand) and deletes it, waiting out the delay AWS IoT needs.
 *
 * CloudFormation attaches policies to certificates only, and its deletion of a policy fails while the policy is
 * attached anywhere, or up to five minutes after it was detached. This resource is deleted before the policy
 * (it depends on it), so the policy is gone when CloudFormation's own deletion comes, which then finds nothing.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html
 * @see https://github.com/aws/aws-cdk/issues/26166
 */
import { type HandlerResult } from './protocol';

export interface IoTPolicyTargetsProperties {
  readonly PolicyName: string;
  /** @default - attached to nothing by the stack */
  readonly ThingGroupArn?: string;
}

/** The AWS IoT calls the resource makes: an SDK adapter, or a fake in tests. */
export interface IoTPolicyApi {
  attach(policyName: string, target: string): Promise<void>;
  /** Resolves when detached, or when it was not attached. */
  detach(policyName: string, target: string): Promise<void>;
  targets(policyName: string): Promise<readonly string[]>;
  /** Deletes the versions that are not the default one, which DeletePolicy requires. */
  deleteOtherVersions(policyName: string): Promise<void>;
  /** Resolves true when deleted or already gone, false on a DeleteConflictException (still attached somewhere). */
  deletePolicy(policyName: string): Promise<boolean>;
}

export interface DeleteSchedule {
  /** @default 10_000 */
  readonly retryMs?: number;
  /** Longer than the five minutes AWS IoT documents. @default 420_000 */
  readonly giveUpMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export async function updateTargets(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: IoTPolicyTargetsProperties,
  old: IoTPolicyTargetsProperties | undefined,
  api: IoTPolicyApi,
  schedule: DeleteSchedule = {},
): Promise<HandlerResult> {
  const physicalResourceId = `${properties.PolicyName}|targets`;
  if (requestType === 'Delete') {
    await detachAllAndDelete(properties.PolicyName, api, schedule);
    return { physicalResourceId };
  }
  if (properties.ThingGroupArn) await api.attach(properties.PolicyName, properties.ThingGroupArn);
  if (old?.ThingGroupArn && old.ThingGroupArn !== properties.ThingGroupArn) {
    await api.detach(old.PolicyName, old.ThingGroupArn);
  }
  return { physicalResourceId };
}

/** Detaches `policyName` from every target, then deletes it, retrying while AWS IoT still sees it attached. */
export async function detachAllAndDelete(
  policyName: string,
  api: IoTPolicyApi,
  schedule: DeleteSchedule = {},
): Promise<void> {
  const retryMs = schedule.retryMs ?? 10_000;
  const giveUpMs = schedule.giveUpMs ?? 420_000;
  const sleep = schedule.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = schedule.log ?? ((line: string) => console.log(line));
  for (let waited = 0; ; waited += retryMs) {
    // Targets are listed again on each attempt: someone may attach the policy while the stack is being deleted.
    const targets = await api.targets(policyName);
    for (const target of targets) {
      log(`Detaching ${policyName} from ${target}`);
      await api.detach(policyName, target);
    }
    await api.deleteOtherVersions(policyName);
    if (await api.deletePolicy(policyName)) return;
    if (waited + retryMs > giveUpMs) {
      throw new Error(
        `AWS IoT still refuses to delete the policy ${policyName} after ${Math.round(waited / 1000)} s ` +
          `(targets now: ${targets.join(', ') || 'none'}). Delete the stack again in a few minutes.`,
      );
    }
    log(`${policyName} is not deletable yet (AWS IoT takes up to 5 minutes after a detach); retrying`);
    await sleep(retryMs);
  }
}
