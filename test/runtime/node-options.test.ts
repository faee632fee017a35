import { scripts } from '../../package.json';
import { CONNECTOR_NODE_OPTIONS } from '../../runtime/node-options';

// The benchmark's memory figures hold only for a connector started with these options, so every way users start
// it must pass them. The component's Run script is checked in test/lib/recipe.test.ts.
describe('Node.js options of the connector', () => {
  test('npm start passes them before the bundle', () => {
    // Assess
    expect(scripts.start).toBe(
      `node ${CONNECTOR_NODE_OPTIONS.join(' ')} dist/firehose-connector-local.js --local`,
    );
  });
});
