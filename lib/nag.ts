import {
  App,
  CfnResource,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  type PolicyViolation,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on `scope` (and its children) with the reason a reviewer reads. cdk-nag 3 reads
 * acknowledgments recorded with CDK's `Validations` API; each finding is acknowledged by its own id.
 * @see https://github.com/cdklabs/cdk-nag/blob/main/MIGRATION.md
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The id of the AwsSolutions-IAM5 finding for a wildcard resource, as cdk-nag spells it: intrinsic functions
 * flattened, `{"Fn::GetAtt": ["Bucket", "Arn"]}` written `<Bucket.Arn>` and `{"Ref": "X"}` written `<X>`.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const value = node as Record<string, unknown>;
    if (Array.isArray(value['Fn::Join'])) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(value['Fn::GetAtt'])) {
      const [resource, attribute] = value['Fn::GetAtt'] as [string, string];
      return `<${resource}.${attribute}>`;
    }
    if (typeof value.Ref === 'string') return `<${value.Ref}>`;
    if (value['Fn::Sub'] !== undefined) return flatten(value['Fn::Sub']);
  }
  return JSON.stringify(node);
}

/** A resource of a stack as the template names it, with the acknowledgments that apply to it. */
interface StackResource {
  readonly constructPath: string;
  readonly acknowledgments: Readonly<Record<string, string>>;
}

/**
 * The AwsSolutions checks of cdk-nag, run on the synthesized templates instead of the construct tree.
 *
 * cdk-nag's rules recognise typed L1 resources (`CfnRole`, `CfnFunction`...), so resources the CDK itself writes as
 * plain `CfnResource`, such as the bucket clean-up function and its role, would pass unseen. Each template is read
 * back with `CfnInclude`, which types every resource, and checked there with the acknowledgments recorded on the
 * construct that made each resource (and its scopes).
 */
export class AwsSolutionsTemplateChecks implements IPolicyValidationPlugin {
  readonly name = 'AwsSolutions';

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations = context.stackTemplates.flatMap(({ stackConstructPath, templatePath }) => {
      const stack = context.appConstruct.node.findAll().find((node) => node.node.path === stackConstructPath);
      if (!(stack instanceof Stack)) throw new Error(`No stack at ${stackConstructPath}`);
      return templateViolations(templatePath, stack);
    });
    return { success: violations.length === 0, violations };
  }
}

/** The AwsSolutions findings in the template of `stack` that no acknowledgment covers. */
export function templateViolations(templatePath: string, stack: Stack): PolicyViolation[] {
  const resources = stackResources(stack);
  const scratch = new App();
  const included = new CfnInclude(new Stack(scratch, 'Check'), 'Template', { templateFile: templatePath });
  for (const [logicalId, resource] of resources) {
    const copy = included.node.tryFindChild(logicalId);
    if (!copy) continue;
    for (const [id, reason] of Object.entries(resource.acknowledgments)) acknowledge(copy, id, reason);
  }
  const report = new AwsSolutionsChecks(scratch, { verbose: true }).validateScope(scratch);
  return report.violations.map((violation) => ({
    ...violation,
    violatingResources: violation.violatingResources.map((violating) => {
      const logicalId = violating.constructPath?.split('/').pop() ?? '';
      return {
        resourceLogicalId: logicalId,
        constructPath: resources.get(logicalId)?.constructPath ?? violating.constructPath,
        templatePath,
        locations: violating.locations,
      };
    }),
  }));
}

/** Every resource of `stack` by logical id, with the acknowledgments recorded on it and on its scopes. */
function stackResources(stack: Stack): Map<string, StackResource> {
  const resources = new Map<string, StackResource>();
  for (const node of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(node) || Stack.of(node) !== stack) continue;
    const acknowledgments: Record<string, string> = {};
    for (let scope: IConstruct | undefined = node; scope; scope = scope.node.scope) {
      for (const entry of scope.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledgments[id.replace(/^annotation::/i, '')] ??= reason;
        }
      }
    }
    resources.set(stack.resolve(node.logicalId) as string, {
      constructPath: node.node.path,
      acknowledgments,
    });
  }
  return resources;
}
