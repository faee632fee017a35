/**
 * Reading CDK context: typed fields with defaults, one problem per bad key instead of an exception, and the detection
 * of near-miss spellings. The schema itself (which keys exist) is `CONTEXT_FIELDS` in `lib/context.ts`.
 */

/** Reads a context value; `app.node.tryGetContext` fits. */
export type ContextLookup = (key: string) => unknown;

/** A check on a string value and the wording of what it allows, for error messages. */
export interface StringRule {
  readonly test: (value: string) => boolean;
  readonly allowed: string;
}

/** The values of the fields read so far, for defaults that depend on an earlier field (such as the stack name). */
export type EarlierValues = Readonly<Record<string, unknown>>;

/** A default value, or a function of the fields read before this one. */
export type Fallback<T> = T | ((earlier: EarlierValues) => T);

/** One context key: how its value is read and checked, and what it is when absent. */
export interface ContextField<T> {
  read(reader: ContextReader, key: string, earlier: EarlierValues): T;
}

/** The values of a table of fields, with each field's type. */
export type FieldValues<Table> = {
  readonly [K in keyof Table]: Table[K] extends ContextField<infer T> ? T : never;
};

/** Field constructors for the context table. */
export const field = {
  string(fallback: Fallback<string>, rule: StringRule): ContextField<string> {
    return { read: (reader, key, earlier) => reader.optionalString(key, rule) ?? resolve(fallback, earlier) };
  },
  optionalString(rule: StringRule): ContextField<string | undefined> {
    return { read: (reader, key) => reader.optionalString(key, rule) };
  },
  boolean(fallback: boolean): ContextField<boolean> {
    return { read: (reader, key) => reader.boolean(key, fallback) };
  },
  integer(fallback: number, min: number, max: number, unit: string): ContextField<number> {
    return { read: (reader, key) => reader.optionalInteger(key, min, max, unit) ?? fallback };
  },
  optionalInteger(min: number, max: number, unit: string): ContextField<number | undefined> {
    return { read: (reader, key) => reader.optionalInteger(key, min, max, unit) };
  },
  choice<T extends string | number>(fallback: T, choices: readonly T[]): ContextField<T> {
    return { read: (reader, key) => reader.choice(key, fallback, choices) };
  },
  list(rule: StringRule): ContextField<readonly string[]> {
    return { read: (reader, key) => reader.list(key, rule) };
  },
};

/** Reads every field of `table` in order; later fields' defaults may use earlier values. */
export function readFields<Table extends Record<string, ContextField<unknown>>>(
  table: Table,
  reader: ContextReader,
): FieldValues<Table> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) values[key] = spec.read(reader, key, values);
  return values as FieldValues<Table>;
}

function resolve<T>(fallback: Fallback<T>, earlier: EarlierValues): T {
  return typeof fallback === 'function' ? (fallback as (earlier: EarlierValues) => T)(earlier) : fallback;
}

/** Reads typed values, recording one problem per bad key instead of throwing. */
export class ContextReader {
  constructor(
    readonly lookup: ContextLookup,
    private readonly problems: string[],
  ) {}

  /** Records that `key`'s value (as received) is not allowed, and what is. */
  reject(key: string, allowed: string): void {
    this.problems.push(`${key}: received ${describe(this.lookup(key))}; allowed: ${allowed}`);
  }

  optionalString(key: string, rule: StringRule): string | undefined {
    const value = this.lookup(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '' || !rule.test(value)) {
      this.reject(key, rule.allowed);
      return undefined;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.lookup(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.reject(key, 'true or false');
    return fallback;
  }

  optionalInteger(key: string, min: number, max: number, unit: string): number | undefined {
    const value = this.lookup(key);
    if (value === undefined) return undefined;
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isInteger(number) || number < min || number > max) {
      this.reject(key, `an integer from ${min} to ${max} (${unit})`);
      return undefined;
    }
    return number;
  }

  choice<T extends string | number>(key: string, fallback: T, choices: readonly T[]): T {
    const value = this.lookup(key);
    if (value === undefined) return fallback;
    const match = choices.find((choice) => String(choice) === String(value));
    if (match === undefined) {
      this.reject(key, `one of ${choices.join(', ')}`);
      return fallback;
    }
    return match;
  }

  /** A list from cdk.json (an array) or the command line (comma-separated), without duplicates. */
  list(key: string, rule: StringRule): readonly string[] {
    const value = this.lookup(key);
    if (value === undefined || value === '') return [];
    const items = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(',').map((item) => item.trim())
        : [value];
    if (!items.every((item) => typeof item === 'string' && rule.test(item))) {
      this.reject(key, rule.allowed);
      return [];
    }
    return [...new Set(items as string[])];
  }
}

/** A problem for each present key that is not known but is a likely misspelling of one that is. */
export function misspeltKeyProblems(presentKeys: readonly string[], knownKeys: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of presentKeys) {
    if (knownKeys.includes(key)) continue;
    const suggestion = knownKeys.find((known) => isNearMiss(key, known));
    if (suggestion) problems.push(`${key}: unknown key; allowed: did you mean "${suggestion}"?`);
  }
  return problems;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** Same key in another case, or one or two letters off: a likely typo that would otherwise be silently ignored. */
function isNearMiss(key: string, known: string): boolean {
  if (key.toLowerCase() === known.toLowerCase()) return true;
  if (Math.abs(key.length - known.length) > 2 || known.length < 6) return false;
  return editDistance(key.toLowerCase(), known.toLowerCase()) <= 2;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
