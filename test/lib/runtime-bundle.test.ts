import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINIMUM_NODE_MAJOR } from '../../lib/recipe';

const PACKAGE = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  readonly engines: { readonly node: string };
  readonly scripts: Readonly<Record<string, string>>;
};

describe('the Node.js line the bundles are built for', () => {
  test('is the line the Run script requires, in both npm build scripts', () => {
    // Act
    const targets = ['build:device', 'build:local'].map(
      (script) => /--target=(\S+)/.exec(PACKAGE.scripts[script])?.[1],
    );

    // Assess
    expect(targets).toEqual([`node${MINIMUM_NODE_MAJOR}`, `node${MINIMUM_NODE_MAJOR}`]);
  });

  test('is the oldest line that engines in package.json names', () => {
    // Act
    const majors = [...PACKAGE.engines.node.matchAll(/\^(\d+)\.0\.0/g)].map((match) => Number(match[1]));

    // Assess
    expect(Math.min(...majors)).toBe(MINIMUM_NODE_MAJOR);
  });
});
