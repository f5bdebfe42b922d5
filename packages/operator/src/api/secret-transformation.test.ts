import { SpecError } from './common.ts';
import { parseSecretTransformationSpec } from './secret-transformation.ts';

describe('SecretTransformation spec', () => {
  it('sourceTemplates hold define blocks the templates call (VSO)', () => {
    const spec = parseSecretTransformationSpec({
      sourceTemplates: [
        {
          name: 'helpers',
          text: '{{- define "helper.env" -}}{{- range $k, $v := . }}export {{ $k | upper }}={{ $v | quote }}\n{{ end }}{{- end -}}',
        },
      ],
      templates: { 'env.sh': { text: '{{- template "helper.env" .Secrets -}}' } },
    });
    expect(spec.templates['env.sh']?.({ Secrets: { user: 'app', pass: 'x"y' } })).toBe(
      'export PASS="x\\"y"\nexport USER="app"\n',
    );
    expect(spec.sourceTemplates.map((s) => s.name)).toEqual(['helpers']);
  });

  it('a broken sourceTemplate is refused naming it', () => {
    expect(() => parseSecretTransformationSpec({ sourceTemplates: [{ text: '{{ define "x" }}' }] })).toThrow(SpecError);
    expect(() => parseSecretTransformationSpec({ sourceTemplates: [{ text: '{{ define "x" }}' }] })).toThrow(
      /spec\.sourceTemplates\[0\]\.text/,
    );
  });

  it('sourceTemplates with templateEngine handlebars are refused with the fix', () => {
    expect(() =>
      parseSecretTransformationSpec({ templateEngine: 'handlebars', sourceTemplates: [{ text: 'x' }] }),
    ).toThrow(/remove templateEngine/);
  });
});
