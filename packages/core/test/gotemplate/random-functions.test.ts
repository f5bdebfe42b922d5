// sprig's random, time-dependent and crypto functions (VSO's allowlist) against Go's own: their
// output differs from run to run, so both engines' outputs are checked for the same shape and
// property — a bcrypt hash verifies with a bcrypt library, randInt stays in [min, max) and reaches
// every value, shuffle is a permutation, ago measures the same time. The fixed parts (errors, edge
// values, semver, mustToDate, buildCustomCert) are byte-compared in the conformance corpus.
import bcryptjs from 'bcryptjs';
import { FUNC_SETS } from '../../src/gotemplate/funcsets.ts';
import { parseGoDuration } from '../../src/gotemplate/funcs/sprig.ts';
import { type CorpusCase, renderWithGo, renderWithUs } from './reference.ts';

/** Renders `template` `times` times with Go and with ours (VSO's set, data {}). */
function both(template: string, times: number): { go: string[]; ours: string[] } {
  const cases: CorpusCase[] = Array.from({ length: times }, () => ({
    name: 't',
    template,
    data: '{"pw":"s3cret pässword"}',
    funcs: 'vso',
  }));
  const render = (r: { output?: string; error?: string }): string => {
    if (r.output === undefined) throw new Error(`render failed: ${r.error}`);
    return r.output;
  };
  return { go: renderWithGo(cases).map(render), ours: cases.map((c) => render(renderWithUs(c, FUNC_SETS))) };
}

test('bcrypt: both write $2a$10$ hashes of 60 characters that verify with bcryptjs, salted anew each time', () => {
  const { go, ours } = both('{{ bcrypt .pw }}', 3);
  for (const hash of [...go, ...ours]) {
    expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptjs.compareSync('s3cret pässword', hash)).toBe(true);
    expect(bcryptjs.compareSync('s3cret password', hash)).toBe(false);
  }
  expect(new Set(ours).size).toBe(3);
});

test('htpasswd: "user:" and a verifying bcrypt hash of the password', () => {
  const { go, ours } = both('{{ htpasswd "admin" .pw }}', 2);
  for (const line of [...go, ...ours]) {
    const [user, hash] = line.split(/:(.*)/s) as [string, string];
    expect(user).toBe('admin');
    expect(bcryptjs.compareSync('s3cret pässword', hash)).toBe(true);
  }
});

test('randInt: every value in [min, max) and nothing outside, in both', () => {
  const { go, ours } = both('{{ randInt -3 4 }}', 300);
  for (const values of [go, ours]) {
    const seen = new Set(values.map(Number));
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  }
});

test('shuffle: a permutation of the runes, in both, and not always the same one', () => {
  const word = 'héllo wörld 🐢';
  const { go, ours } = both(`{{ shuffle "${word}" }}`, 20);
  const sorted = (s: string): string => [...s].sort().join('');
  for (const out of [...go, ...ours]) expect(sorted(out)).toBe(sorted(word));
  expect(new Set(ours).size).toBeGreaterThan(1);
  expect(new Set(go).size).toBeGreaterThan(1);
});

test('ago: the same elapsed time as Go for a parsed date and a Unix time', () => {
  const { go, ours } = both(
    '{{ ago (mustToDate "2006-01-02 15:04:05" "2021-06-01 12:00:00") }}|{{ ago 1600000000 }}',
    1,
  );
  const parts = (s: string): number[] => s.split('|').map((d) => Number(parseGoDuration(d) as bigint) / 1e9);
  const [goDate, goUnix] = parts(go[0] as string);
  const [ourDate, ourUnix] = parts(ours[0] as string);
  // Go's renderer ran a moment before ours: the two clocks agree to the second or two.
  expect(Math.abs((ourDate as number) - (goDate as number))).toBeLessThanOrEqual(5);
  expect(Math.abs((ourUnix as number) - (goUnix as number))).toBeLessThanOrEqual(5);
  expect(ours[0]).toMatch(/^\d+h\d+m\d+s\|\d+h\d+m\d+s$/);
});
