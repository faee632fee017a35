import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINIMUM_NODE_MAJOR, OLDEST_SUPPORTED_NODE_MAJOR } from '../../lib/recipe';
import { RUNTIME_MAIN_FIELDS } from '../../lib/runtime-bundle';

const PACKAGE = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  readonly engines: { readonly node: string };
  readonly scripts: Readonly<Record<string, string>>;
};

describe('the Node.js line the bundles are built for', () => {
  test('is the oldest line the Run script starts on, in both npm build scripts', () => {
    // Act
    const targets = ['build:device', 'build:local'].map(
      (script) => /--target=(\S+)/.exec(PACKAGE.scripts[script])?.[1],
    );

    // Assess
    expect(targets).toEqual([`node${MINIMUM_NODE_MAJOR}`, `node${MINIMUM_NODE_MAJOR}`]);
  });

  test('engines in package.json names the supported lines, from the oldest one on', () => {
    // Act
    const majors = [...PACKAGE.engines.node.matchAll(/\^(\d+)\.0\.0/g)].map((match) => Number(match[1]));

    // Assess
    expect(Math.min(...majors)).toBe(OLDEST_SUPPORTED_NODE_MAJOR);
  });
});

describe('the package fields the bundles resolve an entry from', () => {
  test('prefer ES module builds (module, then main), in the component artifact and both npm build scripts', () => {
    // Act
    const mainFields = ['build:device', 'build:local'].map(
      (script) => /--main-fields=(\S+)/.exec(PACKAGE.scripts[script])?.[1],
    );

    // Assess
    expect(RUNTIME_MAIN_FIELDS).toEqual(['module', 'main']);
    expect(mainFields).toEqual([RUNTIME_MAIN_FIELDS.join(','), RUNTIME_MAIN_FIELDS.join(',')]);
  });
});
