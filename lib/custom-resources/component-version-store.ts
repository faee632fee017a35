/**
 * The account side of `Custom::ComponentVersion`: the component's versions and their fingerprint tags
 * (ListComponentVersions, ListTagsForResource), and the high-water mark in SSM Parameter Store (GetParameter,
 * PutParameter). Nothing else is called, so the function's role allows exactly these.
 * @see https://docs.aws.amazon.com/greengrass/v2/APIReference/API_ListComponentVersions.html
 */
import {
  GreengrassV2Client,
  ListTagsForResourceCommand,
  paginateListComponentVersions,
} from '@aws-sdk/client-greengrassv2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BUILD_FINGERPRINT_TAG, type ComponentVersionStore, type ExistingVersion } from './component-version';

export class SdkComponentVersionStore implements ComponentVersionStore {
  constructor(
    private readonly greengrass = new GreengrassV2Client({}),
    private readonly ssm = new SSMClient({}),
  ) {}

  async existingVersions(componentArn: string): Promise<readonly ExistingVersion[]> {
    const versions: { version: string; arn: string }[] = [];
    try {
      for await (const page of paginateListComponentVersions(
        { client: this.greengrass },
        { arn: componentArn },
      )) {
        for (const entry of page.componentVersions ?? []) {
          if (entry.componentVersion && entry.arn)
            versions.push({ version: entry.componentVersion, arn: entry.arn });
        }
      }
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return [];
      throw error;
    }
    return Promise.all(
      versions.map(async ({ version, arn }) => {
        const { tags } = await this.greengrass.send(new ListTagsForResourceCommand({ resourceArn: arn }));
        return { version, fingerprint: tags?.[BUILD_FINGERPRINT_TAG] };
      }),
    );
  }

  async highWaterMark(parameterName: string): Promise<string | undefined> {
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: parameterName }));
      return Parameter?.Value;
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  }

  async raiseHighWaterMark(parameterName: string, version: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({
        Name: parameterName,
        Value: version,
        Type: 'String',
        Overwrite: true,
        Description:
          'Highest Greengrass component version ever given to this component here; kept after the stack is deleted so that a version number never names two builds',
      }),
    );
  }
}
