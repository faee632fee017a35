/**
 * `npm run configure`: the deploy settings, saved as CDK context in cdk.json, where `cdk deploy` reads them from any
 * clone or CI run. A setting given only with `-c` is forgotten by the next deploy, and the removal guard then refuses
 * it (lib/custom-resources/removal-guard.ts); a saved one is not. Pure: the command's file work is in
 * bin/configure.ts.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/context.html
 */
import { join } from 'node:path';
import { ProblemsError } from '../runtime/contract';
import { KNOWN_CONTEXT_KEYS, parseContext } from './context';
import { SETTINGS } from './custom-resources/removal-guard';

/** Keys that hold for one deploy only, never saved. */
const ONE_DEPLOY_KEYS: Readonly<Record<string, string>> = {
  allowRemoval: 'it is for one deploy: give it as -c allowRemoval=... to the deploy that may remove',
};

/** The repository's cdk.json: `npm run configure` saves the settings there, and the app reads them back. */
export const REPOSITORY_CDK_JSON = join(__dirname, '..', 'cdk.json');

export const CONFIGURE_USAGE = `Usage: npm run configure -- [--KEY VALUE ...] [--unset KEY ...] [--show]

  --KEY VALUE     Save a setting in cdk.json "context", for example --target-arn arn:aws:iot:...:thinggroup/Cores,
                  --create-token-exchange-role true, --publish-interval 5 (any key of docs/DEPLOYING.md's table or
                  connector parameter, in kebab-case or as written there)
  --unset KEY     Remove a saved setting (its default applies again)
  --show          Print the saved settings
  --file PATH     The cdk.json to change (default: the repository's)

Every setting is checked as cdk synth checks it, and nothing is written if one is wrong.`;

export interface ConfigureRequest {
  readonly set: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
  readonly show: boolean;
  /** The file to change. @default - the repository's cdk.json */
  readonly file?: string;
}

/** The context key a flag names: `--target-arn`, `--targetArn` and `--PublishInterval` all work. */
function contextKeyOf(flag: string): string | undefined {
  const wanted = flag.replace(/^--/, '').replace(/-/g, '').toLowerCase();
  return KNOWN_CONTEXT_KEYS.find((key) => key.toLowerCase() === wanted);
}

/** Parses the command line; reports every unknown key, missing value and one-deploy key at once. */
export function parseConfigureArgs(argv: readonly string[]): ConfigureRequest {
  const problems: string[] = [];
  const set: Record<string, string> = {};
  const unset: string[] = [];
  let show = false;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--show') {
      show = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      problems.push(`${flag}: needs a value`);
      continue;
    }
    i++;
    if (flag === '--file') {
      file = value;
      continue;
    }
    const key = contextKeyOf(flag === '--unset' ? value : flag);
    if (key === undefined) problems.push(`${flag === '--unset' ? value : flag}: unknown setting`);
    else if (ONE_DEPLOY_KEYS[key] !== undefined) problems.push(`${key}: not saved: ${ONE_DEPLOY_KEYS[key]}`);
    else if (flag === '--unset') unset.push(key);
    else set[key] = value;
  }
  if (problems.length > 0) throw new ProblemsError('Invalid arguments', problems, CONFIGURE_USAGE);
  return { set, unset, show, file };
}

/** The settings of a cdk.json "context": every key the app reads, without the feature flags and CLI settings. */
export function savedSettings(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).filter(([key]) => KNOWN_CONTEXT_KEYS.includes(key)));
}

/**
 * cdk.json's content with the request applied to its "context", after checking the resulting settings as synth
 * does (throws the `ProblemsError` synth would).
 */
export function applySettings(
  cdkJson: Readonly<Record<string, unknown>>,
  request: ConfigureRequest,
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...(cdkJson.context as Record<string, unknown> | undefined) };
  for (const key of request.unset) delete context[key];
  Object.assign(context, request.set);
  const settings = savedSettings(context);
  parseContext((key) => settings[key], Object.keys(settings));
  return { ...cdkJson, context };
}

/** The settings whose loss the removal guard refuses: worth saving whenever they are given. */
const GUARDED_SETTINGS: readonly string[] = [...new Set(Object.values(SETTINGS).flat())];

/** A guarded setting given on the command line only, and the warning that says how to save it. */
export interface UnsavedSetting {
  readonly key: string;
  readonly message: string;
}

/**
 * The guarded settings this synth uses with a value cdk.json does not hold: given with `-c` only, so the next
 * deploy without them would drop what they made (and be refused), each with the command that saves it.
 */
export function unsavedSettings(
  lookup: (key: string) => unknown,
  saved: Readonly<Record<string, unknown>>,
): UnsavedSetting[] {
  return GUARDED_SETTINGS.filter((key) => {
    const value = lookup(key);
    return value !== undefined && String(value) !== String(saved[key]);
  }).map((key) => ({
    key,
    message:
      `${key} is given on the command line only: a later deploy without it would remove what it makes, which the ` +
      `stack refuses. Save it: npm run configure -- --${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} ${String(lookup(key))}`,
  }));
}
