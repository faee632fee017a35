import { scripts } from '../../package.json';
import { runScript } from '../../lib/recipe';
import { CONNECTOR_NODE_OPTIONS } from '../../runtime/node-options';

// The benchmark's memory figures hold only for a connector started with these options, so every way users start
// it must pass them.
describe('Node.js options of the connector', () => {
  test('npm start passes them before the bundle', () => {
    // Assess
    expect(scripts.start).toBe(`node ${CONNECTOR_NODE_OPTIONS.join(' ')} dist/firehose-connector.js --local`);
  });

  test('the component Run script passes them before the artifact', () => {
    // Act
    const script = runScript('community.example.Connector', 'firehose-connector.js');

    // Assess
    expect(script).toContain(
      `exec node ${CONNECTOR_NODE_OPTIONS.join(' ')} "{artifacts:path}/firehose-connector.js"`,
    );
  });
});
