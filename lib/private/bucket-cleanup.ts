/**
 * The CDK's bucket clean-up function (one per stack, behind every `autoDeleteObjects` bucket), made to leave nothing
 * behind when the stack is deleted:
 * - its log group is a stack resource with a retention, deleted after the last clean-up has run;
 * - it may write to that log group only, not create one (its role loses AWSLambdaBasicExecutionRole), so a log line
 *   written while the stack is being deleted cannot bring the group back as an orphan without retention.
 * The function gets a fixed name so that its log group name is known without a reference back to the function.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
 */
import { CfnResource, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { bucketCleanupFunctionName } from '../names';

/** The construct id the CDK gives the stack's clean-up provider. */
const PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';
const CLEANUP_RESOURCE_TYPE = 'Custom::S3AutoDeleteObjects';

/** Gives the stack's bucket clean-up function a managed log group; does nothing if the stack has none. */
export function manageBucketCleanupProvider(stack: Stack, retention: logs.RetentionDays): void {
  const provider = stack.node.tryFindChild(PROVIDER_ID);
  if (!provider || stack.node.tryFindChild('BucketCleanupLogs')) return;
  const handler = provider.node.findChild('Handler') as CfnResource;
  const role = provider.node.findChild('Role') as CfnResource;

  const functionName = bucketCleanupFunctionName(stack.stackName);
  handler.addPropertyOverride('FunctionName', functionName);
  const logGroup = new logs.LogGroup(stack, 'BucketCleanupLogs', {
    logGroupName: `/aws/lambda/${functionName}`,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  role.addPropertyDeletionOverride('ManagedPolicyArns');
  const policy = new iam.Policy(stack, 'BucketCleanupLogsPolicy', {
    statements: [
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    ],
    roles: [iam.Role.fromRoleName(stack, 'BucketCleanupRole', role.ref, { mutable: true })],
  });

  // Created before and deleted after every clean-up: the last log lines land in a group that is then deleted.
  for (const cleanup of stack.node.findAll()) {
    if (cleanup instanceof CfnResource && cleanup.cfnResourceType === CLEANUP_RESOURCE_TYPE) {
      cleanup.node.addDependency(logGroup, policy);
    }
  }
}
