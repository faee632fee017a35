/**
 * Input from an MQTT broker (MQTT.js): a persistent QoS 1 session for intake, a second connection for
 * statuses, and the guard that drops an oversized payload as it streams in.
 */
export { MqttTransport, describeBroker } from './mqtt-transport';
export type { MqttConfig } from './mqtt-transport';
