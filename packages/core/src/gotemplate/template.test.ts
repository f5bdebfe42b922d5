// Safety limits and the JavaScript-facing API of the Go template engine. Language behaviour is
// proven against Go itself in test/gotemplate (conformance and property tests).
import { GoTemplate, GoTemplateError, SPRIG } from './index.ts';

function failure(run: () => unknown): GoTemplateError {
  try {
    run();
  } catch (error) {
    if (error instanceof GoTemplateError) return error;
    throw error;
  }
  throw new Error('expected a GoTemplateError');
}

describe('limits', () => {
  test('a range over a huge integer stops at the step limit with an error naming the template', () => {
    const t = GoTemplate.parse('app.conf', '{{range 100000000000}}x{{end}}', { limits: { maxSteps: 10_000 } });
    const error = failure(() => t.execute({}));
    expect(error.code).toBe('GOTEMPLATE_LIMIT');
    expect(error.message).toContain('app.conf');
  });

  test('nested ranges that multiply past the step limit stop', () => {
    const t = GoTemplate.parse('t', '{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}', {
      limits: { maxSteps: 50_000 },
    });
    expect(failure(() => t.execute({})).code).toBe('GOTEMPLATE_LIMIT');
  });

  test('recursive template calls stop at the depth limit', () => {
    const t = GoTemplate.parse('t', '{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', {
      limits: { maxDepth: 50 },
    });
    const error = failure(() => t.execute({}));
    expect(error.code).toBe('GOTEMPLATE_LIMIT');
    expect(error.message).toContain('exceeded maximum template depth (50)');
    expect(error.line).toBe(1);
  });

  test('output beyond the size limit fails instead of growing without bound', () => {
    const t = GoTemplate.parse('t', '{{range 100000}}{{$.s}}{{end}}', { limits: { maxOutput: 1000 } });
    expect(failure(() => t.execute({ s: 'abcdefghij' })).code).toBe('GOTEMPLATE_LIMIT');
  });
});

describe('no way out of the data', () => {
  test('prototype names are plain missing keys', () => {
    const t = GoTemplate.parse(
      't',
      '{{.constructor}}|{{.__proto__}}|{{.toString}}|{{.a.constructor.name}}|{{index . "__proto__"}}',
    );
    expect(t.execute({ a: {} })).toBe('<no value>|<no value>|<no value>|<no value>|<no value>');
  });

  test('a key named __proto__ in the data is an ordinary key', () => {
    const data = JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown;
    expect(GoTemplate.parse('t', '{{.__proto__.polluted}}').execute(data)).toBe('yes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('an unknown function is a parse error naming it, line and template', () => {
    const error = failure(() => GoTemplate.parse('db.tmpl', 'ok\n{{ env "HOME" }}'));
    expect(error.code).toBe('GOTEMPLATE_PARSE');
    expect(error.message).toBe('template: db.tmpl:2: function "env" not defined');
    expect(error.line).toBe(2);
  });
});

describe('errors keep values out of the redacted message', () => {
  test('range over a secret string', () => {
    const error = failure(() => GoTemplate.parse('t', '{{range .password}}{{end}}').execute({ password: 1.5 }));
    expect(error.message).toContain('1.5');
    expect(error.redactedMessage).not.toContain('1.5');
    expect(error.redactedMessage).toContain("range can't iterate over <redacted>");
  });
});

describe('API', () => {
  test('companion templates supply define blocks (VSO sourceTemplates)', () => {
    const t = GoTemplate.parse('main', '{{template "greet" .name}}', {}, [
      { name: 'helpers', text: '{{define "greet"}}hi {{.}}{{end}}' },
    ]);
    expect(t.execute({ name: 'web' })).toBe('hi web');
    expect(t.templateNames()).toEqual(['greet', 'helpers', 'main']);
  });

  test('custom delimiters and missingkey=error', () => {
    const t = GoTemplate.parse('t', '[[ .a ]] {{ .a }}', { delims: ['[[', ']]'], missingKey: 'error' });
    expect(t.execute({ a: 1 })).toBe('1 {{ .a }}');
    expect(failure(() => t.execute({})).message).toBe(
      'template: t:1:3: executing "t" at <.a>: map has no entry for key "a"',
    );
  });

  test('numbers from JavaScript are float64, as encoding/json decodes them', () => {
    expect(GoTemplate.parse('t', '{{.n}} {{.big}} {{printf "%T" .n}}').execute({ n: 3, big: 1e6 })).toBe(
      '3 1e+06 float64',
    );
  });
});

describe('regex functions take linear time (RE2, as Go), whatever the pattern', () => {
  const hostile = `${'a'.repeat(50_000)}!`;
  test.each([
    ['{{regexMatch "^(a+)+$" .s}}', 'false'],
    ['{{regexReplaceAll "(a|aa)+$" .s "x"}}', hostile],
    ['{{len (regexFindAll "(a+)+b" .s -1)}}', '0'],
    ['{{len (regexSplit "(a*)*b" .s -1)}}', '1'],
  ])("%s on 50 000 a's and a !", (text, expected) => {
    // A backtracking engine takes 2^n steps here: the test would not finish.
    expect(GoTemplate.parse('t', text, { funcs: SPRIG }).execute({ s: hostile })).toBe(expected);
  });

  test('what RE2 lacks is an error naming the function, as in Go', () => {
    const error = failure(() =>
      GoTemplate.parse('t', '{{mustRegexMatch "(?=a)" .s}}', { funcs: SPRIG }).execute({ s: 'a' }),
    );
    expect(error.message).toContain('error parsing regexp');
    expect(GoTemplate.parse('t', '{{regexMatch "(a)\\\\1" .s}}', { funcs: SPRIG }).execute({ s: 'aa' })).toBe('false');
  });
});
