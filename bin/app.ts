#!/usr/bin/env node
/**
 * The CDK app: reads and validates the context, builds the connector stack, and runs the cdk-nag AwsSolutions
 * checks on it (an unacknowledged finding fails `cdk synth` and `cdk deploy`).
 */
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { REPOSITORY_CDK_JSON, unsavedSettings } from '../lib/configure';
import { ConnectorStack } from '../lib/connector-stack';
import { parseContext } from '../lib/context';
import { AwsSolutionsTemplateChecks } from '../lib/nag';
import { ProblemsError } from '../runtime/contract';

export interface BuildAppOptions {
  /**
   * Entry point bundled into the artifact unless the context sets `artifactPath`.
   * @default runtime/main.ts
   */
  readonly runtimeEntry?: string;
  /**
   * Warn about a guarded setting given on the command line only (lib/configure.ts `unsavedSettings`).
   * @default true
   */
  readonly warnUnsavedSettings?: boolean;
}

/** Adds the connector stack, configured from `app`'s context, and the AwsSolutions checks to `app`. */
export function buildApp(app: App, options: BuildAppOptions = {}): ConnectorStack {
  const settings = parseContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  const stack = new ConnectorStack(app, settings.stackName, {
    settings,
    runtimeEntry: options.runtimeEntry,
    description:
      'Greengrass v2 Kinesis Firehose connector: delivery stream, S3 bucket, device permissions, component',
  });
  const unsaved =
    options.warnUnsavedSettings === false
      ? []
      : unsavedSettings((key) => app.node.tryGetContext(key), savedContext());
  for (const { key, message } of unsaved) {
    Annotations.of(stack).addWarningV2(`firehose-connector:unsaved:${key}`, message);
  }
  // cdk-nag 3 is a policy validation plugin: an unacknowledged finding fails synthesis and is listed in the
  // CLI's report (cdk.out/validation-report.json). It runs on the synthesized template, so that it sees every
  // resource (lib/nag.ts). Acknowledgments and their reasons are in lib/, next to the resources they concern.
  Validations.of(app).addPlugins(new AwsSolutionsTemplateChecks());
  return stack;
}

/** The context saved in the repository's cdk.json (npm run configure). */
function savedContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(REPOSITORY_CDK_JSON, 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

if (require.main === module) {
  const app = new App();
  try {
    buildApp(app);
  } catch (error) {
    if (!(error instanceof ProblemsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
