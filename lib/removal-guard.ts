import { type CustomResource, Stack } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { type CustomResourceFunction } from './custom-resource-function';
import { RESOURCE_TYPES } from './custom-resources/handler';
import { type Guarded } from './custom-resources/removal-guard';

export interface RemovalGuardProps {
  readonly customResources: CustomResourceFunction;
  /** What the stack holds now, by guarded name: the deployment target, the role and alias names, the stream name. */
  readonly holds: Readonly<Partial<Record<Guarded, string>>>;
  /**
   * What this deploy may drop or replace (`-c allowRemoval=...`).
   * @default - nothing
   */
  readonly allowRemoval?: readonly string[];
}

/**
 * Refuses a deploy that would drop what the previous deploy made (lib/custom-resources/removal-guard.ts): the
 * comparison is made by CloudFormation's update request, which carries the previous deploy's properties, so it
 * holds whichever clone or CI run deploys and whatever its cdk.json says.
 */
export class RemovalGuard extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: RemovalGuardProps) {
    super(scope, id);
    const holds = Object.fromEntries(Object.entries(props.holds).filter(([, value]) => value !== undefined));
    this.resource = props.customResources.resource(this, 'Resource', RESOURCE_TYPES.removalGuard, {
      StackName: Stack.of(this).stackName,
      Holds: holds,
      AllowRemoval: [...(props.allowRemoval ?? [])],
    });
  }

  /** Makes `constructs` wait for the guard: in an update, nothing of them changes before it allowed the deploy. */
  protect(...constructs: IConstruct[]): void {
    for (const construct of constructs) construct.node.addDependency(this.resource);
  }
}
