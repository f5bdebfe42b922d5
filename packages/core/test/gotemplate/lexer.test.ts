// The lexer's edges against Go's own text/template (tools/gotemplate-ref): identifiers, fields and
// variables outside ASCII (astral digits included), astral characters where an action does not allow
// them, quoted and character constants with escapes and astral characters, every number form, trim
// markers beside custom and multi-character delimiters, comments, and positions many lines down. The
// lexer scans by character code, so these are the places where it could part from Go: outputs must be
// the same bytes, and errors the same phase with Go's message word for word (the message carries the
// line and what the lexer saw).
import { FUNC_SETS } from '../../src/gotemplate/funcsets.ts';
import { type CorpusCase, type Rendered, renderWithGo, renderWithUs } from './reference.ts';

const data = JSON.stringify({
  héllo: 'h',
  日本: 'jp',
  x𝟘: 'astral digit',
  ǅ: 'titlecase',
  a_b: { c9: 'nested' },
  list: ['a', 'b'],
});

const templates: (string | [string, [string, string]])[] = [
  // identifiers, fields, variables
  '{{.héllo}} {{.日本}} {{.x𝟘}} {{.ǅ}} {{.a_b.c9}}',
  '{{$é := .héllo}}{{$é}} {{$日本 := 1}}{{$日本}}',
  '{{range $i, $v := .list}}{{$i}}{{$v}}{{end}}',
  '{{.héllo.}}',
  '{{.héllo😀}}',
  '{{.a_b😀c}}',
  '{{$x😀 := 1}}',
  '{{ 😀 }}',
  '{{ \u00a0 }}',
  '{{ \u0085 }}',
  '{{ \u0001 }}',
  '{{ # }}',
  '{{ true}}{{false }}{{nil}}',
  '{{ trueé }}',
  '{{ if1 }}',
  '{{ 1|printf "%v" }}',
  // strings, raw strings, character constants
  "{{\"a\\\"b\\\\c\"}} {{\"é😀\"}} {{`raw\n😀`}} {{'😀'}} {{'\\''}} {{'\\n'}}",
  '{{"unterminated}}',
  '{{"line\nbreak"}}',
  '{{"escaped \\\nnewline"}}',
  "{{'ab}}",
  "{{'\n'}}",
  '{{`never closed}}',
  // numbers (complex constants are a known difference, core README: Go prints them, we refuse them)
  "{{1}} {{-2}} {{+3}} {{0x1F}} {{0o17}} {{0b101}} {{1_000}} {{1.5}} {{.5}} {{1e3}} {{1E-2}} {{0x1p-2}} {{'a'}}",
  '{{0x}}',
  '{{1a}}',
  '{{1é}}',
  '{{1😀}}',
  '{{--1}}',
  '{{0b102}}',
  '{{99999999999999999999}}',
  // trim markers, comments, delimiters
  'a  {{- 1 -}}  b {{- /* c */ -}} d {{/* e */}} f',
  '{{- /* unclosed',
  '{{/* c */ x}}',
  'x {{-1}} {{1 -}}',
  '{{ 1 -}}\n\n\ny',
  ['<< .héllo >> <<- 1 ->>  z', ['<<', '>>']],
  ['ö .héllo 😀 ö- 1 -😀 z', ['ö', '😀']],
  ['[ .héllo ] [- "x" -] [ .日本 ]', ['[', ']']],
  ['{{ .héllo -}}}', ['{{', '-}}']],
  // positions many lines down
  'l1\nl2\n{{.héllo}}\n\n\n{{ 1 2 }}',
  'a\nb\nc\n{{ if true }}\n{{ .héllo ',
  'a\nb\n{{ (1 }}',
  'a\nb\n{{ 1) }}',
  'a\r\nb\r\n{{ 😀 }}',
  '\n\n\n{{ x :y }}',
];

const cases: CorpusCase[] = templates.map((t) =>
  typeof t === 'string'
    ? { name: 'lex', template: t, data, funcs: 'sprig' }
    : { name: 'lex', template: t[0], data, funcs: 'sprig', delims: t[1] },
);

let go: Rendered[] = [];
beforeAll(() => {
  go = renderWithGo(cases);
});

test.each(cases.map((c, i) => [JSON.stringify(c.template).slice(0, 70), i] as const))('%s', (_title, i) => {
  const c = cases[i] as CorpusCase;
  const theirs = go[i] as Rendered;
  const ours = renderWithUs(c, FUNC_SETS);
  expect(ours).toEqual(theirs);
});
