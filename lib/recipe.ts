/**
 * The connector's Greengrass component recipe, as a pure function of its inputs.
 *
 * The same function builds the recipe uploaded by the CDK app (artifact in the CDK asset bucket) and the one written
 * for `greengrass-cli deployment create --recipeDir` (artifact taken from `--artifactDir`), so the two cannot drift.
 * Values may be CDK tokens (the stream ARN, the asset bucket); the caller serialises them with `Stack.toJsonString`.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html
 */
import {
  defaultParameterValues,
  InputSource,
  PARAMETER_NAMES,
  ParameterDefinition,
  ParameterName,
  PARAMETERS,
} from '../runtime/parameters';
import { CONNECTOR_NODE_OPTIONS } from '../runtime/node-options';
import { AccessControl, buildAccessControl } from './access-control';

/** Default component name; `aws.greengrass.*` names are reserved for AWS. */
export const DEFAULT_COMPONENT_NAME = 'community.greengrass.FirehoseConnector';

/** File name of the esbuild bundle in local builds and in `dist/`. */
export const ARTIFACT_FILE_NAME = 'firehose-connector.js';

/** Environment variable through which the runtime learns its Greengrass work folder (it keeps its disk queue there). */
export const WORK_DIR_ENV = 'FIREHOSE_CONNECTOR_WORK_DIR';

/** Node.js major version the bundle is built for (`esbuild --target=node20`). */
export const MINIMUM_NODE_MAJOR = 20;

/**
 * The token exchange service gives the runtime AWS credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI). Any 2.x works.
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/token-exchange-service-component.html
 */
export const TOKEN_EXCHANGE_SERVICE = 'aws.greengrass.TokenExchangeService';
export const TOKEN_EXCHANGE_SERVICE_VERSION_REQUIREMENT = '^2.0.0';

export interface RecipeArtifact {
  readonly URI: string;
  readonly Unarchive: 'NONE' | 'ZIP';
  readonly Permission: {
    readonly Read: 'NONE' | 'OWNER' | 'ALL';
    readonly Execute: 'NONE' | 'OWNER' | 'ALL';
  };
}

export interface RecipeLifecycle {
  readonly Setenv: Record<string, string>;
  readonly Run: { readonly Script: string; readonly RequiresPrivilege: boolean };
}

export interface RecipeManifest {
  readonly Name: string;
  readonly Platform: { readonly os: 'linux' };
  readonly Lifecycle: RecipeLifecycle;
  readonly Artifacts: readonly RecipeArtifact[];
}

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

/**
 * The component's `InputSource` default: under the nucleus, local publish/subscribe over IPC, no broker needed. The
 * runtime's own default stays `mqtt`, for `npm start` and hosts without Greengrass.
 */
export const COMPONENT_INPUT_SOURCE: InputSource = 'ipc';

/** Parameter values (strings, as Greengrass delivers them) and the component's IPC permissions. */
export type DefaultConfiguration = Readonly<Partial<Record<ParameterName, string>>> & {
  readonly accessControl: AccessControl;
};

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
}

/** Builds the recipe. Pure: no constructs, no I/O; CDK tokens pass through untouched. */
export function buildRecipe(props: RecipeProps): ComponentRecipe {
  const artifactFileName = artifactFileNameOf(props.artifactUri);
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: props.componentName,
    ComponentVersion: props.componentVersion,
    ComponentType: 'aws.greengrass.generic',
    ComponentDescription:
      'Forwards messages on kinesisfirehose/message and kinesisfirehose/message/binary/# (Greengrass local ' +
      'publish/subscribe, or an MQTT broker) to Amazon Data Firehose with PutRecordBatch and publishes per-record ' +
      `statuses on kinesisfirehose/message/status. Needs Node.js ${MINIMUM_NODE_MAJOR}+ on the device.`,
    ComponentPublisher: props.publisher ?? 'community',
    ComponentConfiguration: {
      DefaultConfiguration: defaultConfiguration(props.defaultDeliveryStreamArn, props),
    },
    ComponentDependencies: {
      [TOKEN_EXCHANGE_SERVICE]: {
        VersionRequirement: TOKEN_EXCHANGE_SERVICE_VERSION_REQUIREMENT,
        DependencyType: 'HARD',
      },
    },
    Manifests: [
      {
        Name: 'Linux',
        Platform: { os: 'linux' },
        Lifecycle: {
          Setenv: lifecycleEnvironment(),
          Run: { Script: runScript(props.componentName, artifactFileName), RequiresPrivilege: false },
        },
        Artifacts: [
          { URI: props.artifactUri, Unarchive: 'NONE', Permission: { Read: 'OWNER', Execute: 'NONE' } },
        ],
      },
    ],
  };
}

/**
 * The shared parameter defaults, as strings, plus the deployed stream as `DefaultDeliveryStreamArn`, input over IPC
 * (`COMPONENT_INPUT_SOURCE`), and the IPC permissions that takes.
 */
export function defaultConfiguration(
  defaultDeliveryStreamArn: string,
  options: Pick<RecipeProps, 'componentName' | 'statusToIoTCore'>,
): DefaultConfiguration {
  return {
    ...defaultParameterValues(),
    InputSource: COMPONENT_INPUT_SOURCE,
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

/**
 * POSIX sh script: check Node.js, drop uninterpolated placeholders, then `exec` Node so that the nucleus's SIGTERM
 * reaches the runtime directly (it flushes queued records on SIGTERM).
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
    `if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= ${MINIMUM_NODE_MAJOR} ? 0 : 1)'; then`,
    `  echo "${requirement}, but $(command -v node) is $(node --version)." >&2`,
    '  exit 1',
    'fi',
    ...parametersWithoutDefault().map(
      (name) => `case "\${${name}-}" in "{configuration"*) unset ${name} ;; esac`,
    ),
    `exec node ${CONNECTOR_NODE_OPTIONS.join(' ')} "{artifacts:path}/${artifactFileName}"`,
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
