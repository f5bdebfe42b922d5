// Property test for the two parsers sprig borrows from Go libraries: Masterminds/semver (semver,
// semverCompare) and Go's time layouts (mustToDate). Random versions, constraints, layouts and values
// (many of them invalid) go through Go (tools/gotemplate-ref, one process for the batch) and through
// ours; outputs must be the same bytes and errors the same message. Seeded; a failure prints the case.
import fc from 'fast-check';
import { FUNC_SETS } from '../../src/gotemplate/funcsets.ts';
import { formatGoTime } from '../../src/gotemplate/funcs/gotime.ts';
import { type CorpusCase, renderWithGo, renderWithUs } from './reference.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20261206);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const num = fc.constantFrom('0', '1', '2', '3', '10', '01', 'x', 'X', '*', '18446744073709551616');
const preId = fc.constantFrom('alpha', 'beta', '0', '1', '01', 'rc-1', 'x', 'a_b', '');
const version = fc
  .tuple(
    fc.constantFrom('', 'v'),
    num,
    fc.option(num),
    fc.option(num),
    fc.option(fc.array(preId, { minLength: 1, maxLength: 2 })),
    fc.option(fc.constantFrom('build', 'b.1', 'x_y')),
  )
  .map(
    ([v, a, b, c, pre, meta]) =>
      `${v}${a}${b === null ? '' : `.${b}`}${b !== null && c !== null ? `.${c}` : ''}${pre === null ? '' : `-${pre.join('.')}`}${meta === null ? '' : `+${meta}`}`,
  );
const op = fc.constantFrom('', '=', '!=', '>', '<', '>=', '=>', '<=', '=<', '~', '~>', '^');
const single = fc.tuple(op, fc.constantFrom('', ' '), version).map(([o, s, v]) => `${o}${s}${v}`);
const constraint = fc.oneof(
  single,
  fc.tuple(single, fc.constantFrom(', ', ',', ' ', ' || ', '||'), single).map(([a, sep, b]) => `${a}${sep}${b}`),
  fc.tuple(version, version).map(([a, b]) => `${a} - ${b}`),
  fc.constantFrom('', '*', 'junk', '>= 1.2 <', '1.2 - ', '|| 1'),
);

const semverCase = fc.oneof(
  version.map((v) => `{{ semver "${v}" }}`),
  version.map(
    (v) =>
      `{{ with semver "${v}" }}{{ .Major }}.{{ .Minor }}.{{ .Patch }}-{{ .Prerelease }}+{{ .Metadata }} {{ .Original }} {{ .IncPatch }}{{ end }}`,
  ),
  fc.tuple(version, version).map(([a, b]) => `{{ (semver "${a}").Compare (semver "${b}") }}`),
  fc.tuple(constraint, version).map(([c, v]) => `{{ semverCompare "${c}" "${v}" }}`),
);

// Layouts from Go's elements and separators; values formatted from a random date with the same or a
// neighbouring layout, sometimes damaged, so both successes and each kind of error come up.
const element = fc.constantFrom(
  '2006',
  '06',
  '01',
  '1',
  'Jan',
  'January',
  '02',
  '2',
  '_2',
  '002',
  'Mon',
  'Monday',
  '15',
  '03',
  '3',
  '04',
  '4',
  '05',
  '5',
  'PM',
  'pm',
  'MST',
  '-0700',
  '-07:00',
  '-07',
  'Z07:00',
  'Z0700',
  '.000',
  '.999',
  ',000',
  '.000000',
  '.999999999',
);
const layout = fc
  .array(fc.tuple(element, fc.constantFrom('-', ' ', ':', 'T', '/', ', ', '')), { minLength: 1, maxLength: 6 })
  .map((parts) =>
    parts
      .map(([e, s]) => e + s)
      .join('')
      .replace(/[-:T/, ]+$/, ''),
  );
const time = fc.record({
  unix: fc.bigInt({ min: -62135596800n, max: 253402300799n }),
  nsec: fc.integer({ min: 0, max: 999_999_999 }),
  offset: fc.constantFrom(0, 3600, -7 * 3600, 5 * 3600 + 1800, -(3 * 3600 + 30 * 60 + 15)),
  zone: fc.constantFrom('UTC', '', 'PST', 'CEST', 'GMT+3'),
});
const damage = fc.oneof(
  fc.constant((s: string) => s),
  fc.constant((s: string) => s),
  fc.constant((s: string) => `${s}x`),
  fc.constant((s: string) => s.slice(0, -1)),
  fc.constant((s: string) => s.replace(/\d/, '9')),
  fc.constant((s: string) => s.replace(/\d\d/, '99')),
);
const timeCase = fc.tuple(layout, layout, fc.boolean(), time, damage).map(([l, other, same, t, d]) => {
  const value = d(formatGoTime({ ...t, zone: t.offset === 0 && t.zone === '' ? 'UTC' : t.zone }, same ? l : other));
  return `{{ mustToDate ${JSON.stringify(l)} ${JSON.stringify(value)} }}`;
});

function compare(templates: string[]): void {
  const cases: CorpusCase[] = templates.map((template) => ({ name: 't', template, data: '', funcs: 'vso' }));
  const go = renderWithGo(cases);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const ours = renderWithUs(c, FUNC_SETS);
    const theirs = go[i];
    if (ours.output !== theirs?.output || (theirs?.error !== undefined && ours.error !== theirs.error)) {
      failures.push(
        `${c.template}\n  go:   ${JSON.stringify(theirs)}\n  ours: ${JSON.stringify(ours)}\n  corpus entry: ${JSON.stringify({ ...c, group: 'property' })}`,
      );
    }
  });
  expect(failures.slice(0, 5)).toEqual([]);
}

test(`random versions and constraints: semver and semverCompare as Masterminds/semver (seed ${SEED}, ${RUNS * 2} cases)`, () => {
  const templates = fc.sample(semverCase, { seed: SEED, numRuns: RUNS * 2 });
  // Not vacuous: both answers and both kinds of result come up.
  expect(templates.some((t) => t.includes('semverCompare'))).toBe(true);
  compare(templates);
});

test(`random layouts and values: mustToDate as Go's time.Parse (seed ${SEED}, ${RUNS * 2} cases)`, () => {
  compare(fc.sample(timeCase, { seed: SEED, numRuns: RUNS * 2 }));
});
