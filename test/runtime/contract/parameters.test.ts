import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PARAMETERS, type ParameterDefinition } from '../../../runtime/contract/parameters';

/**
 * The README's parameter table says what the contract (`PARAMETERS`) says: a row per parameter, none for another,
 * each with the contract's default and its range or choices. The table is written by hand, not generated, because
 * its other columns are for readers of the README (units, links to the sections that explain a choice, the
 * component's own defaults), where the contract's descriptions are written for `--help`; the facts that can drift
 * are checked here instead. Every problem names the row to fix.
 */

const README = resolve(__dirname, '../../../README.md');

interface TableRow {
  /** The parameters a row documents (`MqttCertFile`, `MqttKeyFile` share one). */
  readonly names: readonly string[];
  readonly defaultCell: string;
  readonly validCell: string;
}

/** The rows of the table in the `## Parameters` section of a README. */
function parameterTable(markdown: string): TableRow[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Parameters\n')) ?? '';
  const rows = section.split('\n').filter((line) => line.startsWith('|'));
  return rows.slice(2).map((line) => {
    const [names, defaultCell, validCell] = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    return { names: backticked(names), defaultCell, validCell };
  });
}

/** The code spans of a cell, in order. */
function backticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]*)`/g)].map((match) => match[1]);
}

/** What the Default cell of a parameter must say, or undefined when any wording will do (an empty default the runtime works out). */
function expectedDefault(definition: ParameterDefinition): string | undefined {
  if (definition.kind === 'string' && definition.required) return 'required';
  if (definition.default === undefined) return 'not set';
  if (definition.default === '') return definition.kind === 'choice' ? 'none' : undefined;
  return `\`${definition.default}\``;
}

/** Problems of one row for parameter `name`, each naming the row. */
function rowProblems(name: string, definition: ParameterDefinition, row: TableRow): string[] {
  const problems: string[] = [];
  const where = `README.md, "## Parameters", the row of \`${name}\``;
  const wantedDefault = expectedDefault(definition);
  const saysDefault =
    wantedDefault === undefined
      ? row.defaultCell !== ''
      : row.defaultCell.split(';')[0].trim() === wantedDefault;
  if (!saysDefault) {
    problems.push(
      `${where}: Default is "${row.defaultCell}"; the contract's default is ${wantedDefault ?? 'empty, so say what the runtime uses'}`,
    );
  }
  if (definition.kind === 'integer') {
    const range = /^([\d,]+) - ([\d,]+)/.exec(row.validCell);
    const [min, max] = range ? [range[1], range[2]].map((number) => Number(number.replaceAll(',', ''))) : [];
    if (min !== definition.min || max !== definition.max) {
      problems.push(
        `${where}: Valid values are "${row.validCell}"; the contract's range is ${definition.min} - ${definition.max} ${definition.unit}`,
      );
    }
  }
  if (definition.kind === 'choice') {
    const listed = backticked(row.validCell).map((choice) => (choice === '""' ? '' : choice));
    if ([...listed].sort().join('\n') !== [...definition.choices].sort().join('\n')) {
      problems.push(
        `${where}: Valid values are "${row.validCell}"; the contract's choices are ${definition.choices.map((choice) => JSON.stringify(choice)).join(', ')}`,
      );
    }
  }
  return problems;
}

/** Every difference between a README's parameter table and `parameters`. */
function tableProblems(
  markdown: string,
  parameters: Readonly<Record<string, ParameterDefinition>>,
): string[] {
  const rows = parameterTable(markdown);
  const problems: string[] = [];
  for (const [name, definition] of Object.entries(parameters)) {
    const row = rows.find((candidate) => candidate.names.includes(name));
    if (row) problems.push(...rowProblems(name, definition, row));
    else problems.push(`README.md, "## Parameters": no row for \`${name}\`; add one`);
  }
  for (const name of rows.flatMap((row) => row.names)) {
    if (!(name in parameters)) {
      problems.push(
        `README.md, "## Parameters": the row of \`${name}\` documents no parameter of the contract; remove it`,
      );
    }
  }
  return problems;
}

describe("the README's parameter table", () => {
  it('has a row for every parameter of the contract, with its default and its range or choices, and no other row', () => {
    // Act
    const problems = tableProblems(readFileSync(README, 'utf8'), PARAMETERS);

    // Assess
    expect(problems).toEqual([]);
  });
});

describe('the check of the table', () => {
  const contract: Record<string, ParameterDefinition> = {
    PublishInterval: { kind: 'integer', default: 10, min: 0, max: 900, unit: 'seconds', description: '' },
    QueueStore: { kind: 'choice', default: 'memory', choices: ['memory', 'disk'], description: '' },
    MqttCaFile: { kind: 'string', format: 'absolute-path', valid: 'a file', description: '' },
  };

  /** A README whose parameter table has `rows` (name, default, valid values). */
  function readme(rows: readonly (readonly [string, string, string])[]): string {
    return [
      '## Parameters',
      '',
      '| Parameter | Default | Valid values | Meaning |',
      '| --- | --- | --- | --- |',
      ...rows.map(([name, byDefault, valid]) => `| ${name} | ${byDefault} | ${valid} | ... |`),
      '',
      '## Next section',
      '',
      '| `Elsewhere` | `1` | 1 - 2 | not a parameter row |',
    ].join('\n');
  }

  it('finds nothing wrong in a table that says what the contract says', () => {
    // Prepare
    const markdown = readme([
      ['`PublishInterval`', '`10`', '0 - 900 seconds'],
      ['`QueueStore`', '`memory`', '`disk`, `memory`'],
      ['`MqttCaFile`', 'not set', 'readable PEM file'],
    ]);

    // Act
    const problems = tableProblems(markdown, contract);

    // Assess
    expect(problems).toEqual([]);
  });

  it('names the row with a wrong default, a wrong range and a wrong list of choices', () => {
    // Prepare
    const markdown = readme([
      ['`PublishInterval`', '`5`', '0 - 1,000 seconds'],
      ['`QueueStore`', '`memory`', '`memory`, `disk`, `cloud`'],
      ['`MqttCaFile`', '`ca.pem`', 'readable PEM file'],
    ]);

    // Act
    const problems = tableProblems(markdown, contract);

    // Assess
    expect(problems).toEqual([
      'README.md, "## Parameters", the row of `PublishInterval`: Default is "`5`"; the contract\'s default is `10`',
      'README.md, "## Parameters", the row of `PublishInterval`: Valid values are "0 - 1,000 seconds"; the contract\'s range is 0 - 900 seconds',
      'README.md, "## Parameters", the row of `QueueStore`: Valid values are "`memory`, `disk`, `cloud`"; the contract\'s choices are "memory", "disk"',
      'README.md, "## Parameters", the row of `MqttCaFile`: Default is "`ca.pem`"; the contract\'s default is not set',
    ]);
  });

  it('names a parameter with no row, and a row for no parameter', () => {
    // Prepare
    const markdown = readme([
      ['`PublishInterval`', '`10`', '0 - 900 seconds'],
      ['`QueueStore`', '`memory`', '`memory`, `disk`'],
      ['`MqttCaFile`, `MqttCaPath`', 'not set', 'readable PEM file'],
    ]);

    // Act
    const problems = tableProblems(markdown, { ...contract, MetricsNamespace: contract.MqttCaFile });

    // Assess
    expect(problems).toEqual([
      'README.md, "## Parameters": no row for `MetricsNamespace`; add one',
      'README.md, "## Parameters": the row of `MqttCaPath` documents no parameter of the contract; remove it',
    ]);
  });
});
