/** The Node.js options the connector runs with, defined in the component contract (`parameters.ts`). */
export { CONNECTOR_NODE_OPTIONS } from './parameters';
