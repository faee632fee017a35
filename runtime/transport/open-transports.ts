import type { InputSource } from '../contract';
import type { LogFields, Logger } from '../logger';
import { type IpcEndpoint, IpcTransport } from './ipc';
import { describeBroker, type MqttConfig, MqttTransport } from './mqtt';
import { type MessageHandler, settleAll, type Transport } from './transport';

/** The settings that choose the transports: a part of the connector's configuration. */
export interface TransportSettings {
  readonly inputSource: InputSource;
  readonly statusToIoTCore: boolean;
  readonly mqtt: MqttConfig;
  /** The nucleus's IPC socket and token, when the process was started by the nucleus. */
  readonly ipc?: IpcEndpoint;
}

/**
 * Opens what the configuration asks for: the MQTT transport for `InputSource` `mqtt` or `both`, the IPC transport for
 * `ipc`, `both`, or statuses to AWS IoT Core. Statuses go to every source's status topic.
 */
export function openTransports(
  config: TransportSettings,
  onMessage: MessageHandler,
  logger: Logger,
): Transport {
  const transports: Transport[] = [];
  const mqttIntake = config.inputSource !== 'ipc';
  const ipcIntake = config.inputSource !== 'mqtt';
  if (mqttIntake) transports.push(MqttTransport.open(config.mqtt, onMessage, logger));
  if (ipcIntake || config.statusToIoTCore) {
    // loadConfig refuses these settings without the nucleus's environment.
    if (!config.ipc)
      throw new Error('Greengrass IPC is not available: the nucleus did not start this process');
    transports.push(
      IpcTransport.open(
        {
          endpoint: config.ipc,
          intake: ipcIntake,
          statusToLocal: ipcIntake,
          statusToIoTCore: config.statusToIoTCore,
        },
        onMessage,
        logger,
      ),
    );
  }
  return transports.length === 1 ? transports[0] : new CombinedTransport(transports);
}

/** Where input comes from and statuses go, for the start-up log line. */
export function describeSources(config: TransportSettings): LogFields {
  return {
    inputSource: config.inputSource,
    broker: config.inputSource === 'ipc' ? undefined : describeBroker(config.mqtt.brokerUrl),
    ipcSocket: config.inputSource !== 'mqtt' || config.statusToIoTCore ? config.ipc?.socketPath : undefined,
    statusToIoTCore: config.statusToIoTCore,
  };
}

/** Several transports as one: each takes input, each publishes every status; a failure names its destination. */
class CombinedTransport implements Transport {
  constructor(private readonly transports: readonly Transport[]) {}

  async ready(): Promise<void> {
    await Promise.all(this.transports.map((transport) => transport.ready()));
  }

  async publishStatus(payload: string): Promise<void> {
    await settleAll(this.transports.map((transport) => transport.publishStatus(payload)));
  }

  async stopIntake(): Promise<void> {
    await settleAll(this.transports.map((transport) => transport.stopIntake()));
  }

  async close(): Promise<void> {
    await settleAll(this.transports.map((transport) => transport.close()));
  }
}
