// Property test: random templates over random data render the same through Go's text/template and
// ours. Seeded, so a CI run is repeatable; change PROPERTY_SEED to explore. A failure prints the
// smallest failing case as a line ready to paste into corpus.jsonl.
import fc from 'fast-check';
import { FUNC_SETS } from '../../src/gotemplate/funcsets.ts';
import { type CorpusCase, difference, renderWithGo, renderWithUs } from './reference.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20261206);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const FIELDS = [
  '.name',
  '.list',
  '.map',
  '.map.a',
  '.map.b.c',
  '.num',
  '.nil',
  '.missing',
  '.flag',
  '.text',
  '.',
  '$',
  '$.list',
];

const text = fc.stringMatching(/^[a-z \n\t{}é✓😀-]{0,6}$/u).filter((s) => !s.includes('{{') && !s.endsWith('{'));
const goString = fc.string({ unit: 'grapheme', maxLength: 5 }).map((s) => JSON.stringify(s));
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => {
    const s = String(d);
    return /[.e]/.test(s) ? s : `${s}.0`;
  }),
);
const operand = fc.oneof(fc.constantFrom(...FIELDS), goString, number, fc.constantFrom('true', 'false', 'nil'));
const VERBS = ['%v', '%s', '%d', '%q', '%x', '%5.2f', '%-4v', '%T', '%+d', '%e', '%g', '%06.1f', '%t', '%c'];

const { expr } = fc.letrec<{ expr: string; call: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    operand,
    tie('call'),
    tie('call').map((c) => `(${c})`),
  ),
  call: fc.oneof(
    fc
      .tuple(fc.constantFrom('len', 'not', 'html', 'js', 'urlquery', 'print', 'println'), tie('expr'))
      .map(([f, a]) => `${f} ${a}`),
    fc
      .tuple(
        fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'index', 'print'),
        tie('expr'),
        tie('expr'),
      )
      .map(([f, a, b]) => `${f} ${a} ${b}`),
    fc.tuple(fc.constantFrom(...VERBS), tie('expr')).map(([v, a]) => `printf "${v}" ${a}`),
    fc.tuple(tie('expr'), fc.constantFrom(...VERBS)).map(([a, v]) => `${a} | printf "${v}"`),
    fc
      .tuple(fc.constantFrom('slice'), tie('expr'), fc.integer({ min: 0, max: 3 }))
      .map(([f, a, i]) => `${f} ${a} ${i}`),
  ),
}));

// The same shapes plus VSO's sprig functions (parsed with funcs: vso).
const { vsoExpr } = fc.letrec<{ vsoExpr: string; vsoCall: string }>((tie) => ({
  vsoExpr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    operand,
    tie('vsoCall'),
    tie('vsoCall').map((c) => `(${c})`),
  ),
  vsoCall: fc.oneof(
    fc
      .tuple(
        fc.constantFrom(
          'upper',
          'lower',
          'title',
          'quote',
          'squote',
          'toString',
          'toJson',
          'b64enc',
          'trim',
          'empty',
          'kindOf',
          'typeOf',
          'len',
          'sha256sum',
          'toStrings',
          'int64',
          'float64',
          'add1',
          'nospace',
          'initials',
          'swapcase',
        ),
        tie('vsoExpr'),
      )
      .map(([f, a]) => `${f} ${a}`),
    fc
      .tuple(
        fc.constantFrom(
          'default',
          'coalesce',
          'add',
          'sub',
          'mul',
          'max',
          'min',
          'list',
          'ternary',
          'eq',
          'cat',
          'addf',
          'mulf',
          'contains',
          'hasPrefix',
          'trimPrefix',
          'has',
        ),
        tie('vsoExpr'),
        tie('vsoExpr'),
      )
      .map(([f, a, b]) => (f === 'ternary' ? `ternary ${a} ${b} true` : `${f} ${a} ${b}`)),
    fc
      .tuple(
        fc.constantFrom('trunc', 'abbrev', 'repeat', 'indent', 'nindent', 'substr 0'),
        fc.integer({ min: 0, max: 6 }),
        tie('vsoExpr'),
      )
      .map(([f, i, a]) => `${f} ${i} (toString ${a})`),
    fc
      .tuple(
        tie('vsoExpr'),
        fc.constantFrom('upper', 'quote', 'toJson', 'b64enc', 'default "d"', 'join ","', 'printf "%v"'),
      )
      .map(([a, f]) => `${a} | ${f}`),
    fc
      .tuple(fc.constantFrom('get', 'hasKey', 'dig "a"'), tie('vsoExpr'))
      .map(([f, k]) => (f === 'dig "a"' ? `dig "a" ${k} .map` : `${f} .map (toString ${k})`)),
  ),
}));

const trimLeft = fc.constantFrom('{{', '{{- ');
const trimRight = fc.constantFrom('}}', ' -}}');
const action = fc.tuple(trimLeft, expr, trimRight).map(([l, e, r]) => `${l}${e}${r}`);

const { body } = fc.letrec<{ body: string; item: string }>((tie) => ({
  body: fc.array(tie('item'), { maxLength: 4 }).map((items) => items.join('')),
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    action,
    fc.tuple(expr, tie('body'), tie('body')).map(([c, a, b]) => `{{if ${c}}}${a}{{else}}${b}{{end}}`),
    fc.tuple(expr, tie('body')).map(([c, a]) => `{{with ${c}}}${a}{{end}}`),
    fc
      .tuple(fc.constantFrom('.list', '.map', '.num', '3', '.text', '.missing'), tie('body'), tie('body'))
      .map(([r, a, b]) => `{{range $i, $v := ${r}}}${a}{{$i}}:{{$v}}{{else}}${b}{{end}}`),
    fc.tuple(expr, tie('body')).map(([e, a]) => `{{$x := ${e}}}${a}{{$x}}`),
  ),
}));

const value = fc.jsonValue({ maxDepth: 2 });
const data = fc
  .record({
    name: fc.string({ unit: 'grapheme', maxLength: 6 }),
    list: fc.array(value, { maxLength: 4 }),
    map: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'é', ''), value, { maxKeys: 4 }),
    num: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    nil: fc.constant(null),
    flag: fc.boolean(),
    text: fc.string({ maxLength: 4 }),
  })
  .map((d) => JSON.stringify(d));

test(`random templates and data render as Go renders them (seed ${SEED}, ${RUNS} runs)`, () => {
  fc.assert(
    fc.property(
      body,
      data,
      fc.constantFrom<'default' | 'zero' | 'error'>('default', 'zero', 'error'),
      (template, json, missingkey) => {
        const c: CorpusCase = { name: 't', template, data: json, missingkey };
        const [go] = renderWithGo([c]);
        // Known difference (README): a string sliced inside a UTF-8 sequence holds bytes no JavaScript
        // string can; Go prints the raw bytes, we print U+FFFD.
        fc.pre(!(template.includes('slice') && /\ufffd/.test(go?.output ?? '')));
        const diff = difference(renderWithUs(c, FUNC_SETS), go as never);
        if (diff !== undefined)
          throw new Error(`${diff}\ncorpus entry: ${JSON.stringify({ ...c, group: 'property' })}`);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

test(`random templates with VSO's functions render as Go with sprig renders them (seed ${SEED}, ${RUNS} runs)`, () => {
  fc.assert(
    fc.property(vsoExpr, data, (e, json) => {
      const c: CorpusCase = { name: 't', template: `{{ ${e} }}`, data: json, funcs: 'vso' };
      const [go] = renderWithGo([c]);
      // The known difference (README): byte-cutting a UTF-8 sequence (trunc, substr, abbrev, slice).
      fc.pre(!(/trunc|substr|abbrev|slice/.test(c.template) && /\ufffd|\\ufffd/.test(go?.output ?? '')));
      const diff = difference(renderWithUs(c, FUNC_SETS), go as never);
      if (diff !== undefined) throw new Error(`${diff}\ncorpus entry: ${JSON.stringify({ ...c, group: 'property' })}`);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});
