import { compileUserTemplate, looksLikeGo } from './select.ts';
import { TemplateError } from './errors.ts';

describe('compileUserTemplate: which engine', () => {
  const data = { Secrets: { user: 'app' } };

  it.each([
    ['{{ .Secrets.user }}', 'go', 'app'],
    ['{{- with .Secrets }}{{ .user }}{{ end -}}', 'go', 'app'],
    ['{{Secrets.user}}', 'handlebars', 'app'],
    ['{{#with Secrets}}{{user}}{{/with}}', 'handlebars', 'app'],
    ['plain text', 'go', 'plain text'],
  ])('%s is %s', (text, engine, output) => {
    const template = compileUserTemplate('t', text);
    expect(template.engine).toBe(engine);
    expect(template.render(data)).toBe(output);
  });

  it("a broken template that only Go would write reports Go's error with the line", () => {
    const error = (() => {
      try {
        compileUserTemplate('db', 'a\n{{ if .Secrets.x }}');
      } catch (caught) {
        return caught as TemplateError;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.line).toBe(2);
    expect(error.message).toBe('template "db" line 2: unexpected EOF');
  });

  it('a template neither engine reads reports both', () => {
    expect(() => compileUserTemplate('t', '{{#each}}')).toThrow(/as a Go template; as handlebars/);
  });

  it('an explicit engine is used as asked', () => {
    expect(() => compileUserTemplate('t', '{{Secrets.user}}', { engine: 'go' })).toThrow(
      /function "Secrets" not defined/,
    );
    expect(compileUserTemplate('t', '{{Secrets.user}}', { engine: 'handlebars' }).render(data)).toBe('app');
  });

  it('render errors never quote a value', () => {
    const template = compileUserTemplate('t', '{{ range .Secrets.user }}{{ end }}');
    expect(() => template.render(data)).toThrow("range can't iterate over <redacted>");
  });

  it('Go markers follow custom delimiters', () => {
    expect(looksLikeGo('[[ .x ]]', ['[[', ']]'])).toBe(true);
    expect(looksLikeGo('{{ .x }}', ['[[', ']]'])).toBe(false);
  });
});
