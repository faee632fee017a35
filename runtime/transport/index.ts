/**
 * Intake and the way back: messages in, statuses out. The transport interface, and the choice between an MQTT
 * broker (`mqtt/`) and Greengrass IPC (`ipc/`) from the configuration.
 */
export { checkIpcEnvironment } from './ipc';
export type { IpcEndpoint } from './ipc';
export type { MqttConfig } from './mqtt';
export { describeSources, openTransports } from './open-transports';
export type { Transport } from './transport';
