import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { MINIMUM_NODE_MAJOR } from './recipe';

/** The runtime's entry point, bundled into the component artifact. */
export const RUNTIME_ENTRY = join(__dirname, '..', 'runtime', 'main.ts');

/**
 * The package.json fields esbuild resolves a package's entry from: the AWS SDK's ES module builds, not its CommonJS
 * ones, so that only the commands used are bundled. The npm build scripts pass the same (`--main-fields`).
 */
export const RUNTIME_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * Bundles the runtime into one self-contained CommonJS file for the oldest supported Node.js line, so that syntax
 * newer than that line is lowered: no node_modules and no native code on the device, so the recipe needs no install
 * step. Same options as the `build:device` npm script (the device bundle: no embedded broker, no local mode).
 */
export function bundleRuntime(outfile: string, entry: string = RUNTIME_ENTRY): void {
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: `node${MINIMUM_NODE_MAJOR}`,
    mainFields: [...RUNTIME_MAIN_FIELDS],
    outfile,
    logLevel: 'warning',
  });
}
