/**
 * The component contract: everything the runtime and the CDK app (`lib/`) must agree on. `lib/` and `bin/` import
 * the runtime only through this module, and the contract imports nothing outside its folder (a test checks both).
 */
export {
  checkParameterValue,
  defaultParameterValues,
  DELIVERY_STREAM_ARN_PATTERN,
  describeValidValues,
  PARAMETER_NAMES,
  PARAMETERS,
  separatorBytes,
} from './parameters';
export type {
  Choice,
  InputSource,
  LogLevel,
  ParameterCheck,
  ParameterDefinition,
  ParameterName,
  QueueDiskSync,
  QueueFullPolicy,
  QueueStore,
  RecordPacking,
  RecordSeparator,
} from './parameters';
export { Ipc, Topics } from './topics';
export {
  ARTIFACT_FILE_NAME,
  MAX_SHUTDOWN_TIMEOUT_SECONDS,
  NUCLEUS_SHUTDOWN_SECONDS,
  SHUTDOWN_EXIT_SECONDS,
  SHUTDOWN_SCRIPT_SECONDS,
  WORK_DIR_ENV,
} from './component';
export {
  CONNECTOR_ENVIRONMENT,
  CONNECTOR_NODE_OPTIONS,
  connectorNodeOptions,
  MIN_OLD_SPACE_MIB,
  OLD_SPACE_HEADROOM_MIB,
  oldSpaceMiB,
} from './node-options';
export {
  MIN_MEMORY_SIZE_KB,
  MIN_QUEUE_BYTE_BUDGET,
  QUEUE_SHARE_OF_FREE_MEMORY,
  RECOMMENDED_MEMORY_SIZE_KB,
  RUNTIME_RESERVE_BYTES,
} from './memory';
export { ProblemsError } from './problems-error';
export { ConnectorMetrics, DEFAULT_METRICS_NAMESPACE, MetricDimension } from './metrics';
export type { ConnectorMetricName, MetricDefinition } from './metrics';
