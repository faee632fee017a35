/** Names the component's recipe, its bundling step and the runtime share. */

/** Environment variable through which the component's recipe tells the runtime its Greengrass work folder. */
export const WORK_DIR_ENV = 'FIREHOSE_CONNECTOR_WORK_DIR';

/** File name of the single-file bundle: `dist/`, the local component folder and the CDK bundling step. */
export const ARTIFACT_FILE_NAME = 'firehose-connector.js';

/**
 * Seconds the connector may take after `ShutdownTimeoutSeconds` to exit: it waits up to 2 s for the broker to
 * acknowledge the last statuses and up to 2 s to disconnect (`runtime/run.ts`), and the process needs a moment to
 * end. The component's Shutdown step waits this much longer than `ShutdownTimeoutSeconds`.
 */
export const SHUTDOWN_EXIT_SECONDS = 6;
