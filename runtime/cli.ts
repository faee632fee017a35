import { parseArgs } from 'node:util';
import {
  describeValidValues,
  PARAMETER_NAMES,
  type ParameterDefinition,
  PARAMETERS,
  Topics,
} from './contract';

export interface CliOptions {
  readonly configFile?: string;
  readonly local: boolean;
  readonly help: boolean;
}

/** Parses the command line; throws with a usage hint on anything it does not know. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      local: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return { configFile: values.config, local: values.local ?? false, help: values.help ?? false };
}

export function helpText(): string {
  const rows = PARAMETER_NAMES.map((name) => {
    const definition: ParameterDefinition = PARAMETERS[name];
    const fallback =
      definition.kind === 'string' && definition.required
        ? 'required'
        : definition.default === undefined
          ? 'not set'
          : `default ${JSON.stringify(definition.default)}`;
    return `  ${name}\n      ${definition.description}\n      Valid: ${describeValidValues(definition)}; ${fallback}.`;
  });
  return `Usage: firehose-connector [--config FILE] [--local]

Forwards messages to Amazon Kinesis Data Firehose, as the AWS IoT Greengrass Kinesis Firehose connector
(versions 2-4) did: JSON on ${Topics.json}, raw bytes on ${Topics.binary},
per-record statuses on ${Topics.status}. Input comes from an MQTT broker or, under the Greengrass
nucleus, from local publish/subscribe over IPC (InputSource).

Options:
  -c, --config FILE  JSON file of parameters ({"DefaultDeliveryStreamArn": "...", "PublishInterval": "10", ...}).
      --local        Run with an embedded MQTT broker on 127.0.0.1:1883, a local Firehose endpoint that
                     writes records under ./local-firehose, and a local CloudWatch endpoint that prints the
                     metrics; no AWS account needed. Only in the local bundle that \`npm start\` builds and
                     runs, not in the device bundle.
  -h, --help         Show this help.

Parameters come from the --config file and from environment variables of the same names (the environment
wins). Values may be strings or numbers. Invalid values are all reported at start-up, and the process exits 2.

${rows.join('\n')}

AWS: the region of each delivery stream comes from its ARN, and metrics go to DefaultDeliveryStreamArn's;
credentials from the SDK's default chain (on Greengrass, the token exchange service); the endpoints from
AWS_ENDPOINT_URL_FIREHOSE, AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL if set.
`;
}
