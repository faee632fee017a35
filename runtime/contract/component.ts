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

/** A margin for the component's Shutdown script itself, beyond the connector's flush and exit. */
export const SHUTDOWN_SCRIPT_SECONDS = 4;

/**
 * Seconds the nucleus gives all its services together to stop when it restarts itself (a nucleus update, a
 * bootstrap step, a rollback): past them it force-kills every component, Shutdown step or not.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/blob/main/src/main/java/com/aws/greengrass/lifecyclemanager/Kernel.java
 */
export const NUCLEUS_SHUTDOWN_SECONDS = 30;

/**
 * The longest `ShutdownTimeoutSeconds` whose flush, exit and Shutdown script end within a nucleus restart's 30 s:
 * beyond it the memory queue's last records would be lost without a status. A deployment made by the CDK app refuses
 * more; the runtime warns when it runs as the component.
 */
export const MAX_SHUTDOWN_TIMEOUT_SECONDS =
  NUCLEUS_SHUTDOWN_SECONDS - SHUTDOWN_EXIT_SECONDS - SHUTDOWN_SCRIPT_SECONDS;
