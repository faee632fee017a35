import { objectMembers, parseSpan, valueEndAt } from '../../../runtime/message/json-scan';

const KEYS = new Set(['id', 'request']);

/** The text of each member found, or `…` for one the text cuts short. */
function membersOf(text: string, start = 0): Record<string, string> {
  const bytes = Buffer.from(text);
  const members = objectMembers(bytes, start, KEYS);
  return Object.fromEntries(
    [...members].map(([key, span]) => [
      key,
      span.end === undefined ? '…' : bytes.toString('utf8', span.start, span.end),
    ]),
  );
}

describe('objectMembers', () => {
  it('finds the members asked for, whatever comes between them', () => {
    // Act
    const members = membersOf(
      ' { "skip" : [1, {"id":"nested"}, "]"] , "id" : "top", "request" : {"data":"x"} } ',
    );

    // Assess
    expect(members).toEqual({ id: '"top"', request: '{"data":"x"}' });
  });

  it('keeps the last of a repeated key, as JSON.parse does', () => {
    // Act & Assess
    expect(membersOf('{"id":1,"id":2}')).toEqual({ id: '2' });
  });

  it('skips strings holding quotes, braces and backslashes', () => {
    // Act & Assess
    expect(membersOf('{"a":"\\"}{[\\\\","id":"x\\\\"}')).toEqual({ id: '"x\\\\"' });
  });

  it('returns a member the text cuts short without an end, and stops there', () => {
    // Act & Assess
    expect(membersOf('{"id":"a","request":{"data":"xx')).toEqual({ id: '"a"', request: '…' });
  });

  it('keeps what it found before text that is not JSON', () => {
    // Act & Assess
    expect(membersOf('{"id":"a" "request":{}}')).toEqual({ id: '"a"' });
  });

  it('finds nothing in text that is not an object', () => {
    // Act & Assess
    expect(membersOf('["id","a"]')).toEqual({});
  });

  it('skips 100,000 levels of nesting without recursion', () => {
    // Prepare
    const deep = `{"request":${'['.repeat(100_000)}${']'.repeat(100_000)},"id":"after"}`;

    // Act & Assess
    expect(membersOf(deep).id).toBe('"after"');
  });

  it('reads an object that starts further in the text', () => {
    // Act & Assess
    expect(membersOf('{"outer":{"id":"inner"}}', 9)).toEqual({ id: '"inner"' });
  });
});

describe('valueEndAt', () => {
  it.each([
    ['a string', '"ab"', 4],
    ['a number', '-1.5e3,', 6],
    ['a literal', 'true}', 4],
    ['an object', '{"a":[1,"}"]} ', 13],
  ])('finds the end of %s', (_, text, end) => {
    // Act & Assess
    expect(valueEndAt(Buffer.from(text), 0)).toBe(end);
  });

  it('does not take a number the text cuts short for a whole one', () => {
    // Act & Assess
    expect(valueEndAt(Buffer.from('12'), 0)).toBeUndefined();
  });
});

describe('parseSpan', () => {
  it('parses the value of a whole span and nothing of a cut one', () => {
    // Prepare
    const bytes = Buffer.from('"é\\n"');

    // Act & Assess
    expect(parseSpan(bytes, { start: 0, end: bytes.length })).toBe('é\n');
    expect(parseSpan(bytes, { start: 0, end: undefined })).toBeUndefined();
  });
});
