import { Match } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { joinText, logicalId, recipeOf, STUB_ARTIFACT, synth, THING_GROUP_ARN } from './app-fixture';

const ROOT = resolve(__dirname, '../..');
const COMPONENT = 'community.greengrass.FirehoseConnector';

/** A prebuilt artifact whose code differs from the stub's (and from any other build) by one comment. */
function changedArtifact(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'artifact-')), 'firehose-connector.js');
  copyFileSync(STUB_ARTIFACT, file);
  writeFileSync(file, `${readFileSync(file, 'utf8')}// changed ${process.pid} ${Date.now()}\n`);
  return file;
}

function allocationOf(template: ReturnType<typeof synth>['template']) {
  const allocations = Object.entries(template.findResources('Custom::ComponentVersion'));
  expect(allocations).toHaveLength(1);
  const [id, resource] = allocations[0];
  return { id, properties: resource.Properties as Record<string, unknown> };
}

describe('component versions', () => {
  test('are decided in the account at deploy time: the recipe, the deployment and the output take the allocation', () => {
    // Act
    const { template } = synth({ targetArn: THING_GROUP_ARN });

    // Assess
    const { id } = allocationOf(template);
    expect(recipeOf(template).ComponentVersion).toBe(`<GetAtt:${id}.Version>`);
    const deployment = Object.values(template.findResources('AWS::GreengrassV2::Deployment'))[0];
    expect(deployment.Properties.Components[COMPONENT].ComponentVersion).toEqual({
      'Fn::GetAtt': [id, 'Version'],
    });
    expect(template.toJSON().Outputs.ComponentVersion.Value).toEqual({ 'Fn::GetAtt': [id, 'Version'] });
  });

  test('tag each component version with the fingerprint the allocation finds it by', () => {
    // Act
    const { template } = synth();

    // Assess
    const { id } = allocationOf(template);
    template.hasResourceProperties('AWS::GreengrassV2::ComponentVersion', {
      Tags: { 'build-sha256': { 'Fn::GetAtt': [id, 'Fingerprint'] } },
    });
  });

  test('are allocated from the resolved recipe with a placeholder version, the package version and the high-water mark', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const { properties } = allocationOf(template);
    const recipe = JSON.parse(joinText(properties.Recipe));
    expect(recipe).toEqual({ ...recipeOf(template), ComponentVersion: '0.0.0' });
    expect(recipe.ComponentConfiguration.DefaultConfiguration.DefaultDeliveryStreamArn).toBe(
      `<GetAtt:${logicalId(stack, stack.pipeline.deliveryStream)}.Arn>`,
    );
    expect(properties).toMatchObject({
      ComponentName: COMPONENT,
      BaseVersion: '0.1.0',
      HighWaterMarkParameter: `/greengrass-component-versions/${COMPONENT}`,
    });
    expect(properties.PinnedVersion).toBeUndefined();
  });

  test('give the same build the same allocation from any synth, so an unchanged redeploy changes nothing', () => {
    // Act
    const first = synth();
    const second = synth();

    // Assess
    expect(allocationOf(second.template)).toEqual(allocationOf(first.template));
    expect(second.template.findResources('AWS::GreengrassV2::ComponentVersion')).toEqual(
      first.template.findResources('AWS::GreengrassV2::ComponentVersion'),
    );
  });

  test('give changed runtime code a changed allocation, which CloudFormation updates to a new version', () => {
    // Act
    const first = allocationOf(synth().template);
    const second = allocationOf(synth({ artifactPath: changedArtifact() }).template);

    // Assess
    expect(second.id).toBe(first.id);
    expect(joinText(second.properties.Recipe)).not.toBe(joinText(first.properties.Recipe));
  });

  test('pass a pinned version to the allocation, which refuses it if another build has it', () => {
    // Act
    const { template } = synth({ componentVersion: '2.0.0' });

    // Assess
    expect(allocationOf(template).properties.PinnedVersion).toBe('2.0.0');
  });

  test('are allocated by a function that may list this component and its tags and raise its mark, nothing else', () => {
    // Act
    const { stack, template } = synth();

    // Assess
    const component = [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':greengrass:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:components:${COMPONENT}`,
    ];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(stack.customResources.role.node.defaultChild as never) }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'greengrass:ListComponentVersions',
            Resource: { 'Fn::Join': ['', component] },
          },
          {
            Effect: 'Allow',
            Action: 'greengrass:ListTagsForResource',
            Resource: {
              'Fn::Join': ['', [...component.slice(0, -1), `:components:${COMPONENT}:versions:*`]],
            },
          },
          {
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:PutParameter'],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ssm:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  `:parameter/greengrass-component-versions/${COMPONENT}`,
                ],
              ],
            },
          },
        ]),
      }),
    });
  });
});

describe('cdk synth', () => {
  test('writes no file of the repository, so a read-only checkout synthesizes', () => {
    // Prepare: every file of the sources and the project's configuration, with its modification time.
    const files = [
      ...['bin', 'lib', 'runtime'].flatMap((folder) =>
        readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' }).map((file) =>
          join(folder, file),
        ),
      ),
      ...readdirSync(ROOT).filter((file) => statSync(join(ROOT, file)).isFile()),
    ];
    const modified = () =>
      readdirSync(join(ROOT, 'lib')).length +
      files
        .map((file) => `${file} ${statSync(join(ROOT, file), { throwIfNoEntry: false })?.mtimeMs}`)
        .join('\n');
    const before = modified();

    // Act: the app as cdk synth runs it, writing its cloud assembly elsewhere.
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_VALIDATION: 'false',
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
        CDK_CONTEXT_JSON: JSON.stringify({ artifactPath: changedArtifact() }),
      },
      encoding: 'utf8',
    });

    // Assess
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(modified()).toEqual(before);
  }, 60_000);
});
