import { compileLinearRegex, MAX_REGEX_LENGTH, UnsupportedRegexError } from './linear-regex.ts';

test.each([
  ['^(a+)+$', 'a'.repeat(28) + '!', false],
  ['^(a+)+$', 'a'.repeat(100_000) + '!', false],
  ['(a|aa)+$', 'a'.repeat(50_000) + 'b', false],
  ['(x+x+)+y', 'x'.repeat(50_000), false],
  ['^(a+)+$', 'a'.repeat(40), true],
])('%s answers without backtracking (case %#)', (pattern, input, expected) => {
  // A backtracking engine takes 2^n steps on these inputs: the test would not finish.
  expect(compileLinearRegex(pattern).test(input)).toBe(expected);
});

test.each([
  ['^pass', 'password', true],
  ['word$', 'password', true],
  ['ass', 'password', true],
  ['^ass', 'password', false],
  ['(?i)^PASS', 'password', true],
  ['^[a-z_]+$', 'db_user', true],
  ['^\\d{3,}$', '12', false],
  ['^\\pL+$', 'Jürgen', true],
  ['(?P<key>x)', 'x', true],
])('Go MatchString semantics: %s on %s is %s', (pattern, input, expected) => {
  expect(compileLinearRegex(pattern).test(input)).toBe(expected);
});

test.each([
  ['(?=x)', 'lookahead'],
  ['(?<=a)b', 'lookbehind'],
  ['(a)\\1', 'backreference'],
  ['a{1001}', 'repeat over 1000'],
  ['[', 'unclosed class'],
  ['a++', 'possessive'],
])('%s (%s) is refused with a reason', (pattern) => {
  const error = (() => {
    try {
      compileLinearRegex(pattern);
    } catch (caught) {
      return caught;
    }
    return undefined;
  })();
  expect(error).toBeInstanceOf(UnsupportedRegexError);
  expect((error as UnsupportedRegexError).code).toBe('REGEX_UNSUPPORTED');
  expect((error as UnsupportedRegexError).reason.length).toBeGreaterThan(0);
});

test('very long and very large patterns are refused before they cost memory', () => {
  expect(() => compileLinearRegex('a'.repeat(MAX_REGEX_LENGTH + 1))).toThrow(
    `longer than ${MAX_REGEX_LENGTH} characters`,
  );
  expect(() => compileLinearRegex('(((a{1,100}){1,100}){1,100})')).toThrow(UnsupportedRegexError);
});

test('the source is kept for status and error messages', () => {
  expect(compileLinearRegex('^x$').source).toBe('^x$');
});
