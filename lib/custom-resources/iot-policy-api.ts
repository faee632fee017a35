/**
 * The AWS IoT calls of `Custom::IoTPolicyTargets`, with the SDK: nothing else is called, so the function's role
 * allows exactly these.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ListTargetsForPolicy.html
 */
import {
  AttachPolicyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachPolicyCommand,
  IoTClient,
  ListPolicyVersionsCommand,
  paginateListTargetsForPolicy,
} from '@aws-sdk/client-iot';
import { type IoTPolicyApi } from './iot-policy-targets';

export class SdkIoTPolicyApi implements IoTPolicyApi {
  constructor(private readonly iot = new IoTClient({})) {}

  async attach(policyName: string, target: string): Promise<void> {
    await this.iot.send(new AttachPolicyCommand({ policyName, target }));
  }

  async detach(policyName: string, target: string): Promise<void> {
    try {
      await this.iot.send(new DetachPolicyCommand({ policyName, target }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }

  async targets(policyName: string): Promise<readonly string[]> {
    const targets: string[] = [];
    try {
      for await (const page of paginateListTargetsForPolicy({ client: this.iot }, { policyName })) {
        targets.push(...(page.targets ?? []));
      }
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return [];
      throw error;
    }
    return targets;
  }

  async deleteOtherVersions(policyName: string): Promise<void> {
    let versions;
    try {
      ({ policyVersions: versions } = await this.iot.send(new ListPolicyVersionsCommand({ policyName })));
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return;
      throw error;
    }
    for (const version of versions ?? []) {
      if (version.isDefaultVersion || !version.versionId) continue;
      await this.iot.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: version.versionId }));
    }
  }

  async deletePolicy(policyName: string): Promise<boolean> {
    try {
      await this.iot.send(new DeletePolicyCommand({ policyName }));
      return true;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ResourceNotFoundException') return true;
      if (name === 'DeleteConflictException') return false;
      throw error;
    }
  }
}
