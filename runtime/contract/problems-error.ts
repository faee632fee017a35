/**
 * Every problem found in one input (configuration, CDK context, command line), reported together so a user fixes
 * them in one pass: a heading, one line per problem, and an optional footer such as a usage text.
 */
export class ProblemsError extends Error {
  override readonly name = 'ProblemsError';

  constructor(
    readonly heading: string,
    readonly problems: readonly string[],
    readonly footer?: string,
  ) {
    const list = problems.map((problem) => `  - ${problem}`).join('\n');
    super(`${heading}:\n${list}${footer === undefined ? '' : `\n\n${footer}`}`);
  }
}
