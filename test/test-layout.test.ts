import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `test/` mirrors the sources: each unit `runtime/<path>.ts` has its test `test/runtime/<path>.test.ts`, and each
 * such test has its unit, so that a new unit without a test, or a test left behind by a move, fails here. The units
 * below have no test file of their own, each for the reason given, and are tested where `testedBy` says.
 */
const EXEMPT: readonly {
  readonly units: RegExp;
  readonly reason: string;
  readonly testedBy: readonly string[];
}[] = [
  {
    units: /^runtime\/(.+\/)?index\.ts$/,
    reason: "a folder's public face: re-exports only",
    testedBy: ['test/import-rules.test.ts'],
  },
  {
    units: /^runtime\/(contract\/(component|topics|metrics)|firehose\/limits)\.ts$/,
    reason: 'named constants, with no behaviour of their own',
    testedBy: [
      'test/runtime/config.test.ts',
      'test/lib/recipe.test.ts',
      'test/runtime/metrics/period-aggregator.test.ts',
      'test/lib/connector-dashboard.test.ts',
    ],
  },
  {
    units: /^runtime\/contract\/memory\.ts$/,
    reason: 'the memory model as constants; the queue budget it gives is tested where config.ts works it out',
    testedBy: ['test/runtime/config.test.ts'],
  },
  {
    units: /^runtime\/(store\/record-store|transport\/transport|metrics\/metric-point)\.ts$/,
    reason: 'an interface; its rules are tested on each implementation',
    testedBy: [
      'test/helpers/record-store-suite.ts',
      'test/runtime/metrics/cloudwatch-sender.test.ts',
      'test/runtime/transport/mqtt/mqtt-transport.test.ts',
      'test/integration/ipc.test.ts',
    ],
  },
  {
    units: /^runtime\/store\/disk\/(?!disk-record-store|queue-lock).+\.ts$/,
    reason: "the disk queue's parts behind its one door, DiskRecordStore, and tested through it",
    testedBy: ['test/runtime/store/disk/disk-record-store.test.ts'],
  },
  {
    units: /^runtime\/transport\/ipc\/client\/(connection|operation|protocol|subscription)\.ts$/,
    reason: "the IPC client's parts behind client.ts, tested through it against the stand-in nucleus",
    testedBy: ['test/runtime/transport/ipc/client/client.test.ts'],
  },
  {
    units: /^runtime\/local\/(firehose-protocol|http-listener|aws-json-(request|response))\.ts$/,
    reason:
      "the local Firehose endpoint's parts (its AWS JSON requests and answers the CloudWatch endpoint's too), tested through the endpoints with the real AWS SDK",
    testedBy: [
      'test/runtime/local/firehose-endpoint.test.ts',
      'test/runtime/local/firehose-service.test.ts',
      'test/runtime/local/cloudwatch-endpoint.test.ts',
    ],
  },
  {
    units: /^runtime\/local\/cloudwatch-(protocol|service)\.ts$/,
    reason: "the local CloudWatch endpoint's parts, tested through the endpoint with the real AWS SDK",
    testedBy: ['test/runtime/local/cloudwatch-endpoint.test.ts'],
  },
  {
    units:
      /^runtime\/(main|run|cli|local-mode-slot|local\/main|local\/local-mode|transport\/open-transports|transport\/ipc\/ipc-transport)\.ts$/,
    reason:
      'the process: entry points, command line, wiring and the IPC input, run as users run them by the integration tests',
    testedBy: [
      'test/integration/connector.test.ts',
      'test/integration/ipc.test.ts',
      'test/integration/local-mode.test.ts',
      'test/integration/component-lifecycle.test.ts',
    ],
  },
];

/** Tests under `test/runtime/` that test something other than one unit. */
const NOT_A_UNIT: Readonly<Record<string, string>> = {
  'test/runtime/device-bundle.test.ts': 'the two bundles that `npm run build` makes',
};

const REPOSITORY = resolve(__dirname, '..');

function filesUnder(folder: string, suffix: string): string[] {
  return readdirSync(join(REPOSITORY, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix))
    .map((file) => join(folder, file))
    .sort();
}

const units = filesUnder('runtime', '.ts');
const unitTests = filesUnder('test/runtime', '.test.ts');

describe('test/', () => {
  it('has a test file for every unit of the runtime, at the path that mirrors it, but for the listed exemptions', () => {
    // Act
    const untested = units.filter(
      (unit) =>
        !existsSync(join(REPOSITORY, 'test', unit.replace(/\.ts$/, '.test.ts'))) &&
        !EXEMPT.some((exemption) => exemption.units.test(unit)),
    );

    // Assess
    expect(untested).toEqual([]);
  });

  it('has no unit test whose unit is gone', () => {
    // Act
    const orphans = unitTests.filter(
      (test) =>
        !(test in NOT_A_UNIT) && !units.includes(test.replace(/^test\//, '').replace(/\.test\.ts$/, '.ts')),
    );

    // Assess
    expect(orphans).toEqual([]);
  });

  it('exempts only units that exist and have no test file, and names tests that exist', () => {
    // Act
    const stale = EXEMPT.flatMap((exemption) => {
      const matched = units.filter((unit) => exemption.units.test(unit));
      const tested = matched.filter((unit) =>
        existsSync(join(REPOSITORY, 'test', unit.replace(/\.ts$/, '.test.ts'))),
      );
      return [
        ...(matched.length === 0 ? [`${String(exemption.units)} matches no unit`] : []),
        ...tested.map((unit) => `${unit} is exempt but has a test file: drop the exemption`),
        ...exemption.testedBy
          .filter((test) => !existsSync(join(REPOSITORY, test)))
          .map((test) => `${test} does not exist`),
      ];
    });

    // Assess
    expect(stale).toEqual([]);
  });
});
