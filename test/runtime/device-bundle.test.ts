import { readFileSync } from 'node:fs';
import { CONNECTOR_BUNDLE, LOCAL_BUNDLE } from '../helpers/connector-process';

/** The source files esbuild put into a bundle, from its source map (`npm run build` writes one beside each). */
function bundledSources(bundle: string): string[] {
  return (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources;
}

const WORKBENCH_SOURCES = /node_modules\/(aedes|aedes-[^/]+|qlobber)\/|runtime\/local\/|test\//;
const FAULT_INJECTION_API = ['failCalls', 'failRecords', 'hangCalls', 'setLatency', 'clearFaults'];

// Jest's global setup builds both bundles (test/helpers/global-setup.ts); these checks read the built files.
describe('the device bundle (dist/firehose-connector.js, the Greengrass artifact)', () => {
  test('holds neither the embedded broker (aedes) nor the local mode and its Firehose endpoint', () => {
    // Act
    const workbench = bundledSources(CONNECTOR_BUNDLE).filter((source) => WORKBENCH_SOURCES.test(source));

    // Assess
    expect(workbench).toEqual([]);
  });

  test('holds no fault-injection code', () => {
    // Prepare
    const code = readFileSync(CONNECTOR_BUNDLE, 'utf8');

    // Act
    const found = FAULT_INJECTION_API.filter((name) => code.includes(name));

    // Assess
    expect(found).toEqual([]);
  });

  test('the local bundle (npm start) is where aedes and the local endpoint are', () => {
    // Act
    const sources = bundledSources(LOCAL_BUNDLE);

    // Assess
    expect(sources).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node_modules\/aedes\/aedes\.js$/),
        expect.stringMatching(/runtime\/local\/firehose-endpoint\.ts$/),
      ]),
    );
  });
});
