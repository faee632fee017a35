/**
 * `Custom::ComponentVersion`: the version of a component build, decided in the account at deploy time, so that
 * every clone and CI run agrees without a file.
 *
 * Greengrass component versions are immutable plain `MAJOR.MINOR.PATCH` numbers, and `InlineRecipe` is create-only:
 * a changed recipe makes CloudFormation create a new component version, which fails with a ConflictException if
 * the name and version exist. Devices also keep a version they have in their component store, so a number once
 * given to one build must never name another, even after that version was deleted.
 *
 * - The build's fingerprint is the SHA-256 of its recipe as CloudFormation resolved it (stream ARN, artifact
 *   object), with the version left out. Each component version the stack creates carries it as a tag.
 * - A build whose fingerprint a version of the component still carries gets that version back.
 * - A new build gets the next patch above the highest version the component has had here (the existing versions and
 *   the high-water mark), or the package version if that is higher.
 * - The high-water mark is an SSM parameter written by this function, not a stack resource: it outlives the stack,
 *   so a re-deploy after a destroy continues above the versions devices may still hold.
 * - A pinned version is used as given unless another build has it, or it is not above the high-water mark.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-greengrassv2-componentversion.html
 */
import { createHash } from 'node:crypto';
import { type HandlerResult } from './protocol';

/** The tag that records a component version's build fingerprint. */
export const BUILD_FINGERPRINT_TAG = 'build-sha256';

const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The properties of a `Custom::ComponentVersion` resource, as the stack writes them. */
export interface ComponentVersionProperties {
  readonly ComponentName: string;
  /** ARN of the component (without a version), for ListComponentVersions. */
  readonly ComponentArn: string;
  /** The recipe as CloudFormation resolves it, with a placeholder version: what the fingerprint is taken of. */
  readonly Recipe: string;
  /** The lowest version to give, normally the package version. */
  readonly BaseVersion: string;
  /** `-c componentVersion`: used as given, if allowed. */
  readonly PinnedVersion?: string;
  /** The SSM parameter holding the highest version ever given to the component in this account and region. */
  readonly HighWaterMarkParameter: string;
}

/** A version of the component that exists in the account, with the fingerprint tag it carries (if any). */
export interface ExistingVersion {
  readonly version: string;
  readonly fingerprint?: string;
}

/** What the account knows about the component: the port the allocation goes through (an SDK store, or a fake). */
export interface ComponentVersionStore {
  existingVersions(componentArn: string): Promise<readonly ExistingVersion[]>;
  highWaterMark(parameterName: string): Promise<string | undefined>;
  raiseHighWaterMark(parameterName: string, version: string): Promise<void>;
}

interface VersionChoice {
  readonly fingerprint: string;
  readonly base: string;
  readonly pinned?: string;
  readonly existing: readonly ExistingVersion[];
  readonly highWaterMark?: string;
  /** For messages. */
  readonly componentName: string;
}

/** The fingerprint of a build: the SHA-256 of its resolved recipe text. */
export function buildFingerprint(recipe: string): string {
  return `sha256:${createHash('sha256').update(recipe).digest('hex')}`;
}

/** The version for a build, by the rules above; throws with what to do when a pinned version is not allowed. */
function chooseVersion(choice: VersionChoice): string {
  const { pinned, existing, fingerprint, componentName } = choice;
  const highest = highestOf([...existing.map((entry) => entry.version), choice.highWaterMark]);
  if (pinned !== undefined) {
    const taken = existing.find((entry) => entry.version === pinned);
    if (taken !== undefined && taken.fingerprint === fingerprint) return pinned;
    if (taken !== undefined) {
      throw new Error(
        `componentVersion ${pinned} already names another build of ${componentName} in this account and region: ` +
          'Greengrass versions are immutable, so a changed build needs a new version. Pin a higher one ' +
          `(above ${highest}), or leave componentVersion unset.`,
      );
    }
    if (highest !== undefined && compareVersions(pinned, highest) <= 0) {
      throw new Error(
        `componentVersion ${pinned} is not above ${highest}, the highest version ${componentName} has had in this ` +
          'account and region: devices may still hold an earlier build under that number. Pin a higher one, or ' +
          'leave componentVersion unset.',
      );
    }
    return pinned;
  }
  const same = existing.filter((entry) => entry.fingerprint === fingerprint).map((entry) => entry.version);
  const reused = highestOf(same);
  if (reused !== undefined) return reused;
  return nextVersion(choice.base, highest);
}

/** Decides the version of the build in `properties`, raising the high-water mark to it. */
export async function allocateComponentVersion(
  properties: ComponentVersionProperties,
  store: ComponentVersionStore,
): Promise<HandlerResult> {
  const problems = propertyProblems(properties);
  if (problems.length > 0)
    throw new Error(`Invalid Custom::ComponentVersion properties: ${problems.join('; ')}`);
  const fingerprint = buildFingerprint(properties.Recipe);
  const [existing, highWaterMark] = await Promise.all([
    store.existingVersions(properties.ComponentArn),
    store.highWaterMark(properties.HighWaterMarkParameter),
  ]);
  const version = chooseVersion({
    fingerprint,
    base: properties.BaseVersion,
    pinned: properties.PinnedVersion,
    existing,
    highWaterMark,
    componentName: properties.ComponentName,
  });
  if (highWaterMark === undefined || compareVersions(version, highWaterMark) > 0) {
    await store.raiseHighWaterMark(properties.HighWaterMarkParameter, version);
  }
  // A new physical id per version: CloudFormation then keeps the earlier resource (and its attributes) until the
  // update completes, so a rollback returns to the earlier version without asking this function again.
  return {
    physicalResourceId: `${properties.ComponentName}@${version}`,
    data: { Version: version, Fingerprint: fingerprint },
  };
}

/** The base version, or the patch after `highest` if that is not below it. */
export function nextVersion(base: string, highest: string | undefined): string {
  if (highest === undefined || compareVersions(base, highest) > 0) return base;
  const [major, minor, patch] = highest.split('.').map(Number);
  return `${major}.${minor}.${patch + 1}`;
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The highest of the plain `MAJOR.MINOR.PATCH` versions among `versions`; others are ignored. */
function highestOf(versions: readonly (string | undefined)[]): string | undefined {
  const valid = versions.filter(
    (version): version is string => version !== undefined && VERSION.test(version),
  );
  return valid.sort(compareVersions).pop();
}

function propertyProblems(properties: ComponentVersionProperties): string[] {
  const problems: string[] = [];
  for (const key of ['ComponentName', 'ComponentArn', 'Recipe', 'HighWaterMarkParameter'] as const) {
    if (typeof properties[key] !== 'string' || properties[key] === '') problems.push(`${key} is missing`);
  }
  for (const key of ['BaseVersion', 'PinnedVersion'] as const) {
    const value = properties[key];
    if ((key === 'BaseVersion' || value !== undefined) && !VERSION.test(String(value))) {
      problems.push(`${key} ${JSON.stringify(value)} is not MAJOR.MINOR.PATCH`);
    }
  }
  return problems;
}
