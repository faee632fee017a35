/**
 * The connector's Greengrass component recipe, as a pure function of its inputs.
 *
 * The same function builds the recipe uploaded by the CDK app (artifact in the CDK asset bucket) and the one written
 * for `greengrass-cli deployment create --recipeDir` (artifact taken from `--artifactDir`), so the two cannot drift.
 * Values may be CDK tokens (the stream ARN, the asset bucket); the caller serialises them with `Stack.toJsonString`.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html
 */
import {
  CONNECTOR_ENVIRONMENT,
  CONNECTOR_NODE_OPTIONS,
  defaultParameterValues,
  type InputSource,
  MIN_OLD_SPACE_MIB,
  OLD_SPACE_HEADROOM_MIB,
  PARAMETER_NAMES,
  type ParameterDefinition,
  type ParameterName,
  PARAMETERS,
  type RecordPacking,
  type RecordSeparator,
  SHUTDOWN_EXIT_SECONDS,
  SHUTDOWN_SCRIPT_SECONDS,
  WORK_DIR_ENV,
} from '../runtime/contract';
import { type AccessControl, buildAccessControl } from './access-control';
import { BASE_COMPONENT_NAME } from './names';

/** Default component name (of the default stack); `aws.greengrass.*` names are reserved for AWS. */
export const DEFAULT_COMPONENT_NAME = BASE_COMPONENT_NAME;

/** File in the work folder where the Run script records the connector's process id for the Shutdown script. */
export const PID_FILE_NAME = 'firehose-connector.pid';

/**
 * Timeout of the Shutdown step: the longest `ShutdownTimeoutSeconds`, the time the connector takes to exit after it,
 * and a margin for the script itself. The nucleus marks the component errored when the step outlasts it.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/lifecyclemanager/Lifecycle.java
 */
export const SHUTDOWN_STEP_TIMEOUT_SECONDS =
  PARAMETERS.ShutdownTimeoutSeconds.max + SHUTDOWN_EXIT_SECONDS + SHUTDOWN_SCRIPT_SECONDS;

/**
 * The oldest Node.js line the bundle runs on: it is built for it, and the Run script refuses an older one.
 */
export const MINIMUM_NODE_MAJOR = 20;

/**
 * The oldest supported line (the README's "Supported Node.js lines", `engines`, CI): below it the Run script starts
 * the connector with a warning. Node.js 20 reached end of life in April 2026, and the AWS SDK for JavaScript's
 * releases after the first week of January 2027 need Node.js 22; refusing it would stop devices that run today.
 * @see https://github.com/nodejs/Release#release-schedule
 */
export const OLDEST_SUPPORTED_NODE_MAJOR = 22;

/**
 * The token exchange service gives the runtime AWS credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI). Any 2.x works.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/token-exchange-service-component.html
 */
export const TOKEN_EXCHANGE_SERVICE = 'aws.greengrass.TokenExchangeService';
export const TOKEN_EXCHANGE_SERVICE_VERSION_REQUIREMENT = '^2.0.0';

/**
 * The nucleus the component needs: 2.6.0 brought wildcards in local subscriptions and the topic of each message
 * (on 2.5.x `kinesisfirehose/message/binary/#` is matched literally, so binary input never arrives while JSON
 * works), and 2.4.0 the memory limit. A SOFT dependency: the nucleus is checked against the range when the
 * component is deployed, but a nucleus update is not made to restart the component.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/greengrass-nucleus-component.html#greengrass-nucleus-component-changelog
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html#recipe-reference-component-dependencies
 */
export const NUCLEUS = 'aws.greengrass.Nucleus';
export const NUCLEUS_VERSION_REQUIREMENT = '>=2.6.0 <3.0.0';

export interface RecipeArtifact {
  readonly URI: string;
  readonly Unarchive: 'NONE' | 'ZIP';
  readonly Permission: {
    readonly Read: 'NONE' | 'OWNER' | 'ALL';
    readonly Execute: 'NONE' | 'OWNER' | 'ALL';
  };
}

/** A lifecycle step run as a shell script by the nucleus. */
export interface RecipeStep {
  readonly Script: string;
  readonly RequiresPrivilege: boolean;
  /** Seconds the nucleus waits for the step. */
  readonly Timeout?: number;
}

export interface RecipeLifecycle {
  readonly Setenv: Record<string, string>;
  readonly Run: RecipeStep;
  readonly Shutdown: RecipeStep;
}

export interface RecipeManifest {
  readonly Name: string;
  readonly Platform: { readonly os: 'linux' };
  readonly Lifecycle: RecipeLifecycle;
  readonly Artifacts: readonly RecipeArtifact[];
}

/**
 * The component's `InputSource` default: under the nucleus, local publish/subscribe over IPC, no broker needed. The
 * runtime's own default stays `mqtt`, for `npm start` and hosts without Greengrass.
 */
export const COMPONENT_INPUT_SOURCE: InputSource = 'ipc';

/**
 * The component packs messages into Firehose records for its `DefaultDeliveryStreamArn`, the stream this app
 * provisions: S3, no transformation, so the objects hold the same bytes and Firehose bills data rather than 5 KB
 * per message. Each message ends with a newline, so that its records stay apart in the objects. The runtime's own
 * defaults stay `off` and no separator (the v1 connector's). README "Record packing" gives the trade-off.
 */
export const COMPONENT_RECORD_PACKING: RecordPacking = 'default-stream';
export const COMPONENT_RECORD_SEPARATOR: RecordSeparator = '\\n';

/** Configuration keys and their defaults: the connector parameters as strings, and the IPC permissions. */
export type DefaultConfiguration = Readonly<Partial<Record<ParameterName, string>>> & {
  readonly accessControl: AccessControl;
};

export interface ComponentRecipe {
  readonly RecipeFormatVersion: '2020-01-25';
  readonly ComponentName: string;
  readonly ComponentVersion: string;
  readonly ComponentType: 'aws.greengrass.generic';
  readonly ComponentDescription: string;
  readonly ComponentPublisher: string;
  readonly ComponentConfiguration: { readonly DefaultConfiguration: DefaultConfiguration };
  readonly ComponentDependencies: Record<
    string,
    { readonly VersionRequirement: string; readonly DependencyType: 'HARD' | 'SOFT' }
  >;
  readonly Manifests: readonly RecipeManifest[];
}

export interface RecipeProps {
  /** Greengrass component name. */
  readonly componentName: string;
  /** Greengrass component version (MAJOR.MINOR.PATCH). Versions are immutable once created. */
  readonly componentVersion: string;
  /** ARN of the delivery stream written to `DefaultConfiguration.DefaultDeliveryStreamArn`; may be a CDK token. */
  readonly defaultDeliveryStreamArn: string;
  /**
   * Where the nucleus gets the bundle. Its last path segment is the file name under `{artifacts:path}`, which the
   * `Run` script executes. For a local deployment any `s3://` URI whose file name matches the file in
   * `--artifactDir/NAME/VERSION/` works: a recipe without a digest makes the nucleus use the local file.
   */
  readonly artifactUri: string;
  /** @default 'community' */
  readonly publisher?: string;
  /**
   * Default `StatusToIoTCore` to true and allow `PublishToIoTCore` on the status topic.
   * @default false
   */
  readonly statusToIoTCore?: boolean;
  /**
   * `MetricsNamespace` by default: metrics on, in the namespace the devices are allowed to publish to.
   * @default - metrics off (the parameter's default, an empty namespace)
   */
  readonly metricsNamespace?: string;
}

/** Builds the recipe. Pure: no constructs, no I/O; CDK tokens pass through untouched. */
export function buildRecipe(props: RecipeProps): ComponentRecipe {
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: props.componentName,
    ComponentVersion: props.componentVersion,
    ComponentType: 'aws.greengrass.generic',
    ComponentDescription:
      'Forwards messages on kinesisfirehose/message and kinesisfirehose/message/binary/# (Greengrass local ' +
      'publish/subscribe, or an MQTT broker) to Amazon Data Firehose with PutRecordBatch and publishes per-record ' +
      `statuses on kinesisfirehose/message/status. Linux core devices; needs Node.js ${OLDEST_SUPPORTED_NODE_MAJOR}+.`,
    ComponentPublisher: props.publisher ?? 'community',
    ComponentConfiguration: {
      DefaultConfiguration: defaultConfiguration(props.defaultDeliveryStreamArn, props),
    },
    ComponentDependencies: {
      [TOKEN_EXCHANGE_SERVICE]: {
        VersionRequirement: TOKEN_EXCHANGE_SERVICE_VERSION_REQUIREMENT,
        DependencyType: 'HARD',
      },
      [NUCLEUS]: { VersionRequirement: NUCLEUS_VERSION_REQUIREMENT, DependencyType: 'SOFT' },
    },
    Manifests: [linuxManifest(props)],
  };
}

/**
 * The only manifest: the scripts are POSIX sh, and a core device on Windows finds no manifest for its platform, so
 * a deployment to it fails instead of starting something that cannot run.
 */
function linuxManifest(props: RecipeProps): RecipeManifest {
  return {
    Name: 'Linux',
    Platform: { os: 'linux' },
    Lifecycle: {
      Setenv: lifecycleEnvironment(),
      Run: {
        Script: runScript(props.componentName, artifactFileNameOf(props.artifactUri)),
        RequiresPrivilege: false,
      },
      Shutdown: {
        Script: shutdownScript(props.componentName),
        RequiresPrivilege: false,
        Timeout: SHUTDOWN_STEP_TIMEOUT_SECONDS,
      },
    },
    Artifacts: [
      { URI: props.artifactUri, Unarchive: 'NONE', Permission: { Read: 'OWNER', Execute: 'NONE' } },
    ],
  };
}

/**
 * The shared parameter defaults, as strings, plus the deployed stream as `DefaultDeliveryStreamArn`, input over IPC
 * (`COMPONENT_INPUT_SOURCE`), packing for that stream with a newline separator (`COMPONENT_RECORD_PACKING`), the
 * IPC permissions that takes, and the metrics namespace when the deployment has one.
 */
export function defaultConfiguration(
  defaultDeliveryStreamArn: string,
  options: Pick<RecipeProps, 'componentName' | 'statusToIoTCore' | 'metricsNamespace'>,
): DefaultConfiguration {
  return {
    ...defaultParameterValues(),
    ...(options.metricsNamespace === undefined ? {} : { MetricsNamespace: options.metricsNamespace }),
    InputSource: COMPONENT_INPUT_SOURCE,
    RecordPacking: COMPONENT_RECORD_PACKING,
    RecordSeparator: COMPONENT_RECORD_SEPARATOR,
    StatusToIoTCore: String(options.statusToIoTCore ?? false),
    DefaultDeliveryStreamArn: defaultDeliveryStreamArn,
    accessControl: buildAccessControl(options),
  };
}

/**
 * Every parameter as an environment variable of the same name, interpolated from the component configuration.
 *
 * The nucleus interpolates `{configuration:/NAME}` when it applies a deployment; a changed value changes the
 * lifecycle's `Setenv`, and the nucleus restarts the component for it, so a deployment's configuration update reaches
 * the runtime. Configuration changed outside a deployment is not re-interpolated.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/componentmanager/KernelConfigResolver.java
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/lifecyclemanager/GenericExternalService.java
 */
export function lifecycleEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of PARAMETER_NAMES) environment[name] = `{configuration:/${name}}`;
  environment[WORK_DIR_ENV] = '{work:path}';
  return environment;
}

/**
 * Parameters that may be absent from the configuration: no default in the recipe. For an absent key the nucleus
 * leaves the `{configuration:/NAME}` placeholder in place (KernelConfigResolver logs an error and keeps the text), so
 * the `Run` script unsets such variables before starting Node.js.
 */
export function parametersWithoutDefault(): ParameterName[] {
  return PARAMETER_NAMES.filter((name) => {
    const definition: ParameterDefinition = PARAMETERS[name];
    return definition.default === undefined && name !== 'DefaultDeliveryStreamArn';
  });
}

/** Where both scripts find the process id file: the work folder, which is also their working folder. */
const PID_FILE = `"\${${WORK_DIR_ENV}-.}/${PID_FILE_NAME}"`;

/**
 * Sets `old_space_mib` from the MemorySize variable as `oldSpaceMiB` does (half, less the headroom, at least
 * MIN_OLD_SPACE_MIB); a value
 * that is not a number of KB leaves the least, and the runtime then reports the bad parameter.
 */
function oldSpaceLines(): string[] {
  return [
    `old_space_mib=${MIN_OLD_SPACE_MIB}`,
    `memory_kb=$(printf '%s' "$MemorySize" | tr -d ' ')`,
    'case "$memory_kb" in',
    `  ''|*[!0-9]*) ;;`,
    `  *) [ "$((memory_kb / 2048 - ${OLD_SPACE_HEADROOM_MIB}))" -le ${MIN_OLD_SPACE_MIB} ] || old_space_mib=$((memory_kb / 2048 - ${OLD_SPACE_HEADROOM_MIB})) ;;`,
    'esac',
  ];
}

/**
 * POSIX sh script: check Node.js, drop uninterpolated placeholders, record the process id for the Shutdown step,
 * then `exec` Node, so that the process id is Node's and signals reach the runtime directly.
 *
 * The nucleus interpolates the script text too, so it must not contain `{word:...}` sequences other than
 * `{artifacts:path}`: the placeholder test below matches a `{configuration` prefix instead of a full placeholder.
 */
export function runScript(componentName: string, artifactFileName: string): string {
  const requirement = `${componentName} needs Node.js ${MINIMUM_NODE_MAJOR} or later on the PATH of the user that runs it (ggc_user by default)`;
  const lines = [
    'if ! command -v node >/dev/null 2>&1; then',
    `  echo "${requirement}, but node was not found. Install Node.js ${MINIMUM_NODE_MAJOR}+ into /usr/bin or /usr/local/bin." >&2`,
    '  exit 1',
    'fi',
    // `node --version` and sh arithmetic rather than `node -e`: one process less, and a stub node can answer it.
    'node_major=$(node --version | sed -n "s/^v\\([0-9][0-9]*\\)\\..*/\\1/p")',
    // No `${var:-default}`: the nucleus reads `{name:...}` in a script as a placeholder to interpolate.
    `if [ -z "$node_major" ] || [ "$node_major" -lt ${MINIMUM_NODE_MAJOR} ]; then`,
    `  echo "${requirement}, but $(command -v node) is $(node --version)." >&2`,
    '  exit 1',
    'fi',
    `if [ "$node_major" -lt ${OLDEST_SUPPORTED_NODE_MAJOR} ]; then`,
    `  echo "${componentName}: $(command -v node) is Node.js $(node --version), past its end of life; the supported lines are ${OLDEST_SUPPORTED_NODE_MAJOR} and later (see the README). Starting anyway." >&2`,
    'fi',
    ...parametersWithoutDefault().map(
      (name) => `case "\${${name}-}" in "{configuration"*) unset ${name} ;; esac`,
    ),
    `echo $$ > ${PID_FILE} || echo "Cannot record the process id: stopping will not wait for queued records." >&2`,
    ...oldSpaceLines(),
    ...Object.entries(CONNECTOR_ENVIRONMENT).map(([name, value]) => `export ${name}=${value}`),
    `exec node ${CONNECTOR_NODE_OPTIONS.join(' ')} --max-old-space-size="$old_space_mib" "{artifacts:path}/${artifactFileName}"`,
  ];
  return lines.join('\n') + '\n';
}

/**
 * POSIX sh script of the Shutdown step: SIGTERM to the connector, then wait while it sends what is queued, for
 * `ShutdownTimeoutSeconds` plus the time it takes to exit.
 *
 * The nucleus runs this step before it stops the Run process, which it does with SIGTERM and, 5 s later, SIGKILL
 * (`Exec.gracefulShutdownTimeout`); without this step a flush longer than 5 s is cut off. The step has its own
 * timeout (`SHUTDOWN_STEP_TIMEOUT_SECONDS`). Only a live connector of this component is signalled: the process id
 * may belong to another process once the connector has exited, and an exited process not yet reaped has an empty
 * command line.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/lifecyclemanager/GenericExternalService.java
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/util/Exec.java
 */
export function shutdownScript(componentName: string): string {
  const maxFlush = PARAMETERS.ShutdownTimeoutSeconds.max;
  const lines = [
    `pid=$(cat ${PID_FILE} 2>/dev/null)`,
    `case "$pid" in ''|*[!0-9]*) exit 0 ;; esac`,
    `running() ( tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "/${componentName}/" )`,
    'running || exit 0',
    `case "\${ShutdownTimeoutSeconds-}" in ''|*[!0-9]*) flush=${maxFlush} ;; *) flush=$(expr "$ShutdownTimeoutSeconds" + 0) ;; esac`,
    `limit=$((flush + ${SHUTDOWN_EXIT_SECONDS}))`,
    'echo "Stopping the connector (process $pid); waiting up to $limit s while it sends queued records."',
    'kill -TERM "$pid" 2>/dev/null || exit 0',
    // Elapsed time from the clock, not counted sleeps: on a slow or loaded device a sleep takes longer than asked,
    // and a count would overrun the step's timeout. `date +%s` is in GNU coreutils and BusyBox (`$SECONDS` is not
    // in POSIX sh or dash).
    'started=$(date +%s)',
    'waited=0',
    'while running && [ "$waited" -lt "$limit" ]; do',
    '  sleep 0.2 2>/dev/null || sleep 1',
    '  waited=$(( $(date +%s) - started ))',
    'done',
    'if running; then',
    '  echo "The connector is still running after $waited s; the nucleus stops it now." >&2',
    'else',
    `  rm -f ${PID_FILE}`,
    'fi',
  ];
  return lines.join('\n') + '\n';
}

/** The last path segment of an artifact URI: the file name the nucleus stores it under. */
export function artifactFileNameOf(uri: string): string {
  const fileName = uri.split('/').pop() ?? '';
  if (!/^[A-Za-z0-9._-]+\.js$/.test(fileName)) {
    throw new Error(
      `Artifact URI must end in a .js file name (letters, digits, '.', '_', '-'); received "${uri}".`,
    );
  }
  return fileName;
}
