import { describe, expect, test } from '@jest/globals';
import { compileSecretRenderer } from '@vaultbridge/agent/contract';
import { createTemplateChecker, type InlineTemplate } from './template-check.ts';

/** The agent's real compile, counting its calls: the checker must call it once per distinct template. */
function countingCompile(): { compile: typeof compileSecretRenderer; calls: () => number } {
  let calls = 0;
  return {
    compile: (...args) => {
      calls += 1;
      return compileSecretRenderer(...args);
    },
    calls: () => calls,
  };
}

const good: InlineTemplate = {
  name: 'db',
  text: '{{ with secret "secret/data/db" }}{{ .Data.data.user }}{{ end }}',
  leftDelimiter: '{{',
  rightDelimiter: '}}',
  errorOnMissingKey: false,
};
const broken: InlineTemplate = {
  ...good,
  text: '{{ with secret "secret/data/db" }}\nuser={{ .Data.data.user }\n{{ end }}',
};

describe('inline templates are checked with the agent compile, once per distinct template', () => {
  test('a good template has no problem, and the same template again is not compiled again', () => {
    const { compile, calls } = countingCompile();
    const check = createTemplateChecker(compile);
    expect(check(good)).toBeUndefined();
    expect(check({ ...good })).toBeUndefined();
    expect(calls()).toBe(1);
  });

  test('a broken template gets the same problem every time, where the agent says', () => {
    const { compile, calls } = countingCompile();
    const check = createTemplateChecker(compile);
    const expected = { line: 2, column: 25, reason: 'unexpected "}" in operand' };
    expect(check(broken)).toEqual(expected);
    expect(check(broken)).toEqual(expected);
    expect(calls()).toBe(1);
  });

  test.each<[string, Partial<InlineTemplate>]>([
    ['another name', { name: 'api' }],
    ['other delimiters', { leftDelimiter: '[[', rightDelimiter: ']]' }],
    ['errorOnMissingKey', { errorOnMissingKey: true }],
    ['an engine named', { templateEngine: 'go' }],
  ])('the same text with %s is compiled on its own', (_what, change) => {
    const { compile, calls } = countingCompile();
    const check = createTemplateChecker(compile);
    check(good);
    check({ ...good, ...change });
    expect(calls()).toBe(2);
  });

  test('the delimiters decide the verdict: under [[ ]] a broken {{ }} action is plain text', () => {
    const check = createTemplateChecker();
    expect(check(broken)).toBeDefined();
    expect(check({ ...broken, leftDelimiter: '[[', rightDelimiter: ']]' })).toBeUndefined();
  });

  test('past its bound the oldest verdict is dropped and compiled again when asked', () => {
    const { compile, calls } = countingCompile();
    const check = createTemplateChecker(compile, 2);
    check({ ...good, name: 'a' });
    check({ ...good, name: 'b' });
    check({ ...good, name: 'c' });
    expect(calls()).toBe(3);
    check({ ...good, name: 'c' });
    expect(calls()).toBe(3);
    check({ ...good, name: 'a' });
    expect(calls()).toBe(4);
  });

  test('an error that is not about the template is thrown, not remembered as a verdict', () => {
    let calls = 0;
    const check = createTemplateChecker(() => {
      calls += 1;
      throw new RangeError('boom');
    });
    expect(() => check(good)).toThrow(RangeError);
    expect(() => check(good)).toThrow(RangeError);
    expect(calls).toBe(2);
  });
});
