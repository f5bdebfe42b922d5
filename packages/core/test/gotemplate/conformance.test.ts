// Differential conformance: every case of corpus.jsonl is rendered by Go's own text/template (with
// sprig v3.3.0, through tools/gotemplate-ref) and by our engine. Outputs must be byte-identical;
// where Go fails, we must fail in the same phase (parse or exec) naming the same line.
import fs from 'node:fs';
import path from 'node:path';
import { FUNC_SETS } from '../../src/gotemplate/funcsets.ts';
import { type CorpusCase, type Rendered, difference, renderWithGo, renderWithUs } from './reference.ts';

const cases: (CorpusCase & { group?: string })[] = fs
  .readFileSync(path.join(import.meta.dirname, 'corpus.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => JSON.parse(line) as CorpusCase);

let go: Rendered[] = [];
beforeAll(() => {
  go = renderWithGo(cases);
});

test('the corpus has at least 400 cases in every group it names', () => {
  expect(cases.length).toBeGreaterThanOrEqual(400);
  const groups = new Set(cases.map((c) => c.group));
  expect([...groups].sort()).toEqual(
    expect.arrayContaining([
      'builtins',
      'control',
      'define',
      'delims',
      'field',
      'missingkey',
      'printf',
      'range',
      'syntax',
      'text',
    ]),
  );
});

test.each(cases.map((c, i) => [`#${i} [${c.group ?? ''}] ${c.template.slice(0, 60)}`, i] as const))(
  '%s',
  (_title, i) => {
    const c = cases[i] as CorpusCase;
    const ours = renderWithUs(c, FUNC_SETS);
    const theirs = go[i] as Rendered;
    expect(difference(ours, theirs) ?? 'same').toBe('same');
  },
);
