// consul-template's helpers that need no Vault, against the behaviour its documentation gives.
// (The Vault-reading functions are tested against the real Vault in test/consul-template.test.ts.)
import { GoTemplate } from '../template.ts';
import { consulTemplateFuncs, DependencyBrain } from './consul.ts';

const render = (text: string, data: unknown = {}, env: Record<string, string> = {}) =>
  GoTemplate.parse('t', text, {
    funcs: consulTemplateFuncs({ brain: new DependencyBrain(), env, now: () => new Date('2026-12-06T07:00:00.123Z') }),
  }).execute(data);

describe('consul-template helpers', () => {
  test.each([
    ['{{ "héllo" | base64Encode }}', Buffer.from('héllo').toString('base64')],
    ['{{ "aMOpbGxv" | base64Decode }}', 'héllo'],
    ['{{ "??>" | base64URLEncode }}', Buffer.from('??>').toString('base64url')],
    ['{{ .m | toJSON }}', '{"a":"\\u003cb\\u003e","n":[1,2]}'],
    ['{{ .m | toUnescapedJSON }}', '{"a":"<b>","n":[1,2]}'],
    ['{{ .m | toJSONPretty }}', '{\n  "a": "\\u003cb\\u003e",\n  "n": [\n    1,\n    2\n  ]\n}'],
    // yaml.v2 quotes "n" (a YAML 1.1 boolean), as the real consul-template does.
    ['{{ .m | toYAML }}', 'a: <b>\n"n":\n- 1\n- 2'],
    ['{{ "a=1;junk;b=2" | splitToMap ";" "=" }} {{ split "," " a,b " }}', 'map[a:1 b:2] [a b]'],
    ['{{ "a\\n\\nb" | indent 2 }}', '  a\n\n  b'],
    ['{{ with parseJSON `{"x":{"y":[1,"z"]}}` }}{{ index .x.y 1 }}{{ end }}', 'z'],
    // yaml.v2 reads YAML 1.1, where `y` is true (the real consul-template prints [x true]).
    ['{{ (parseYAML "a: 1\\nb: [x, y]").b }}', '[x true]'],
    ['{{ parseBool "true" }} {{ parseInt "-42" }} {{ parseFloat "1.5" }} {{ parseUint "7" }}', 'true -42 1.5 7'],
    ['{{ range split "," "a,b,c" }}[{{ . }}]{{ end }}', '[a][b][c]'],
    ['{{ splitToMap ";" "=" "a=1;b=2" }}', 'map[a:1 b:2]'],
    ['{{ split "," "a,b" | join "-" }}', 'a-b'],
    ['{{ trimSpace "  x \\n" }}|{{ trim "xa" "axbx" }}|{{ trimPrefix "a" "ab" }}|{{ trimSuffix "b" "ab" }}', 'x|b|b|a'],
    // The needles are []interface{} in Go: split's []string is refused there (see the differential test).
    [
      '{{ contains "b" "abc" }} {{ containsAll (parseJSON "[\\"a\\",\\"b\\"]") (split "," "a,b,c") }} {{ containsAny (parseJSON "[\\"x\\",\\"b\\"]") (split "," "a,b") }} {{ containsNone (parseJSON "[\\"x\\"]") (split "," "a") }} {{ containsNotAll (parseJSON "[\\"a\\",\\"x\\"]") (split "," "a") }}',
      'true true true true true',
    ],
    ['{{ in (split "," "a,b") "b" }} {{ in "abc" "c" }}', 'true true'],
    ['{{ "a\\nb" | indent 2 }}', '  a\n  b'],
    ['{{ "a.b.c" | replaceAll "." "/" }}', 'a/b/c'],
    ['{{ "abc123" | regexMatch "[0-9]+" }} {{ "abc123" | regexReplaceAll "[0-9]" "#" }}', 'true abc###'],
    ['{{ "x" | sha256Hex }}', '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'],
    ['{{ "x" | md5sum }}', '9dd4e461268c8034f5c8564e155c67a6'],
    ['{{ hmacSHA256Hex "message" "key" }}', '6e9ef29b75fffc5b7abae527d58fdadb2fe42e7219011976917343065f58ed4a'],
    ['{{ timestamp }} {{ timestamp "unix" }}', '2026-12-06T07:00:00Z 1796540400'],
    ['{{ "AbC" | toLower }} {{ "straße" | toUpper }} {{ "hello world" | toTitle }}', 'abc STRAßE Hello World'],
    ['{{ range loop 3 }}{{ . }}{{ end }} {{ range loop 2 4 }}{{ . }}{{ end }}', '012 23'],
    ['{{ (explodeMap .flat).a.b }}', '1'],
    ['{{ mergeMap .x .y }} {{ mergeMapWithOverride .x .y }}', 'map[a:1 b:3] map[a:2 b:3]'],
    [
      '{{ add 1 2 }} {{ subtract 1 5 }} {{ multiply 2 3 }} {{ divide 2 7 }} {{ modulo 3 7 }} {{ minimum 1 2 }} {{ maximum 1 2 }} {{ 1.5 | add 1 }}',
      '3 4 6 3 1 1 2 2.5',
    ],
    ['{{ env "HOME_X" }}|{{ envOrDefault "NOPE" "d" }}', '/home/x|d'],
    ['{{ sprig_upper "x" }} {{ sprig_default "d" "" }}', 'X d'],
    [
      '{{ define "user" }}user={{ .name }}{{ end }}{{ executeTemplate "user" .x | toUpper }}|{{ executeTemplate "user" }}',
      'USER=<NO VALUE>|user=<no value>',
    ],
  ])('%s', (text, expected) => {
    expect(
      render(
        text,
        { m: { a: '<b>', n: [1, 2] }, flat: { 'a/b': 1 }, x: { a: 1 }, y: { a: 2, b: 3 } },
        { HOME_X: '/home/x' },
      ),
    ).toBe(expected);
  });

  test('Consul functions fail naming themselves', () => {
    expect(() => render('{{ key "x" }}')).toThrow(/key reads Consul or Nomad/);
    expect(() => render('{{ range service "web" }}{{ end }}')).toThrow(/service reads Consul or Nomad/);
  });
});

describe('consulTemplateFuncs: one shared table, state bound per map', () => {
  const mapFor = (env: Record<string, string>) => consulTemplateFuncs({ brain: new DependencyBrain(), env });

  test('pure functions are the same objects in every map; stateful ones are each map’s own', () => {
    const a = mapFor({ X: 'a' });
    const b = mapFor({ X: 'b' });
    expect(a.get('toJSON')).toBe(b.get('toJSON'));
    expect(a.get('sprig_upper')).toBe(b.get('sprig_upper'));
    expect(a.get('env')).not.toBe(b.get('env'));
    // Bound once per map: a second lookup is the same function (scratch stays one value per map).
    expect(a.get('env')).toBe(a.get('env'));
    expect(a.get('scratch')?.call()).toBe(a.get('scratch')?.call());
    expect(a.get('scratch')?.call()).not.toBe(b.get('scratch')?.call());
    expect(a.get('env')?.call('X')).toBe('a');
    expect(b.get('env')?.call('X')).toBe('b');
  });

  test('behaves as a map of every function, in consul-template’s order', () => {
    const funcs = mapFor({});
    const names = [...funcs.keys()];
    expect(names.slice(0, 3)).toEqual(['secret', 'secrets', 'pkiCert']);
    expect(new Set(names).size).toBe(funcs.size);
    expect(names).toEqual(expect.arrayContaining(['scratch', 'writeToFile', 'file', 'key', 'plugin', 'sprig_upper']));
    expect(funcs.has('nope')).toBe(false);
    expect(funcs.get('nope')).toBeUndefined();
    const entries = [...funcs];
    expect(entries.map(([name]) => name)).toEqual(names);
    expect(entries.every(([name, f]) => funcs.get(name) === f)).toBe(true);
    expect([...funcs.values()]).toEqual(entries.map(([, f]) => f));
    const seen: string[] = [];
    funcs.forEach((_f, name) => seen.push(name));
    expect(seen).toEqual(names);
  });
});
