/**
 * Input from Greengrass local publish/subscribe over IPC, statuses back to it and to AWS IoT Core, and the
 * nucleus's environment (socket and token).
 */
export { checkIpcEnvironment } from './environment';
export type { IpcEndpoint } from './environment';
export { IpcTransport } from './ipc-transport';
