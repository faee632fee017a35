import type { RunningConnector } from './run';

/** Runs the connector with an embedded broker and a local Firehose endpoint (runtime/local/local-mode.ts). */
export type LocalModeRunner = (options: { readonly configFile?: string }) => Promise<RunningConnector>;

/**
 * What `--local` says in the device bundle, which leaves the local mode out: the embedded broker (aedes) and the
 * local endpoint have no place on a Greengrass device (issue 10).
 */
export const LOCAL_MODE_NOT_BUNDLED =
  'The local mode is not part of this bundle, which is the one for devices. To try the connector without AWS, run\n' +
  '`npm ci && npm start` in a clone of the repository: it builds and runs dist/firehose-connector-local.js.\n';

let localMode: LocalModeRunner | undefined;

/**
 * The local mode lives in its own bundle (runtime/local/main.ts), which provides it here before the shared entry
 * (runtime/main.ts) runs; the device bundle never imports it, so esbuild leaves it out.
 */
export function provideLocalMode(runner: LocalModeRunner): void {
  localMode = runner;
}

/** The local mode, when this bundle has it. */
export function providedLocalMode(): LocalModeRunner | undefined {
  return localMode;
}
