import Handlebars from 'handlebars';
import { compileTemplate } from './engine.ts';
import { TemplateError } from './errors.ts';

function failure(run: () => unknown): TemplateError {
  try {
    run();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

const secretContext = { data: { password: 's3cr3t-value', user: 'app' } };

describe('compileTemplate', () => {
  test('renders without HTML escaping', () => {
    expect(compileTemplate('t', '{{a}} {{{a}}}')({ a: `<&>"'` })).toBe(`<&>"' <&>"'`);
  });

  test('a compiled template renders many contexts', () => {
    const render = compileTemplate('t', 'user={{data.user}}');
    expect(render({ data: { user: 'a' } })).toBe('user=a');
    expect(render({ data: { user: 'b' } })).toBe('user=b');
  });

  test('a field named like a helper is reached through this', () => {
    expect(compileTemplate('t', '{{this.secret}}/{{./json}}')({ secret: 'field', json: 'other' })).toBe('field/other');
  });

  test('standalone block lines leave no blank lines', () => {
    const source = '{{#each items}}\n- {{this}}\n{{/each}}\n';
    expect(compileTemplate('t', source)({ items: ['a', 'b'] })).toBe('- a\n- b\n');
  });
});

describe('compile errors', () => {
  test.each([
    ['unclosed mustache', 'first\nsecond\n{{foo', 3],
    ['mismatched block', 'a\n{{#if x}}\nb\n{{/each}}', 2],
    ['stray close', '{{/if}}', 1],
  ])('%s → TEMPLATE_PARSE with the line', (_case, source, line) => {
    const error = failure(() => compileTemplate('db-creds', source));
    expect(error).toMatchObject({ code: 'TEMPLATE_PARSE', template: 'db-creds', line });
    expect(error.message).toMatch(new RegExp(`^template "db-creds" line ${line}: `));
  });

  test('an unknown helper fails at compile time with its line', () => {
    const error = failure(() => compileTemplate('t', 'ok\n\n{{bas64 data.password}}'));
    expect(error).toMatchObject({ code: 'TEMPLATE_PARSE', line: 3 });
    expect(error.message).toContain(
      'unknown helper "bas64"; the helpers are if, unless, each, with, lookup, secret, get, base64',
    );
  });

  test('the log helper does not exist (it would print values)', () => {
    expect(() => compileTemplate('t', '{{log data.password}}')).toThrow(TemplateError);
  });
});

describe('render errors', () => {
  test('strict mode: a missing field is an error with its line and name', () => {
    const error = failure(() => compileTemplate('t', 'a\nb\n  {{data.pasword}}')(secretContext));
    expect(error).toMatchObject({ code: 'TEMPLATE_RENDER', template: 't', line: 3, column: 5 });
    expect(error.message).toContain('"pasword" is not defined in the data');
    expect(error.message).not.toContain('s3cr3t');
  });

  test('strict mode still lets #if and default test missing fields', () => {
    const render = compileTemplate('t', '{{#if data.missing}}yes{{else}}no{{/if}} {{default data.missing "d"}}');
    expect(render(secretContext)).toBe('no d');
  });

  test('non-strict mode renders a missing field as empty', () => {
    expect(compileTemplate('t', '[{{data.missing}}]', { strict: false })(secretContext)).toBe('[]');
  });

  test('looking into a string never quotes the string', () => {
    const error = failure(() => compileTemplate('t', '{{data.password.length.x}}')(secretContext));
    expect(error.code).toBe('TEMPLATE_RENDER');
    expect(error.message).not.toContain('s3cr3t');
  });

  test('a missing partial is an error', () => {
    expect(() => compileTemplate('t', '{{> header}}')({})).toThrow(/template "t".*partial header could not be found/);
  });
});

describe('prototype access is blocked', () => {
  test.each([
    '{{constructor}}',
    '{{constructor.constructor}}',
    '{{#with this}}{{constructor.name}}{{/with}}',
    '{{__proto__}}',
    '{{lookup this "constructor"}}',
    '{{lookup (lookup this "constructor") "constructor"}}',
    '{{#with "text"}}{{constructor.name}}{{/with}}',
    '{{get this "constructor"}}',
    '{{data.toString}}',
  ])('%s renders nothing', (source) => {
    expect(compileTemplate('t', source, { strict: false })(secretContext)).toBe('');
  });

  test('the Function constructor is unreachable through lookups', () => {
    const source =
      '{{#with (lookup this "constructor")}}{{#with (lookup this "constructor")}}[{{name}}]{{/with}}{{/with}}';
    expect(compileTemplate('t', source, { strict: false })({})).toBe('');
  });

  test('a call through a path is refused at compile time', () => {
    expect(() => compileTemplate('t', '{{constructor.constructor "return process"}}')).toThrow(TemplateError);
  });

  test('strict mode refuses prototype fields instead of printing them', () => {
    expect(() => compileTemplate('t', '{{constructor.constructor}}')({})).toThrow(TemplateError);
  });
});

test('the engine is isolated from the global handlebars instance', () => {
  expect(Handlebars.helpers.secret).toBeUndefined();
  expect(Handlebars.helpers.log).toBeDefined();
});
