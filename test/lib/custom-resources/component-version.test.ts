import {
  allocateComponentVersion,
  buildFingerprint,
  type ComponentVersionProperties,
  type ComponentVersionStore,
  type ExistingVersion,
  nextVersion,
} from '../../../lib/custom-resources/component-version';

const COMPONENT_ARN =
  'arn:aws:greengrass:eu-west-1:123456789012:components:community.greengrass.FirehoseConnector';
const PARAMETER = '/greengrass-component-versions/community.greengrass.FirehoseConnector';

/**
 * An account in memory: component versions with their fingerprint tags, and the high-water mark. `deploy` does what
 * CloudFormation does after the allocation: creates the version with its tag, and deletes the one it replaces.
 */
class FakeAccount implements ComponentVersionStore {
  versions: ExistingVersion[] = [];
  mark?: string;
  readonly calls: string[] = [];

  existingVersions(componentArn: string): Promise<readonly ExistingVersion[]> {
    this.calls.push(`list ${componentArn}`);
    return Promise.resolve([...this.versions]);
  }

  highWaterMark(parameterName: string): Promise<string | undefined> {
    this.calls.push(`get ${parameterName}`);
    return Promise.resolve(this.mark);
  }

  raiseHighWaterMark(parameterName: string, version: string): Promise<void> {
    this.calls.push(`put ${parameterName} ${version}`);
    this.mark = version;
    return Promise.resolve();
  }

  /** Allocates the version of `recipe`, then replaces the stack's current version with it. */
  async deploy(recipe: string, pinned?: string): Promise<string> {
    const { data } = await allocateComponentVersion(properties(recipe, pinned), this);
    const version = data!.Version;
    this.versions = [{ version, fingerprint: buildFingerprint(recipe) }];
    return version;
  }

  /** The stack is deleted: CloudFormation deletes the component version; the high-water mark stays. */
  destroy(): void {
    this.versions = [];
  }
}

function properties(recipe: string, pinned?: string): ComponentVersionProperties {
  return {
    ComponentName: 'community.greengrass.FirehoseConnector',
    ComponentArn: COMPONENT_ARN,
    Recipe: recipe,
    BaseVersion: '0.1.0',
    PinnedVersion: pinned,
    HighWaterMarkParameter: PARAMETER,
  };
}

describe('allocateComponentVersion', () => {
  test('gives the first build of a component the package version and records it as the high-water mark', async () => {
    // Prepare
    const account = new FakeAccount();

    // Act
    const result = await allocateComponentVersion(properties('{"build":"a"}'), account);

    // Assess
    expect(result).toEqual({
      physicalResourceId: 'community.greengrass.FirehoseConnector@0.1.0',
      data: { Version: '0.1.0', Fingerprint: buildFingerprint('{"build":"a"}') },
    });
    expect(account.calls).toEqual([`list ${COMPONENT_ARN}`, `get ${PARAMETER}`, `put ${PARAMETER} 0.1.0`]);
  });

  test('gives a build the version that already carries its fingerprint, whichever clone deploys it', async () => {
    // Prepare
    const account = new FakeAccount();
    const first = await account.deploy('{"build":"a"}');

    // Act
    const again = await allocateComponentVersion(properties('{"build":"a"}'), account);

    // Assess
    expect(again.data?.Version).toBe(first);
    expect(account.calls.filter((call) => call.startsWith('put'))).toHaveLength(1);
  });

  test('never gives two different builds the same version, and each new one a higher version', async () => {
    // Prepare
    const account = new FakeAccount();

    // Act
    const versions = [
      await account.deploy('{"build":"a"}'),
      await account.deploy('{"build":"b"}'),
      await account.deploy('{"build":"c"}'),
    ];

    // Assess
    expect(versions).toEqual(['0.1.0', '0.1.1', '0.1.2']);
  });

  test('gives an option toggled back a new, higher version, not the deleted one it had', async () => {
    // Prepare: a, then b (a's version deleted by the replacement).
    const account = new FakeAccount();
    await account.deploy('{"option":"off"}');
    await account.deploy('{"option":"on"}');

    // Act
    const back = await account.deploy('{"option":"off"}');

    // Assess
    expect(back).toBe('0.1.2');
  });

  test('continues above the versions of a destroyed stack when it is deployed again', async () => {
    // Prepare
    const account = new FakeAccount();
    await account.deploy('{"build":"a"}');
    await account.deploy('{"build":"b"}');
    account.destroy();

    // Act
    const redeployed = await account.deploy('{"build":"a"}');

    // Assess: devices may still hold 0.1.0 and 0.1.1 in their component store.
    expect(redeployed).toBe('0.1.2');
  });

  test('continues above a version created outside the stack, without a fingerprint', async () => {
    // Prepare: the version recorded by lib/component-versions.json before versions were allocated in the account.
    const account = new FakeAccount();
    account.versions = [{ version: '0.1.1' }];

    // Act
    const version = await account.deploy('{"build":"a"}');

    // Assess
    expect(version).toBe('0.1.2');
  });

  test('uses a pinned version above every earlier one', async () => {
    // Prepare
    const account = new FakeAccount();
    await account.deploy('{"build":"a"}');

    // Act
    const pinned = await account.deploy('{"build":"b"}', '1.0.0');
    const samePinnedBuild = await account.deploy('{"build":"b"}', '1.0.0');

    // Assess
    expect([pinned, samePinnedBuild, account.mark]).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  test('refuses a pinned version that names another build, saying what to do', async () => {
    // Prepare
    const account = new FakeAccount();
    await account.deploy('{"build":"a"}', '1.0.0');

    // Act & Assess
    await expect(account.deploy('{"build":"b"}', '1.0.0')).rejects.toThrow(
      'componentVersion 1.0.0 already names another build of community.greengrass.FirehoseConnector in this ' +
        'account and region: Greengrass versions are immutable, so a changed build needs a new version. Pin a ' +
        'higher one (above 1.0.0), or leave componentVersion unset.',
    );
  });

  test('refuses a pinned version that is not above the high-water mark, although that version is gone', async () => {
    // Prepare
    const account = new FakeAccount();
    await account.deploy('{"build":"a"}', '1.0.0');
    account.destroy();

    // Act & Assess
    await expect(account.deploy('{"build":"b"}', '1.0.0')).rejects.toThrow(
      'componentVersion 1.0.0 is not above 1.0.0, the highest version community.greengrass.FirehoseConnector has ' +
        'had in this account and region: devices may still hold an earlier build under that number.',
    );
  });

  test('names every bad property at once', async () => {
    // Act & Assess
    await expect(
      allocateComponentVersion(
        { ...properties(''), BaseVersion: 'latest', PinnedVersion: '1.0' },
        new FakeAccount(),
      ),
    ).rejects.toThrow(
      'Invalid Custom::ComponentVersion properties: Recipe is missing; BaseVersion "latest" is not ' +
        'MAJOR.MINOR.PATCH; PinnedVersion "1.0" is not MAJOR.MINOR.PATCH',
    );
  });
});

describe('nextVersion', () => {
  test.each([
    ['0.1.0', undefined, '0.1.0'],
    ['0.1.0', '0.1.0', '0.1.1'],
    ['0.1.0', '0.1.10', '0.1.11'],
    ['0.2.0', '0.1.7', '0.2.0'],
    ['0.1.5', '0.1.7', '0.1.8'],
  ])('after package version %s and highest %s is %s', (base, highest, expected) => {
    // Act & Assess
    expect(nextVersion(base, highest)).toBe(expected);
  });
});
