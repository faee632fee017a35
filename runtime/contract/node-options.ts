/** The Node.js options the connector runs with, defined in the component contract (`parameters.ts`). */
export {
  CONNECTOR_ENVIRONMENT,
  CONNECTOR_NODE_OPTIONS,
  connectorNodeOptions,
  oldSpaceMiB,
} from './parameters';
