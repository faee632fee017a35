/**
 * Firehose's custom S3 prefixes, checked at synth so that a typo fails `cdk synth` with its reason instead of the
 * deployment: `!{namespace:value}` expressions, and only those the stack's delivery stream accepts in each field.
 *
 * - `!{timestamp:<pattern>}`: a Java `DateTimeFormatter` pattern (letters are pattern letters, text goes in quotes).
 * - `!{firehose:random-string}` in either prefix; `!{firehose:error-output-type}` only in the error prefix, which must
 *   contain it as soon as it has any expression.
 * - `!{partitionKeyFromQuery:...}` and `!{partitionKeyFromLambda:...}` need dynamic partitioning, which this stack
 *   does not turn on.
 * @see https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html
 * @see https://docs.oracle.com/javase/8/docs/api/java/time/format/DateTimeFormatter.html
 */

export type OutputPrefixKind = 'data' | 'error';

/** Longest prefix the Firehose API accepts (`Prefix`, `ErrorOutputPrefix`). */
export const MAX_OUTPUT_PREFIX_LENGTH = 1024;

const ERROR_OUTPUT_TYPE = '!{firehose:error-output-type}';

/** What each prefix field allows, worded for the context error. */
export const OUTPUT_PREFIX_ALLOWED: Readonly<Record<OutputPrefixKind, string>> = {
  data:
    `an S3 key prefix of 1 to ${MAX_OUTPUT_PREFIX_LENGTH} characters; expressions allowed: ` +
    '!{timestamp:<Java date pattern>}, !{firehose:random-string}',
  error:
    `an S3 key prefix of 1 to ${MAX_OUTPUT_PREFIX_LENGTH} characters; if it uses expressions it must contain ` +
    `${ERROR_OUTPUT_TYPE}; expressions allowed: !{timestamp:<Java date pattern>}, !{firehose:random-string}, ` +
    ERROR_OUTPUT_TYPE,
};

/** One `!{namespace:value}` expression of a prefix. */
export interface PrefixExpression {
  readonly text: string;
  readonly namespace: string;
  readonly value: string;
}

/** The expressions of `prefix`, or the offset of a `!{` that is not a complete expression. */
export function parseOutputPrefix(prefix: string): PrefixExpression[] | { readonly unclosedAt: number } {
  const expressions: PrefixExpression[] = [];
  let from = 0;
  for (;;) {
    const start = prefix.indexOf('!{', from);
    if (start === -1) return expressions;
    const end = prefix.indexOf('}', start);
    const match = end === -1 ? null : /^!\{([A-Za-z]+):([^{}]+)\}$/.exec(prefix.slice(start, end + 1));
    if (!match) return { unclosedAt: start };
    expressions.push({ text: match[0], namespace: match[1], value: match[2] });
    from = end + 1;
  }
}

/** Why Firehose would refuse `prefix` in the given field, or undefined if it accepts it. */
export function outputPrefixProblem(prefix: string, kind: OutputPrefixKind): string | undefined {
  if (prefix.length === 0 || prefix.length > MAX_OUTPUT_PREFIX_LENGTH) {
    return `it has ${prefix.length} characters`;
  }
  const parsed = parseOutputPrefix(prefix);
  if (!Array.isArray(parsed)) {
    return `the "!{" at character ${parsed.unclosedAt + 1} does not start a !{namespace:value} expression`;
  }
  for (const expression of parsed) {
    const problem = expressionProblem(expression, kind);
    if (problem !== undefined) return `${expression.text} ${problem}`;
  }
  if (kind === 'error' && parsed.length > 0 && !prefix.includes(ERROR_OUTPUT_TYPE)) {
    return `it has expressions but no ${ERROR_OUTPUT_TYPE}`;
  }
  return undefined;
}

function expressionProblem(expression: PrefixExpression, kind: OutputPrefixKind): string | undefined {
  switch (expression.namespace) {
    case 'timestamp': {
      const problem = dateTimePatternProblem(expression.value);
      return problem === undefined ? undefined : `is not a Java date pattern: ${problem}`;
    }
    case 'firehose':
      if (expression.value === 'random-string') return undefined;
      if (expression.value === 'error-output-type') {
        return kind === 'error' ? undefined : 'is only allowed in errorOutputPrefix';
      }
      return 'is not a firehose expression (random-string, error-output-type)';
    case 'partitionKeyFromQuery':
    case 'partitionKeyFromLambda':
      return 'needs dynamic partitioning, which this stack does not use';
    default:
      return 'has an unknown namespace (timestamp, firehose)';
  }
}

/** Pattern letters of `java.time.format.DateTimeFormatter` (Java 8). Other letters are reserved and rejected. */
const PATTERN_LETTERS = new Set('GuyDMLdQqYwWEecFahKkHmsSAnNVzOXxZp');
/** Characters the formatter reserves for future use. */
const RESERVED = new Set(['#', '{', '}']);

/** Why `pattern` is not a valid DateTimeFormatter pattern, or undefined. */
export function dateTimePatternProblem(pattern: string): string | undefined {
  let optionalDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const character = pattern[i];
    if (character === "'") {
      // Quoted text runs to the next single quote; two quotes in a row are a literal quote.
      const close = pattern.indexOf("'", i + 1);
      if (close === -1) return 'a quote is not closed';
      i = close;
    } else if (character === '[') {
      optionalDepth++;
    } else if (character === ']') {
      if (--optionalDepth < 0) return 'a "]" has no "["';
    } else if (/[A-Za-z]/.test(character) && !PATTERN_LETTERS.has(character)) {
      return `"${character}" is not a pattern letter (quote literal text: 'T')`;
    } else if (RESERVED.has(character)) {
      return `"${character}" is reserved`;
    }
  }
  return optionalDepth > 0 ? 'a "[" is not closed' : undefined;
}
