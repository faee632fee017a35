import { scripts } from '../../../package.json';
import { RECOMMENDED_MEMORY_SIZE_KB } from '../../../runtime/contract/memory';
import { connectorNodeOptions } from '../../../runtime/contract/node-options';

// The benchmark's memory figures hold only for a connector started with these options, so every way users start
// it must pass them. The component's Run script is checked in test/lib/recipe.test.ts.
describe('Node.js options of the connector', () => {
  test('npm start passes them before the bundle', () => {
    // Assess
    expect(scripts.start).toBe(
      `node ${connectorNodeOptions(RECOMMENDED_MEMORY_SIZE_KB).join(' ')} dist/firehose-connector-local.js --local`,
    );
  });
});
