import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The arrows between the runtime's folders, checked on the sources so that a wrong one fails a test (the README's
 * "Where a record goes" map is drawn from them). A folder may import the folders listed for it, its own files, and
 * `runtime/logger.ts`, the one top-level module every folder uses; the top-level files compose the folders and may
 * import any of them. `local/` is the local bundle's own composition (`npm start`), so it may too.
 */
const ALLOWED_FOLDER_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  contract: [],
  store: ['contract'],
  firehose: ['contract'],
  message: ['contract', 'firehose'],
  pacing: ['firehose', 'store'],
  transport: ['contract', 'message', 'pacing'],
  streams: ['contract', 'firehose', 'message', 'pacing', 'store'],
  // The metrics take the streams' counts as plain numbers (run.ts hands them over): the names and units they
  // publish are the contract's, shared with the CDK app's dashboard and alarms.
  metrics: ['contract'],
};

const REPOSITORY = resolve(__dirname, '..');

/** The TypeScript files under `folder` (relative to `root`), relative to `root`. */
function sourceFiles(folder: string, root = REPOSITORY): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

/** The files `file` imports or re-exports by relative path, resolved to `<path>.ts` or `<path>/index.ts`. */
function importsOf(file: string, root = REPOSITORY): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/g)].map(
    (match) => match[1],
  );
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const target = relative(root, resolve(root, dirname(file), specifier));
      return existsSync(join(root, `${target}.ts`)) ? `${target}.ts` : join(target, 'index.ts');
    });
}

/** The top folder of `runtime/` a file is in (`streams`), or undefined for the top-level files. */
function runtimeFolder(file: string): string | undefined {
  const parts = file.split('/');
  return parts[0] === 'runtime' && parts.length > 2 ? parts[1] : undefined;
}

/** The folders of `runtime/` with a public face (an `index.ts`), deepest first. */
function doors(root: string): string[] {
  return sourceFiles('runtime', root)
    .filter((file) => file.endsWith('/index.ts'))
    .map((file) => dirname(file))
    .sort((a, b) => b.length - a.length);
}

/** Imports that reach into a folder from outside it other than through its `index.ts`. */
function backDoorImports(files: readonly string[], root = REPOSITORY): string[] {
  const folders = doors(root);
  return files.flatMap((file) =>
    importsOf(file, root)
      .filter((target) => !throughTheDoor(file, target, folders))
      .map((target) => `${file} imports ${target}`),
  );
}

/**
 * True when `file` reaches `target` through the index of the outermost folder that holds `target` but not `file`
 * (inside a folder, its subfolders' indexes are the doors), or when no such folder has an index.
 */
function throughTheDoor(file: string, target: string, folders: readonly string[]): boolean {
  const outermost = folders
    .filter((folder) => target.startsWith(`${folder}/`) && !file.startsWith(`${folder}/`))
    .sort((a, b) => a.length - b.length)[0];
  return outermost === undefined || target === join(outermost, 'index.ts');
}

/** Imports from one runtime folder to another that ALLOWED_FOLDER_IMPORTS does not list. */
function wrongArrows(root = REPOSITORY): string[] {
  return sourceFiles('runtime', root).flatMap((file) => {
    const from = runtimeFolder(file);
    if (from === undefined || from === 'local') return [];
    const allowed = ALLOWED_FOLDER_IMPORTS[from];
    if (allowed === undefined) return [`${file} is in runtime/${from}/, which the rules do not list`];
    return importsOf(file, root)
      .filter((target) => target.startsWith('runtime/'))
      .filter((target) => {
        const to = runtimeFolder(target);
        if (to === undefined) return target !== 'runtime/logger.ts';
        return to !== from && !allowed.includes(to);
      })
      .map((target) => `${file} imports ${target}`);
  });
}

describe('the component contract', () => {
  test('is the only runtime module that lib/ and bin/ import', () => {
    // Act
    const violations = [...sourceFiles('lib'), ...sourceFiles('bin')].flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('runtime/') && target !== 'runtime/contract/index.ts')
        .map((target) => `${file} imports ${target}`),
    );

    // Assess
    expect(violations).toEqual([]);
  });

  test('imports nothing outside its folder, so that lib/ gets no other runtime code through it', () => {
    // Act
    const outside = sourceFiles('runtime/contract').flatMap((file) =>
      importsOf(file).filter((target) => !target.startsWith('runtime/contract/')),
    );

    // Assess
    expect(outside).toEqual([]);
  });
});

describe('the runtime folders', () => {
  test('are entered from outside through their index.ts only', () => {
    // Act
    const violations = backDoorImports([
      ...sourceFiles('runtime'),
      ...sourceFiles('lib'),
      ...sourceFiles('bin'),
      ...sourceFiles('bench'),
    ]);

    // Assess
    expect(violations).toEqual([]);
  });

  test('import one another only along the allowed arrows', () => {
    // Act
    const violations = wrongArrows();

    // Assess
    expect(violations).toEqual([]);
  });

  test('every folder of the runtime has a rule', () => {
    // Act
    const folders = readdirSync(join(REPOSITORY, 'runtime'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'local')
      .map((entry) => entry.name)
      .sort();

    // Assess
    expect(folders).toEqual(Object.keys(ALLOWED_FOLDER_IMPORTS).sort());
  });
});

describe('the checks', () => {
  /** A small tree with one right and one wrong import of each kind. */
  function fixture(): string {
    const root = mkdtempSync(join(tmpdir(), 'import-rules-'));
    const write = (file: string, text: string) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    };
    write('runtime/logger.ts', 'export const log = 1;\n');
    write('runtime/config.ts', "import { x } from './streams';\n");
    write('runtime/contract/index.ts', 'export const c = 1;\n');
    write('runtime/store/index.ts', "export { s } from './memory';\n");
    write('runtime/store/memory.ts', "import { log } from '../logger';\nexport const s = log;\n");
    write('runtime/streams/index.ts', "export { x } from './dispatcher';\n");
    write(
      'runtime/streams/dispatcher.ts',
      "import { s } from '../store/memory';\nimport { run } from '../config';\nexport const x = s;\n",
    );
    write('runtime/pacing/index.ts', "import { x } from '../streams';\nexport const p = x;\n");
    return root;
  }

  test('find a back-door import and only that one', () => {
    // Prepare
    const root = fixture();

    // Act
    const violations = backDoorImports(sourceFiles('runtime', root), root);

    // Assess
    expect(violations).toEqual(['runtime/streams/dispatcher.ts imports runtime/store/memory.ts']);
  });

  test('find arrows the rules do not allow: to a top-level module other than the logger, against the layers', () => {
    // Prepare
    const root = fixture();

    // Act
    const violations = wrongArrows(root);

    // Assess
    expect(violations.sort()).toEqual([
      'runtime/pacing/index.ts imports runtime/streams/index.ts',
      'runtime/streams/dispatcher.ts imports runtime/config.ts',
    ]);
  });
});
