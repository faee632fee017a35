import { loadConfig } from '../../../../runtime/config';
import { ProblemsError } from '../../../../runtime/contract/problems-error';

/** How the configuration decides the input source and finds the nucleus (runtime/ipc/environment.ts). */

const ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/my-stream';
const NUCLEUS = {
  AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/greengrass/v2/ipc.socket',
  SVCUID: 'token',
};

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig({ env: { DefaultDeliveryStreamArn: ARN, ...env } });
  } catch (error) {
    if (error instanceof ProblemsError) return error.problems;
    throw error;
  }
  return [];
}

describe('input source and IPC configuration', () => {
  it('takes input from MQTT with statuses on MQTT only by default, even under the nucleus', () => {
    // Act
    const config = loadConfig({ env: { DefaultDeliveryStreamArn: ARN, ...NUCLEUS } });

    // Assess
    expect(config).toMatchObject({ inputSource: 'mqtt', statusToIoTCore: false });
  });

  it("reads the nucleus's socket and token for InputSource ipc", () => {
    // Act
    const config = loadConfig({
      env: { DefaultDeliveryStreamArn: ARN, InputSource: 'ipc', StatusToIoTCore: 'true', ...NUCLEUS },
    });

    // Assess
    expect(config).toMatchObject({
      inputSource: 'ipc',
      statusToIoTCore: true,
      ipc: { socketPath: '/greengrass/v2/ipc.socket', authToken: 'token' },
    });
  });

  it('refuses IPC input and IoT Core statuses outside Greengrass, naming both settings and both variables', () => {
    // Act
    const problems = problemsOf({ InputSource: 'both', StatusToIoTCore: 'true', SVCUID: 'token' });

    // Assess
    expect(problems).toEqual([
      'InputSource "both" and StatusToIoTCore "true" need Greengrass IPC, but ' +
        'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID are not both set: the process was not started ' +
        'by the Greengrass nucleus. Run it as a Greengrass component, or use InputSource "mqtt" and StatusToIoTCore "false"',
    ]);
  });

  it('refuses an input source it does not know, with the valid ones', () => {
    // Act & Assess
    expect(problemsOf({ InputSource: 'kafka' })).toEqual([
      'InputSource is "kafka"; expected one of "mqtt", "ipc", "both"',
    ]);
    expect(problemsOf({ StatusToIoTCore: 'yes' })).toEqual([
      'StatusToIoTCore is "yes"; expected one of "false", "true"',
    ]);
  });
});
