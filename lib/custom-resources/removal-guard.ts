/**
 * `Custom::RemovalGuard`: a deploy that would drop the deployment, the token exchange role or its alias, or replace
 * the delivery stream, fails before anything changes, unless the deploy says so (`-c allowRemoval=...`).
 *
 * The guard's properties name what the stack holds; CloudFormation sends the previous deploy's properties with each
 * update, so the account (not the clone that deploys) says what was there. Every other resource of the stack depends
 * on the guard, so it is updated first, and CloudFormation deletes removed resources only after every update
 * succeeded: a refusal rolls the stack back with nothing removed.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html
 */

/** What the guard protects, by the name `allowRemoval` takes. */
export const GUARDED = {
  deployment: 'the deployment to',
  tokenExchangeRole: 'the token exchange role',
  tokenExchangeRoleAlias: 'the token exchange role alias',
  deliveryStream: 'the delivery stream',
} as const;

export type Guarded = keyof typeof GUARDED;

/** The properties of a `Custom::RemovalGuard` resource. */
export interface RemovalGuardProperties {
  /** What the stack holds: the deployment's target, the role's and alias's names, the stream's name. */
  readonly Holds?: Readonly<Partial<Record<Guarded, string>>>;
  /** What this deploy may drop or replace. */
  readonly AllowRemoval?: readonly string[];
  /** For the message. */
  readonly StackName?: string;
}

/** Why each guarded thing matters, for the message. */
const CONSEQUENCES: Record<Guarded, string> = {
  deployment: 'devices would keep running the component with nothing managing it',
  tokenExchangeRole: 'every component on the devices would lose its AWS credentials',
  tokenExchangeRoleAlias: 'every component on the devices would lose its AWS credentials',
  deliveryStream: 'records queued on the devices for it would fail with the old stream',
};

/** The keys that bring each guarded thing back in `npm run configure` (lib/configure.ts warns when one is unsaved). */
export const SETTINGS: Readonly<Record<Guarded, readonly string[]>> = {
  deployment: ['targetArn'],
  tokenExchangeRole: ['createTokenExchangeRole', 'tokenExchangeRoleName'],
  tokenExchangeRoleAlias: ['createTokenExchangeRole', 'tokenExchangeRoleAlias'],
  deliveryStream: ['deliveryStreamName'],
};

/** One line per guarded thing the update drops or changes without being allowed to. */
export function removalProblems(before: RemovalGuardProperties, after: RemovalGuardProperties): string[] {
  const allowed = new Set(after.AllowRemoval ?? []);
  const problems: string[] = [];
  for (const key of Object.keys(GUARDED) as Guarded[]) {
    const held = before.Holds?.[key];
    const now = after.Holds?.[key];
    if (held === undefined || held === now || allowed.has(key) || allowed.has('all')) continue;
    const change = now === undefined ? 'remove it' : `replace it with ${now}`;
    problems.push(
      `${GUARDED[key]} ${held}: this deploy would ${change}, and ${CONSEQUENCES[key]}. If a setting was ` +
        `forgotten, save it (npm run configure, keys ${SETTINGS[key].join(', ')}) and deploy again; if this is ` +
        `wanted, deploy with -c allowRemoval=${key}`,
    );
  }
  return problems;
}

/** Throws the refusal, naming every problem, when the update drops what it may not. */
export function checkRemovals(before: RemovalGuardProperties, after: RemovalGuardProperties): void {
  const problems = removalProblems(before, after);
  if (problems.length === 0) return;
  throw new Error(
    `Refused, nothing was changed: the last deploy of ${after.StackName ?? 'the stack'} made what this one drops. ` +
      problems.map((problem, index) => `(${index + 1}) ${problem}.`).join(' '),
  );
}
