import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The TypeScript files under `folder`, relative to the repository root. */
function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

/** The module paths `file` imports or re-exports, resolved against the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/g)].map(
    (m) => m[1],
  );
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(ROOT, resolve(ROOT, file, '..', specifier)));
}

describe('the component contract', () => {
  test('is the only runtime module that lib/ and bin/ import', () => {
    // Act
    const violations = [...sourceFiles('lib'), ...sourceFiles('bin')].flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('runtime/') && target !== 'runtime/contract/parameters')
        .map((target) => `${file} imports ${target}`),
    );

    // Assess
    expect(violations).toEqual([]);
  });

  test('imports nothing, so that lib/ gets no other runtime code through it', () => {
    // Act
    const imports = importsOf('runtime/contract/parameters.ts');

    // Assess
    expect(imports).toEqual([]);
  });

  test('is found by the check: an import of another runtime module is reported', () => {
    // Act
    const imports = importsOf('runtime/config.ts');

    // Assess: the pattern sees multi-line imports and re-exports.
    expect(imports).toEqual(
      expect.arrayContaining(['runtime/firehose/delivery-stream', 'runtime/contract/parameters']),
    );
  });
});
