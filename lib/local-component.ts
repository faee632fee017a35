/**
 * A component folder for a local deployment without the cloud:
 * `greengrass-cli deployment create --recipeDir DIR/recipes --artifactDir DIR/artifacts --merge NAME=VERSION`.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/gg-cli-deployment.html
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ARTIFACT_FILE_NAME,
  checkParameterValue,
  DELIVERY_STREAM_ARN_PATTERN,
  MIN_MEMORY_SIZE_KB,
  type ParameterName,
  PARAMETERS,
  ProblemsError,
} from '../runtime/contract';
import {
  COMPONENT_NAME_RULE,
  COMPONENT_VERSION_RULE,
  DEFAULT_COMPONENT_VERSION,
  DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB,
  DEPLOYMENT_PARAMETER_NAMES,
} from './context';
import { buildRecipe, DEFAULT_COMPONENT_NAME } from './recipe';
import { bundleRuntime } from './runtime-bundle';

export interface LocalComponentOptions {
  /** The deployed delivery stream (the stack's DeliveryStreamArn output). */
  readonly deliveryStreamArn: string;
  /** @default DEFAULT_COMPONENT_NAME */
  readonly componentName?: string;
  /** @default the version in package.json */
  readonly componentVersion?: string;
  /** @default 'greengrass-build' */
  readonly outDir?: string;
  /** A prebuilt bundle to copy. @default - runtime/main.ts is bundled with esbuild */
  readonly artifactPath?: string;
  /** Entry point bundled when no `artifactPath` is given. @default runtime/main.ts */
  readonly runtimeEntry?: string;
  /** Connector parameters for the deployment's configuration update. @default {} */
  readonly parameters?: Partial<Record<ParameterName, string>>;
  /** @default '/greengrass/v2' */
  readonly greengrassRoot?: string;
}

export interface LocalComponent {
  readonly componentName: string;
  readonly componentVersion: string;
  readonly recipeDir: string;
  readonly artifactDir: string;
  readonly recipeFile: string;
  readonly artifactFile: string;
  /** The greengrass-cli command that deploys the folder, ready to paste. */
  readonly command: string;
}

/**
 * Artifact URI for a local recipe. A local deployment copies `--artifactDir/NAME/VERSION/*` into the component store
 * and, for a recipe without a digest, uses the file named by the URI's last segment as is: nothing is downloaded,
 * so the bucket name is never contacted.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/componentmanager/plugins/ArtifactDownloader.java
 */
export function localArtifactUri(componentName: string, componentVersion: string): string {
  return `s3://local-deployment-artifact/${componentName}/${componentVersion}/${ARTIFACT_FILE_NAME}`;
}

/** Writes recipes/NAME-VERSION.json and artifacts/NAME/VERSION/firehose-connector.js under `outDir`. */
export function writeLocalComponent(options: LocalComponentOptions): LocalComponent {
  const componentName = options.componentName ?? DEFAULT_COMPONENT_NAME;
  const componentVersion = options.componentVersion ?? DEFAULT_COMPONENT_VERSION;
  const outDir = resolve(options.outDir ?? 'greengrass-build');
  const recipeDir = join(outDir, 'recipes');
  const artifactDir = join(outDir, 'artifacts');
  const recipeFile = join(recipeDir, `${componentName}-${componentVersion}.json`);
  const artifactFile = join(artifactDir, componentName, componentVersion, ARTIFACT_FILE_NAME);

  const recipe = buildRecipe({
    componentName,
    componentVersion,
    defaultDeliveryStreamArn: options.deliveryStreamArn,
    artifactUri: localArtifactUri(componentName, componentVersion),
    statusToIoTCore: options.parameters?.StatusToIoTCore === 'true',
  });
  mkdirSync(recipeDir, { recursive: true });
  writeFileSync(recipeFile, JSON.stringify(recipe, null, 2) + '\n');
  mkdirSync(join(artifactDir, componentName, componentVersion), { recursive: true });
  if (options.artifactPath !== undefined) copyFileSync(options.artifactPath, artifactFile);
  else bundleRuntime(artifactFile, options.runtimeEntry);

  const command = greengrassCliCommand({
    greengrassRoot: options.greengrassRoot ?? '/greengrass/v2',
    recipeDir,
    artifactDir,
    componentName,
    componentVersion,
    configuration: {
      ...options.parameters,
      // Recipe defaults never replace a value the device already has, so the ARN is merged explicitly.
      DefaultDeliveryStreamArn: options.deliveryStreamArn,
      MemorySize: options.parameters?.MemorySize ?? String(DEFAULT_DEPLOYMENT_MEMORY_SIZE_KB),
    },
  });
  return { componentName, componentVersion, recipeDir, artifactDir, recipeFile, artifactFile, command };
}

interface CliCommandProps {
  readonly greengrassRoot: string;
  readonly recipeDir: string;
  readonly artifactDir: string;
  readonly componentName: string;
  readonly componentVersion: string;
  readonly configuration: Partial<Record<ParameterName, string>>;
}

/**
 * `--systemLimits` applies MemorySize as the memory limit, as the cloud deployment's runWith does; `RESET` gives the
 * device this recipe's IPC permissions even when it had an earlier version's.
 */
function greengrassCliCommand(props: CliCommandProps): string {
  const updateConfig = { [props.componentName]: { RESET: ['/accessControl'], MERGE: props.configuration } };
  const systemLimits = { [props.componentName]: { memory: Number(props.configuration.MemorySize) } };
  return [
    `sudo ${props.greengrassRoot}/bin/greengrass-cli deployment create`,
    `  --recipeDir ${shellQuote(props.recipeDir)}`,
    `  --artifactDir ${shellQuote(props.artifactDir)}`,
    `  --merge ${shellQuote(`${props.componentName}=${props.componentVersion}`)}`,
    `  --update-config ${shellQuote(JSON.stringify(updateConfig))}`,
    `  --systemLimits ${shellQuote(JSON.stringify(systemLimits))}`,
  ].join(' \\\n');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Heading of the error that lists every command-line problem (the usage follows the list). */
export const ARGS_ERROR_HEADING = 'Invalid arguments';

export const LOCAL_COMPONENT_USAGE = `Usage: npm run component:local -- --delivery-stream-arn ARN [options]

  --delivery-stream-arn ARN  Stream for DefaultDeliveryStreamArn (or env DefaultDeliveryStreamArn)
  --name NAME                Component name (default ${DEFAULT_COMPONENT_NAME})
  --version VERSION          Component version (default ${DEFAULT_COMPONENT_VERSION}, from package.json)
  --param NAME=VALUE         Connector parameter for the configuration update; repeatable
                             (${DEPLOYMENT_PARAMETER_NAMES.join(', ')})
  --artifact FILE            Copy this prebuilt bundle instead of bundling runtime/main.ts
  --out-dir DIR              Output folder (default greengrass-build)
  --greengrass-root DIR      Greengrass root on the device (default /greengrass/v2)`;

/** Parses `component:local` arguments; the ARN may also come from the environment, as the runtime reads it. */
export function parseLocalComponentArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): LocalComponentOptions {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  const parameters: Partial<Record<ParameterName, string>> = {};
  const flags = [
    '--delivery-stream-arn',
    '--name',
    '--version',
    '--artifact',
    '--out-dir',
    '--greengrass-root',
  ];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag !== '--param' && !flags.includes(flag)) {
      problems.push(`${flag}: unknown argument`);
      continue;
    }
    if (value === undefined || value.startsWith('--')) {
      problems.push(`${flag}: needs a value`);
      continue;
    }
    i++;
    if (flag !== '--param') {
      values[flag] = value;
      continue;
    }
    const [name, ...rest] = value.split('=');
    const parameterValue = rest.join('=');
    if (!(DEPLOYMENT_PARAMETER_NAMES as string[]).includes(name) || rest.length === 0) {
      problems.push(
        `--param ${value}: expected NAME=VALUE with NAME one of ${DEPLOYMENT_PARAMETER_NAMES.join(', ')}`,
      );
      continue;
    }
    const check = checkParameterValue(name as ParameterName, parameterValue);
    if (!check.valid) {
      problems.push(
        `--param ${name}: received ${JSON.stringify(parameterValue)}; allowed: ${check.expected}`,
      );
    } else if (check.value !== undefined) {
      parameters[name as ParameterName] = String(check.value);
    }
  }
  if (parameters.MemorySize !== undefined && Number(parameters.MemorySize) < MIN_MEMORY_SIZE_KB) {
    problems.push(
      `--param MemorySize: received ${JSON.stringify(parameters.MemorySize)}; allowed: at least ${MIN_MEMORY_SIZE_KB} ` +
        `KB: it is also the memory limit (--systemLimits), and the connector needs about 76 MiB idle plus its queues`,
    );
  }

  const deliveryStreamArn = values['--delivery-stream-arn'] ?? (env.DefaultDeliveryStreamArn || undefined);
  if (deliveryStreamArn === undefined) {
    problems.push(
      '--delivery-stream-arn: required (or set env DefaultDeliveryStreamArn), for example the stack output DeliveryStreamArn',
    );
  } else if (!DELIVERY_STREAM_ARN_PATTERN.test(deliveryStreamArn)) {
    problems.push(
      `--delivery-stream-arn: received ${JSON.stringify(deliveryStreamArn)}; allowed: ${PARAMETERS.DefaultDeliveryStreamArn.valid}`,
    );
  }
  const checks: [string, { test: (value: string) => boolean; allowed: string }][] = [
    ['--name', COMPONENT_NAME_RULE],
    ['--version', COMPONENT_VERSION_RULE],
  ];
  for (const [flag, rule] of checks) {
    const value = values[flag];
    if (value !== undefined && !rule.test(value)) {
      problems.push(`${flag}: received ${JSON.stringify(value)}; allowed: ${rule.allowed}`);
    }
  }
  if (problems.length > 0) throw new ProblemsError(ARGS_ERROR_HEADING, problems, LOCAL_COMPONENT_USAGE);
  return {
    deliveryStreamArn: deliveryStreamArn as string,
    componentName: values['--name'],
    componentVersion: values['--version'],
    artifactPath: values['--artifact'],
    outDir: values['--out-dir'],
    greengrassRoot: values['--greengrass-root'],
    parameters,
  };
}
