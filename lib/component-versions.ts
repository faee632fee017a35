/**
 * Component versions that follow the content, so that nobody has to remember a bump.
 *
 * Greengrass component versions are immutable and must be plain `MAJOR.MINOR.PATCH` (no pre-release or build
 * suffix), and CloudFormation replaces a component version whose recipe changed by creating one with the same name
 * and version, which the service refuses. So every build needs its own version, and versions should still increase
 * (the console and `ResolveComponentCandidates` treat the highest as the latest). A content hash alone is not
 * ordered, and `cdk synth` works offline, so the versions are kept in a small committed file: a fingerprint of each
 * build (the recipe as the template resolves it, which names the artifact by its content hash) maps to the version
 * it was first synthesized as.
 *
 * - A build already recorded gets its version back: a redeploy without a change is a no-op.
 * - A new build gets the next version, `max(package version, highest recorded + 1 patch)`, and synth records it.
 * - A pinned version (`-c componentVersion=1.2.0`, for production) is used as given, and refused if the file records
 *   it for another build.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file of this repository: commit it, so that every machine that deploys the stack agrees on the versions. */
export const DEFAULT_COMPONENT_VERSIONS_FILE = join(__dirname, 'component-versions.json');

const FILE_COMMENT =
  'Written by cdk synth (lib/component-versions.ts): the component version of each build. Commit it.';
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The fingerprint of a build: a hash of everything that makes one component version differ from another. */
export function buildFingerprint(content: unknown): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(content)).digest('hex')}`;
}

export interface ComponentVersionsOptions {
  /** Versions given out before this file existed, or outside it: never reused. @default none */
  readonly versions?: Readonly<Record<string, string>>;
  /** Where new versions are written. @default - kept in memory only */
  readonly file?: string;
}

/** The recorded versions and their fingerprints. */
export class ComponentVersions {
  /** Reads `file` (an absent file records nothing yet); new versions are written back to it. */
  static fromFile(file: string): ComponentVersions {
    if (!existsSync(file)) return new ComponentVersions({ file });
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`Cannot read the component versions in ${file}: ${(error as Error).message}`);
    }
    const versions = (parsed as { versions?: unknown }).versions;
    if (
      typeof versions !== 'object' ||
      versions === null ||
      !Object.keys(versions).every((v) => VERSION.test(v))
    ) {
      throw new Error(`${file} must hold {"versions": {"MAJOR.MINOR.PATCH": "<fingerprint>", ...}}.`);
    }
    return new ComponentVersions({ file, versions: versions as Record<string, string> });
  }

  private readonly versions: Map<string, string>;

  constructor(private readonly options: ComponentVersionsOptions = {}) {
    this.versions = new Map(Object.entries(options.versions ?? {}));
  }

  /** The version recorded for `fingerprint`, if any. */
  versionOf(fingerprint: string): string | undefined {
    return [...this.versions].find(([, recorded]) => recorded === fingerprint)?.[0];
  }

  /**
   * The version of the build with `fingerprint`: `pinned` when given, else the recorded one, else the next one.
   * A version not recorded before is recorded (and written to the file, when there is one).
   * @param base the lowest version to give out, normally the package version
   */
  resolve(fingerprint: string, base: string, pinned?: string): string {
    if (pinned !== undefined) {
      const recorded = this.versions.get(pinned);
      if (recorded !== undefined && recorded !== fingerprint) {
        throw new Error(
          `componentVersion ${pinned} already names another build (${this.describe()}): Greengrass versions are ` +
            `immutable, so a changed build needs a new version. Pin a higher one, or leave componentVersion unset.`,
        );
      }
      if (recorded === undefined) this.record(pinned, fingerprint);
      return pinned;
    }
    const known = this.versionOf(fingerprint);
    if (known !== undefined) return known;
    const next = nextVersion(base, [...this.versions.keys()]);
    this.record(next, fingerprint);
    return next;
  }

  private record(version: string, fingerprint: string): void {
    this.versions.set(version, fingerprint);
    if (this.options.file === undefined) return;
    const sorted = [...this.versions].sort(([a], [b]) => compareVersions(a, b));
    const contents = { $comment: FILE_COMMENT, versions: Object.fromEntries(sorted) };
    writeFileSync(this.options.file, `${JSON.stringify(contents, null, 2)}\n`);
  }

  private describe(): string {
    return this.options.file ?? 'recorded in memory';
  }
}

/** The package version if it is above every recorded one, else the highest recorded one with its patch raised. */
export function nextVersion(base: string, recorded: readonly string[]): string {
  const highest = [...recorded].sort(compareVersions).pop();
  if (highest === undefined || compareVersions(base, highest) > 0) return base;
  const [major, minor, patch] = highest.split('.').map(Number);
  return `${major}.${minor}.${patch + 1}`;
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
