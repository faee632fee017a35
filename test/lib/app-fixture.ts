/** Builds the app as `cdk synth` does (cdk.json context, bin/app.ts), with a stub artifact so tests do not bundle. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../bin/app';
import { type ConnectorStack } from '../../lib/connector-stack';
import { type ComponentRecipe } from '../../lib/recipe';
import { STUB_ARTIFACT, STUB_ENTRY } from './fixtures/constants';

export * from './fixtures/constants';

/** The "context" of cdk.json: feature flags and CLI settings, exactly as `cdk synth` passes them. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

export interface SynthOptions {
  /** Run CloudFormation's built-in template validation too. @default false */
  readonly cloudFormationValidation?: boolean;
  /** Bundle the stub entry point with esbuild instead of uploading the stub artifact. @default false */
  readonly bundle?: boolean;
  /** Warn about guarded settings given on the command line only, as `cdk synth` does. @default false */
  readonly warnUnsavedSettings?: boolean;
  /** Changes the stack before it is synthesized (a synthesized app is not synthesized again). */
  readonly modify?: (stack: ConnectorStack) => void;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ConnectorStack;
  readonly template: Template;
}

/**
 * Synthesizes the connector app with `context` on top of cdk.json's. The cdk-nag pack is registered by buildApp, so
 * an unacknowledged finding fails here. CloudFormation's built-in template validation is off unless asked for: it
 * compiles a large WebAssembly module per test file.
 */
export function synth(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synthesized {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...(options.bundle ? {} : { artifactPath: STUB_ARTIFACT }), ...context },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
  const stack = buildApp(app, {
    runtimeEntry: options.bundle ? STUB_ENTRY : undefined,
    warnUnsavedSettings: options.warnUnsavedSettings ?? false,
  });
  options.modify?.(stack);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical ID of a construct's CloudFormation resource. */
export function logicalId(stack: ConnectorStack, resource: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(resource.node.defaultChild as never);
}

/**
 * The component recipe of the synthesized template. The inline recipe is a Fn::Join of JSON text and references;
 * references become readable markers: `<GetAtt:Logical.Arn>`, `<Ref:Logical>`, `<Sub:text>`.
 */
export function recipeOf(template: Template): ComponentRecipe {
  const versions = Object.values(template.findResources('AWS::GreengrassV2::ComponentVersion'));
  expect(versions).toHaveLength(1);
  return JSON.parse(joinText(versions[0].Properties.InlineRecipe));
}

/** A CloudFormation string value with references replaced by the markers `recipeOf` uses. */
export function joinText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(joinText).join(delimiter);
  }
  if (Array.isArray(node['Fn::GetAtt'])) return `<GetAtt:${node['Fn::GetAtt'].join('.')}>`;
  if (typeof node.Ref === 'string') return `<Ref:${node.Ref}>`;
  if (typeof node['Fn::Sub'] === 'string') return `<Sub:${node['Fn::Sub']}>`;
  throw new Error(`Unexpected CloudFormation value ${JSON.stringify(value)}`);
}
