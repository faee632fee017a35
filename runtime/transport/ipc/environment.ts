import type { InputSource } from '../../contract';

/**
 * How a component finds Greengrass IPC: the nucleus starts it with the path of its socket and the component's token
 * in the environment, as the official clients read them (`greengrasscoreipc.createDefaultClientConfig`).
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/interprocess-communication.html
 */
export const IPC_SOCKET_ENV = 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT';
export const IPC_TOKEN_ENV = 'SVCUID';

export interface IpcEndpoint {
  readonly socketPath: string;
  /** The component's token; never logged. */
  readonly authToken: string;
}

/** The nucleus's socket and token, or undefined when the process was not started by the nucleus. */
export function ipcEndpointFrom(env: NodeJS.ProcessEnv): IpcEndpoint | undefined {
  const socketPath = env[IPC_SOCKET_ENV];
  const authToken = env[IPC_TOKEN_ENV];
  return socketPath && authToken ? { socketPath, authToken } : undefined;
}

/**
 * The nucleus's endpoint when the configuration needs IPC (`InputSource` `ipc` or `both`, or `StatusToIoTCore`);
 * when it does and the process was not started by the nucleus, adds the start-up problem that says so.
 */
export function checkIpcEnvironment(
  inputSource: InputSource,
  statusToIoTCore: boolean,
  env: NodeJS.ProcessEnv,
  problems: string[],
): IpcEndpoint | undefined {
  const endpoint = ipcEndpointFrom(env);
  const needs = [
    ...(inputSource === 'mqtt' ? [] : [`InputSource "${inputSource}"`]),
    ...(statusToIoTCore ? ['StatusToIoTCore "true"'] : []),
  ];
  if (needs.length > 0 && !endpoint) {
    problems.push(
      `${needs.join(' and ')} ${needs.length === 1 ? 'needs' : 'need'} Greengrass IPC, but ${IPC_SOCKET_ENV} and ` +
        `${IPC_TOKEN_ENV} are not both set: the process was not started by the Greengrass nucleus. Run it as a ` +
        'Greengrass component, or use InputSource "mqtt" and StatusToIoTCore "false"',
    );
  }
  return endpoint;
}
