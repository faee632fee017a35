/**
 * Reads a few members of JSON text without parsing it: no value is built, strings are skipped with `indexOf`
 * (memchr) and nesting is only counted, so a scan costs linear time and constant memory whatever the text holds.
 * It serves where `JSON.parse` must not run: a message refused before parsing (too large, too deep, not UTF-8)
 * whose status should still carry its `id`, a message of which only the first bytes were kept, and the events the
 * nucleus wraps IPC messages in. Text that is not JSON ends a scan where it stops making sense, keeping what was
 * found before.
 */

/** Where a value is in the text: `end` is past its last byte, or undefined when the text ends first. */
export interface ValueSpan {
  readonly start: number;
  readonly end: number | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Keys longer than this (as JSON text) are skipped unread: no member the connector looks for has one. */
const MAX_KEY_TOKEN_BYTES = 256;

/**
 * The members named in `keys` of the object that starts at `start` (after any whitespace), as spans. The last of
 * a repeated key wins, as with `JSON.parse`. A member whose value the text cuts short is returned with no `end`.
 */
export function objectMembers(
  bytes: Buffer,
  start: number,
  keys: ReadonlySet<string>,
): Map<string, ValueSpan> {
  const found = new Map<string, ValueSpan>();
  let index = skipSpace(bytes, start);
  if (bytes[index] !== OPEN_OBJECT) return found;
  index = skipSpace(bytes, index + 1);
  if (bytes[index] === CLOSE_OBJECT) return found;
  for (;;) {
    if (bytes[index] !== QUOTE) return found;
    const keyEnd = stringEnd(bytes, index);
    if (keyEnd === undefined) return found;
    const key = keyEnd - index <= MAX_KEY_TOKEN_BYTES ? keyAt(bytes, index, keyEnd, keys) : undefined;
    index = skipSpace(bytes, keyEnd);
    if (bytes[index] !== COLON) return found;
    const valueStart = skipSpace(bytes, index + 1);
    if (valueStart >= bytes.length) return found;
    const valueEnd = valueEndAt(bytes, valueStart);
    if (key !== undefined) found.set(key, { start: valueStart, end: valueEnd });
    if (valueEnd === undefined) return found;
    index = skipSpace(bytes, valueEnd);
    if (bytes[index] !== COMMA) return found;
    index = skipSpace(bytes, index + 1);
  }
}

/** The wanted keys as bytes, made once per set: most keys are compared without decoding them. */
const keyBytes = new WeakMap<ReadonlySet<string>, readonly (readonly [string, Buffer])[]>();

/** Which of `keys` the key string from `start` to `end` (quotes included) is, if any. */
function keyAt(bytes: Buffer, start: number, end: number, keys: ReadonlySet<string>): string | undefined {
  for (let index = start + 1; index < end - 1; index++) {
    if (bytes[index] !== BACKSLASH) continue;
    // Escaped: decoded as JSON.parse would (rare; keys are short).
    const key = parseToken(bytes, start, end);
    return typeof key === 'string' && keys.has(key) ? key : undefined;
  }
  let wanted = keyBytes.get(keys);
  if (wanted === undefined) {
    wanted = [...keys].map((key) => [key, Buffer.from(key, 'utf8')] as const);
    keyBytes.set(keys, wanted);
  }
  const length = end - start - 2;
  for (const [key, token] of wanted) {
    if (token.length === length && bytes.compare(token, 0, length, start + 1, end - 1) === 0) return key;
  }
  return undefined;
}

/** The value a span holds, parsed: only for spans known to be small (a string of bounded length, a number). */
export function parseSpan(bytes: Buffer, span: ValueSpan): unknown {
  return span.end === undefined ? undefined : parseToken(bytes, span.start, span.end);
}

/** Index just past the value that starts at `start`; undefined when the text ends first. */
export function valueEndAt(bytes: Buffer, start: number): number | undefined {
  const first = bytes[start];
  if (first === QUOTE) return stringEnd(bytes, start);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) return nestedEnd(bytes, start);
  // A number, true, false or null: up to the next delimiter. One the text cuts short is not known to be whole.
  for (let index = start; index < bytes.length; index++) {
    const byte = bytes[index];
    if (byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || isSpace(byte)) return index;
  }
  return undefined;
}

/** Index just past the closing quote of the string whose opening quote is at `start`; undefined if the text ends first. */
export function stringEnd(bytes: Buffer, start: number): number | undefined {
  let from = start + 1;
  for (;;) {
    const closing = bytes.indexOf(QUOTE, from);
    if (closing === -1) return undefined;
    let backslash = closing - 1;
    while (bytes[backslash] === BACKSLASH) backslash--;
    // An even run of backslashes escapes itself, not the quote.
    if ((closing - 1 - backslash) % 2 === 0) return closing + 1;
    from = closing + 1;
  }
}

/** Index just past the array or object that opens at `start`, however deep: nesting is counted, not followed. */
function nestedEnd(bytes: Buffer, start: number): number | undefined {
  let depth = 0;
  for (let index = start; index < bytes.length; index++) {
    const byte = bytes[index];
    if (byte === QUOTE) {
      const end = stringEnd(bytes, index);
      if (end === undefined) return undefined;
      index = end - 1;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (--depth === 0) return index + 1;
    }
  }
  return undefined;
}

function parseToken(bytes: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(bytes.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}

function skipSpace(bytes: Buffer, start: number): number {
  let index = start;
  while (index < bytes.length && isSpace(bytes[index])) index++;
  return index;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
