/**
 * From an input message to a record: sizes, shape and ids checked before parsing, then one record or one fail
 * status; and the status entries of the v2-4 format.
 */
export { objectMembers, parseSpan } from './json-scan';
export { MAX_JSON_MESSAGE_BYTES, MESSAGE_HEAD_BYTES, parseMessage } from './parse-message';
export type { IncomingRecord, MessageContext } from './parse-message';
export { ConnectorErrorCode, failStatus, statusPayload, successStatus } from './status';
export type { FailStatus, StatusEntry } from './status';
