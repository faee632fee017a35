import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentVersions, nextVersion } from '../../lib/component-versions';
import { recipeOf, STUB_ARTIFACT, synth, THING_GROUP_ARN } from './app-fixture';

/** A prebuilt artifact whose code differs from the stub's by one comment. */
function changedArtifact(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'artifact-')), 'firehose-connector.js');
  copyFileSync(STUB_ARTIFACT, file);
  writeFileSync(file, `${readFileSync(file, 'utf8')}// changed\n`);
  return file;
}

function versionOf(synthesized: ReturnType<typeof synth>): string {
  return recipeOf(synthesized.template).ComponentVersion;
}

describe('component versions', () => {
  test('two synths with different runtime code give different versions, the later one higher', () => {
    // Prepare
    const versions = new ComponentVersions();

    // Act
    const first = versionOf(synth({}, { versions }));
    const second = versionOf(synth({ artifactPath: changedArtifact() }, { versions }));

    // Assess
    expect([first, second]).toEqual(['0.1.0', '0.1.1']);
  });

  test('two synths with the same code give the same version and the same component version resource', () => {
    // Prepare
    const versions = new ComponentVersions();

    // Act
    const first = synth({}, { versions });
    const second = synth({}, { versions });

    // Assess: an unchanged build redeploys as a no-op.
    expect(versionOf(second)).toBe(versionOf(first));
    expect(second.template.findResources('AWS::GreengrassV2::ComponentVersion')).toEqual(
      first.template.findResources('AWS::GreengrassV2::ComponentVersion'),
    );
  });

  test('a build recorded before keeps its version after another build', () => {
    // Prepare
    const versions = new ComponentVersions();
    synth({}, { versions });
    synth({ artifactPath: changedArtifact() }, { versions });

    // Act
    const again = versionOf(synth({}, { versions }));

    // Assess
    expect(again).toBe('0.1.0');
  });

  test('a renamed delivery stream makes a new version, because the recipe holds its ARN', () => {
    // Prepare
    const versions = new ComponentVersions();

    // Act
    const first = versionOf(synth({ deliveryStreamName: 'connector-a' }, { versions }));
    const second = versionOf(synth({ deliveryStreamName: 'connector-b' }, { versions }));

    // Assess
    expect(second).not.toBe(first);
  });

  test('the deployment and the outputs use the version of the build', () => {
    // Prepare
    const versions = new ComponentVersions({ versions: { '0.1.0': 'used before' } });

    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN }, { versions });

    // Assess
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    expect(deployment.Properties.Components['community.greengrass.FirehoseConnector'].ComponentVersion).toBe(
      '0.1.1',
    );
    expect(template.toJSON().Outputs.ComponentVersion.Value).toBe('0.1.1');
  });

  test('a pinned version is used as given', () => {
    // Act
    const version = versionOf(synth({ componentVersion: '2.0.0' }));

    // Assess
    expect(version).toBe('2.0.0');
  });

  test('a pinned version recorded for other content fails synth, naming the version', () => {
    // Prepare
    const versions = new ComponentVersions();
    synth({ componentVersion: '2.0.0' }, { versions });

    // Act & Assess
    expect(() => synth({ componentVersion: '2.0.0', artifactPath: changedArtifact() }, { versions })).toThrow(
      'componentVersion 2.0.0 already names another build (recorded in memory): Greengrass versions are immutable, ' +
        'so a changed build needs a new version. Pin a higher one, or leave componentVersion unset.',
    );
  });

  test('are recorded in the versions file, which a later synth reads back', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'versions-')), 'component-versions.json');
    writeFileSync(
      file,
      JSON.stringify({ versions: { '0.1.0': 'deployed before versions followed content' } }),
    );

    // Act
    const first = versionOf(synth({}, { versions: ComponentVersions.fromFile(file) }));
    const again = versionOf(synth({}, { versions: ComponentVersions.fromFile(file) }));

    // Assess
    expect([first, again]).toEqual(['0.1.1', '0.1.1']);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).versions)).toEqual(['0.1.0', '0.1.1']);
  });

  test('a versions file that is not a map of versions fails synth with its path', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'versions-')), 'component-versions.json');
    writeFileSync(file, JSON.stringify({ versions: { latest: 'x' } }));

    // Act & Assess
    expect(() => ComponentVersions.fromFile(file)).toThrow(
      `${file} must hold {"versions": {"MAJOR.MINOR.PATCH": "<fingerprint>", ...}}.`,
    );
  });
});

describe('nextVersion', () => {
  test.each([
    ['0.1.0', [], '0.1.0'],
    ['0.1.0', ['0.1.0'], '0.1.1'],
    ['0.1.0', ['0.1.0', '0.1.9', '0.1.10'], '0.1.11'],
    ['0.2.0', ['0.1.7'], '0.2.0'],
    ['0.1.5', ['0.1.7'], '0.1.8'],
  ])('after package version %s and recorded %j is %s', (base, recorded, expected) => {
    // Act & Assess
    expect(nextVersion(base, recorded)).toBe(expected);
  });
});
