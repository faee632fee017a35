/**
 * The `bundles` scenario: the size of the device bundle (the Greengrass artifact) and of the local bundle, as files
 * and gzipped, and the device bundle's resident size when idle (issue 10).
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Resources, spawnConnector, startStage } from './environment';

export interface BundleSize {
  readonly path: string;
  readonly bytes: number;
  /** Bytes gzipped at the default level, about what a compressed download or S3 transfer moves. */
  readonly gzipBytes: number;
}

export interface BundlesResult {
  readonly device: BundleSize;
  readonly local: BundleSize;
  /** MemorySize the connector ran with while idle. */
  readonly memorySizeKb: number;
  /** Resident set one second after "Ready", before any message, one value per start. */
  readonly idleRssKb: readonly number[];
}

export interface BundlesOptions {
  readonly deviceBundle: string;
  readonly localBundle: string;
  readonly memorySizeKb: number;
  /** Separate starts of the device bundle whose idle RSS is read. */
  readonly starts: number;
  readonly nodeArgs?: readonly string[];
}

const IDLE_SETTLE_MS = 1000;

export function bundleSize(path: string): BundleSize {
  const content = readFileSync(path);
  return { path, bytes: content.length, gzipBytes: gzipSync(content).length };
}

export async function measureBundles(options: BundlesOptions): Promise<BundlesResult> {
  const device = bundleSize(options.deviceBundle);
  const local = bundleSize(options.localBundle);
  const idleRssKb: number[] = [];
  const resources = new Resources();
  try {
    const { broker, endpoint } = await startStage(resources);
    for (let start = 1; start <= options.starts; start++) {
      const connector = spawnConnector({
        brokerUrl: broker.url,
        endpointUrl: endpoint.url,
        clientId: `bench-idle-${start}`,
        parameters: { MemorySize: options.memorySizeKb },
        bundle: options.deviceBundle,
        nodeArgs: options.nodeArgs,
      });
      try {
        await connector.waitForLog((line) => line.message === 'Ready', '"Ready"');
        await new Promise((settle) => setTimeout(settle, IDLE_SETTLE_MS));
        const memory = connector.memory();
        if (!memory) throw new Error(`The connector is gone. ${connector.describe()}`);
        idleRssKb.push(memory.rssKb);
      } finally {
        await connector.stop();
      }
    }
  } finally {
    await resources.stopAll();
  }
  return { device, local, memorySizeKb: options.memorySizeKb, idleRssKb };
}
