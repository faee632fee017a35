import {
  detachAllAndDelete,
  type IoTPolicyApi,
  updateTargets,
} from '../../../lib/custom-resources/iot-policy-targets';

const GROUP = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/firehose-cores';
const CERTIFICATE = 'arn:aws:iot:eu-west-1:123456789012:cert/abc123';

/**
 * AWS IoT as DeletePolicy sees it: attached targets, and a policy that stays undeletable for `settleAttempts`
 * attempts after its last detach (AWS IoT documents up to five minutes).
 */
class FakeIoT implements IoTPolicyApi {
  readonly calls: string[] = [];
  attached: string[];
  deleted = false;
  private unsettled = 0;

  constructor(
    attached: string[],
    private readonly settleAttempts = 0,
  ) {
    this.attached = [...attached];
  }

  attach(policyName: string, target: string): Promise<void> {
    this.calls.push(`attach ${policyName} ${target}`);
    this.attached.push(target);
    return Promise.resolve();
  }

  detach(policyName: string, target: string): Promise<void> {
    this.calls.push(`detach ${policyName} ${target}`);
    this.attached = this.attached.filter((entry) => entry !== target);
    this.unsettled = this.settleAttempts;
    return Promise.resolve();
  }

  targets(): Promise<readonly string[]> {
    return Promise.resolve([...this.attached]);
  }

  deleteOtherVersions(policyName: string): Promise<void> {
    this.calls.push(`delete other versions ${policyName}`);
    return Promise.resolve();
  }

  deletePolicy(policyName: string): Promise<boolean> {
    this.calls.push(`delete ${policyName}`);
    if (this.attached.length > 0 || this.unsettled-- > 0) return Promise.resolve(false);
    this.deleted = true;
    return Promise.resolve(true);
  }
}

const quickly = { retryMs: 10, giveUpMs: 100, sleep: () => Promise.resolve(), log: () => undefined };

describe('AWS IoT policy targets', () => {
  test('attach the policy to the thing group on create', async () => {
    // Prepare
    const iot = new FakeIoT([]);

    // Act
    await updateTargets('Create', { PolicyName: 'status', ThingGroupArn: GROUP }, undefined, iot);

    // Assess
    expect(iot.calls).toEqual([`attach status ${GROUP}`]);
  });

  test('move the attachment when the thing group changes', async () => {
    // Prepare
    const other = `${GROUP}-2`;
    const iot = new FakeIoT([GROUP]);

    // Act
    await updateTargets(
      'Update',
      { PolicyName: 'status', ThingGroupArn: other },
      { PolicyName: 'status', ThingGroupArn: GROUP },
      iot,
    );

    // Assess
    expect(iot.attached).toEqual([other]);
  });

  test('on delete detach the policy from a certificate it was attached to by hand, and delete it', async () => {
    // Prepare
    const iot = new FakeIoT([GROUP, CERTIFICATE]);

    // Act
    await updateTargets('Delete', { PolicyName: 'status', ThingGroupArn: GROUP }, undefined, iot, quickly);

    // Assess
    expect(iot.calls).toEqual([
      `detach status ${GROUP}`,
      `detach status ${CERTIFICATE}`,
      'delete other versions status',
      'delete status',
    ]);
    expect(iot.deleted).toBe(true);
  });

  test('wait until AWS IoT lets a policy detached seconds ago be deleted', async () => {
    // Prepare
    const iot = new FakeIoT([GROUP], 3);

    // Act
    await detachAllAndDelete('status', iot, quickly);

    // Assess
    expect(iot.calls.filter((call) => call === 'delete status')).toHaveLength(4);
    expect(iot.deleted).toBe(true);
  });

  test('give up with what to do when AWS IoT keeps refusing', async () => {
    // Prepare
    const iot = new FakeIoT([GROUP], 1000);

    // Act & Assess
    await expect(detachAllAndDelete('status', iot, quickly)).rejects.toThrow(
      'AWS IoT still refuses to delete the policy status after 0 s (targets now: none). Delete the stack again in a few minutes.',
    );
  });
});
