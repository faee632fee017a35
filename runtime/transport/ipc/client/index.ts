/**
 * A Greengrass IPC client: the event-stream RPC protocol the nucleus speaks (connection, operations,
 * subscriptions), written against the official client's behaviour without its native add-on.
 */
export { GreengrassIpcClient } from './client';
export type { IpcClientOptions } from './client';
export { IpcService, PublishToIoTCore, Qos, literalPrefix } from './model';
export { IpcServiceError } from './operation';
export { TopicSubscription } from './subscription';
export type { SubscriptionEvent } from './subscription';
