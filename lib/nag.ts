import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

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
