// The agent's consul-template dialect against the real consul-template (tools/consul-template,
// built by tools/install.sh): the same templates, over the same data in the test stack's Vault,
// rendered by `consul-template -once` and by our render loop must give the same bytes.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  confinedFileReader,
  consulTemplateFuncs,
  DependencyBrain,
  GoTemplate,
  renderWithDependencies,
  vaultDependencyResolver,
} from '../src/gotemplate/index.ts';
import { VaultClient } from '../src/vault/index.ts';

let stack: TestStack;
let client: VaultClient;
let base: string;
let fileDir: string;
let fileFixture: string;
// What both engines see through `env`; consul-template reads its own process environment.
const templateEnv = { CT_DIFF_REGION: 'eu-west-1', CT_DIFF_LIST: 'a, b ,c' };

beforeAll(async () => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
  base = stack.uniqueName('ctdiff');
  await client.write(`secret/data/${base}/app`, {
    data: {
      username: 'app',
      password: 'p@ss"w<o>rd&',
      port: 5432,
      ratio: 0.25,
      big: 1e21,
      on: true,
      tags: ['x', 'y'],
      nested: { a: 1, b: 'two' },
      empty: '',
    },
  });
  await client.write(`secret/data/${base}/other`, {
    data: { hosts: 'db1,db2,db3', text: '  padded \n', unicode: 'żółw 🐢' },
  });
  await client.write(`secret/data/${base}/versioned`, { data: { n: 'one' } });
  await client.write(`secret/data/${base}/versioned`, { data: { n: 'two' } });
  await client.write(`kv/${base}/legacy`, { api_key: 'k-123', count: 7, csv: 'one,two' });
  await client.write(`secret/data/${base}/paths`, {
    data: { 'app/db/user': 'u', 'app/db/pass': 'p', 'app/name': 'web' },
  });
  fileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctdiff-file-'));
  fileFixture = path.join(fileDir, 'greeting.txt');
  fs.writeFileSync(fileFixture, 'hello from a file\n  żółw\n');
});

afterAll(() => {
  fs.rmSync(fileDir, { recursive: true, force: true });
});

/** The corpus: vault-k8s-style templates whose output is fixed by the data (no issued values). */
function corpus(): Record<string, string> {
  const app = `secret/data/${base}/app`;
  return {
    'kv2-doc-shape': `{{- with secret "${app}" -}}\npostgresql://{{ .Data.data.username }}:{{ .Data.data.password }}@db:{{ .Data.data.port }}/app\n{{- end }}\n`,
    'kv2-range-export': `{{ with secret "${app}" }}{{ range $k, $v := .Data.data }}export {{ $k }}="{{ $v }}"\n{{ end }}{{ end }}`,
    'kv2-no-data-prefix': `{{ with secret "secret/${base}/app" }}{{ .Data.data.username }} v{{ .Data.metadata.version }} {{ .Data.metadata.destroyed }}{{ end }}\n`,
    'kv2-numbers': `{{ with secret "${app}" }}{{ .Data.data.port }} {{ .Data.data.ratio }} {{ .Data.data.big }} {{ printf "%d|%v|%s|%05.1f" .Data.data.port .Data.data.ratio .Data.data.port .Data.data.ratio }}{{ end }}\n`,
    'kv2-values-printed': `{{ with secret "${app}" }}{{ .Data.data.tags }} {{ .Data.data.nested }} {{ .Data.data.on }} [{{ .Data.data.empty }}] {{ .Data.data.absent }}{{ end }}\n`,
    'kv2-toJSON': `{{ with secret "${app}" }}{{ .Data.data | toJSON }}\n{{ .Data.data.nested | toJSONPretty }}\n{{ .Data.data | toUnescapedJSON }}{{ end }}\n`,
    'kv2-base64': `{{ with secret "${app}" }}{{ .Data.data.password | base64Encode }} {{ .Data.data.username | base64URLEncode }} {{ "YXBw" | base64Decode }}{{ end }}\n`,
    'kv2-strings': `{{ with secret "secret/data/${base}/other" }}{{ range split "," .Data.data.hosts }}[{{ . }}]{{ end }} {{ .Data.data.hosts | split "," | join ";" }} [{{ .Data.data.text | trimSpace }}] {{ .Data.data.unicode | toUpper }} {{ if .Data.data.hosts | contains "db2" }}has-db2{{ end }} {{ .Data.data.hosts | replaceAll "db" "pg" }}{{ end }}\n`,
    'kv2-index-len': `{{ with secret "${app}" }}{{ index .Data.data "username" }} {{ len .Data.data }} {{ len .Data.data.tags }} {{ index .Data.data.tags 1 }}{{ end }}\n`,
    'kv2-if-eq': `{{ with secret "${app}" }}{{ if eq .Data.data.username "app" }}yes{{ else }}no{{ end }} {{ if .Data.data.on }}on{{ end }} {{ if not .Data.data.empty }}empty{{ end }}{{ end }}\n`,
    'kv1-legacy': `{{ with secret "kv/${base}/legacy" }}{{ .Data.api_key }} {{ .Data.count }} {{ .Data | toJSON }} {{ range $i, $p := split "," .Data.csv }}{{ $i }}={{ $p }} {{ end }}{{ end }}\n`,
    'kv1-top-level': `{{ with secret "kv/${base}/legacy" }}renewable={{ .Renewable }} lease={{ .LeaseDuration }} id=[{{ .LeaseID }}]{{ end }}\n`,
    'env-printf': `{{ env "CT_DIFF_REGION" }} [{{ env "CT_DIFF_ABSENT" }}] {{ printf "%s-%q-%x" (env "CT_DIFF_REGION") "q" "hi" }} {{ range split "," (env "CT_DIFF_LIST") }}<{{ trimSpace . }}>{{ end }}\n`,
    'secret-in-variable': `{{ $s := secret "${app}" }}{{ $s.Data.data.username }}@{{ with $s.Data.data }}{{ .port }}{{ end }}\n`,
    'list-secrets': `{{ range secrets "secret/metadata/${base}/" }}{{ . }};{{ end }}\n`,
    'nested-secret-calls': `{{ range secrets "secret/metadata/${base}/" }}{{ . }}={{ with secret (printf "secret/data/${base}/%s" .) }}{{ len .Data.data }}{{ end }} {{ end }}\n`,
    'hash-helpers': `{{ with secret "${app}" }}{{ .Data.data.password | sha256Hex }} {{ .Data.data.password | md5sum }}{{ end }}\n`,
    'kv2-toYAML': `{{ with secret "${app}" }}{{ .Data.data | toYAML }}\n{{ .Data.data.nested | toYAML }}{{ end }}\n`,
    'parseJSON-toYAML': `{{ "{\\"n\\":[1,2.5],\\"a\\":\\"<b>\\",\\"f\\":1000000,\\"off\\":\\"yes\\"}" | parseJSON | toYAML }}\n`,
    'helpers-strings': `{{ with secret "secret/data/${base}/other" }}{{ .Data.data.hosts | toUpper }} {{ .Data.data.unicode | toTitle }} {{ "Hello World" | toLower }} {{ .Data.data.hosts | trimPrefix "db1," }} {{ .Data.data.hosts | trimSuffix ",db3" }} {{ "xxhixx" | trim "x" }}{{ end }}\n`,
    'helpers-contains-in': `{{ with secret "${app}" }}{{ .Data.data.tags | contains "x" }} {{ in .Data.data.tags "z" }} {{ .Data.data.tags | containsAny (parseJSON "[\\"z\\",\\"y\\"]") }} {{ .Data.data.tags | containsAll (parseJSON "[\\"x\\",\\"y\\"]") }} {{ .Data.data.tags | containsNone (parseJSON "[\\"q\\"]") }} {{ .Data.data.tags | containsNotAll (parseJSON "[\\"x\\",\\"q\\"]") }}{{ end }}\n`,
    'helpers-regex': `{{ with secret "${app}" }}{{ .Data.data.password | regexMatch "^p@" }} {{ .Data.data.password | regexReplaceAll "[^a-z]" "_" }}{{ end }}\n`,
    'helpers-indent-json': `{{ with secret "${app}" }}{{ .Data.data.nested | toJSONPretty | indent 4 }}\n{{ .Data.data | toJSONPretty }}{{ end }}\n`,
    'helpers-parse': `{{ "42" | parseInt }} {{ "-7" | parseInt | add 1 }} {{ "1.5" | parseFloat }} {{ "true" | parseBool }} {{ "9" | parseUint }} {{ "{a: 1, b: [x, y]}" | parseYAML }} {{ (parseJSON "{\\"k\\":[1,\\"v\\"]}").k }}\n`,
    'helpers-math': `{{ add 2 3 }} {{ subtract 1 5 }} {{ multiply 4 6 }} {{ divide 2 9 }} {{ modulo 4 10 }} {{ 2.5 | multiply 2 }} {{ minimum 3 8 }} {{ maximum 3 8 }}\n`,
    'helpers-loop': `{{ range loop 3 }}{{ . }},{{ end }} {{ range $i := loop 2 5 }}{{ $i }};{{ end }}\n`,
    'helpers-maps': `{{ with secret "${app}" }}{{ $m := parseJSON "{\\"a\\":1,\\"b\\":\\"two\\"}" }}{{ $o := parseJSON "{\\"b\\":\\"over\\",\\"c\\":3}" }}{{ mergeMap $m $o | toJSON }} {{ mergeMapWithOverride $m $o | toJSON }}{{ end }} {{ "a=1&b=2" | splitToMap "&" "=" | toJSON }}\n`,
    'helpers-hmac-b64url': `{{ hmacSHA256Hex "message" "key" }} {{ "aGk_Pz4-" | base64URLDecode }} {{ "hi?>>" | base64URLEncode }}\n`,
    'helpers-env-default': `{{ envOrDefault "CT_DIFF_REGION" "x" }} {{ envOrDefault "CT_DIFF_ABSENT" "fallback" }}\n`,
    'define-executeTemplate': `{{ define "line" }}{{ .username }}:{{ .port }}{{ end }}{{ with secret "${app}" }}{{ template "line" .Data.data }} {{ executeTemplate "line" .Data.data | toUpper }}{{ end }}\n`,
    'sprig-names': `{{ with secret "${app}" }}{{ .Data.data.username | sprig_upper }} {{ sprig_default "d" .Data.data.empty }} {{ .Data.data.tags | sprig_join "+" }} {{ sprig_b64enc "x" }}{{ end }}\n`,
    'printf-verbs': `{{ with secret "${app}" }}{{ printf "%v %+v %q %T %T %8.3f|%-6s|%6s|" .Data.data.port .Data.data.nested .Data.data.username .Data.data.port .Data.data.tags .Data.data.ratio .Data.data.username .Data.data.username }}{{ end }}\n`,
    'whitespace-trim': `{{- with secret "${app}" -}}\n  user: {{ .Data.data.username -}}\n  \n{{- range .Data.data.tags }}\n  - {{ . }}\n{{- end }}\n{{ end -}}\n`,
    'unicode-values': `{{ with secret "secret/data/${base}/other" }}{{ .Data.data.unicode }} {{ len .Data.data.unicode }} {{ printf "%q" .Data.data.unicode }} {{ .Data.data.unicode | toJSON }} {{ .Data.data.unicode | base64Encode }}{{ end }}\n`,
    'kv2-version-query': `{{ with secret "secret/data/${base}/versioned?version=1" }}{{ .Data.data.n }} v{{ .Data.metadata.version }}{{ end }} {{ with secret "secret/${base}/versioned" }}{{ .Data.data.n }} v{{ .Data.metadata.version }}{{ end }}\n`,
    'database-creds-shape': `{{ with secret "database/creds/app" }}{{ if .Data.username | contains "v-" }}user{{ end }} {{ if .Data.password }}password{{ end }} {{ .LeaseDuration }} {{ .Renewable }}{{ end }}\n`,
    'kv2-toTOML': `{{ with secret "${app}" }}{{ .Data.data | toTOML }}\n---\n{{ .Data | toTOML }}{{ end }}\n`,
    'parseJSON-toTOML': `{{ "{\\"z\\":{\\"deep\\":{\\"x\\":1.5,\\"s\\":\\"a\\\\\\"b\\\\n\\"}},\\"a b\\":true,\\"list\\":[{\\"n\\":1},{\\"n\\":2,\\"m\\":{\\"k\\":[]}}],\\"mixed\\":[1,\\"x\\",[2]],\\"big\\":1e21,\\"small\\":0.000001,\\"nil\\":null,\\"empty\\":{}}" | parseJSON | toTOML }}\n`,
    'pki-issue-shape': `{{ with secret "pki/issue/example-dot-test" "common_name=web.example.test" "ttl=1h" }}{{ if .Data.certificate | contains "BEGIN CERTIFICATE" }}cert{{ end }} {{ .Data.private_key_type }} {{ len .Data.ca_chain }}{{ end }}\n`,
    'scratch-values': `{{ scratch.Set "user" "none" }}{{ with secret "${app}" }}{{ scratch.Set "user" .Data.data.username }}{{ scratch.SetX "user" "ignored" }}{{ scratch.SetX "port" .Data.data.port }}{{ end }}{{ scratch.Get "user" }}:{{ scratch.Get "port" }} {{ scratch.Key "user" }} {{ scratch.Key "absent" }} [{{ scratch.Get "absent" }}]\n`,
    'scratch-maps': `{{ with secret "${app}" }}{{ range $k, $v := .Data.data }}{{ scratch.MapSet "byKey" $k $v }}{{ end }}{{ scratch.MapSetX "byKey" "username" "kept-first" }}{{ scratch.MapSet "byKey" "added" "new" }}{{ end }}{{ range scratch.MapValues "byKey" }}<{{ . }}>{{ end }} {{ scratch.MapValues "absent" }} {{ scratch.Set "plain" "x" }}{{ scratch.MapValues "plain" }}\n`,
    'scratch-parsejson-map': `{{ $m := parseJSON "{\\"a\\":1}" }}{{ scratch.Set "m" $m }}{{ scratch.MapSet "m" "b" 2 }}{{ $m | toJSON }} {{ (scratch.Get "m").b }}\n`,
    'scratch-across-defines': `{{ define "count" }}{{ scratch.Set "n" (add 1 (scratch.Get "n")) }}{{ end }}{{ scratch.Set "n" 0 }}{{ template "count" }}{{ template "count" }}{{ executeTemplate "count" }}{{ scratch.Get "n" }}\n`,
    'explodeMap-nesting': `{{ "{\\"db/host\\":\\"h\\",\\"db/port\\":5432,\\"db/opts/ssl\\":true,\\"top\\":\\"t\\",\\"a//b\\":1,\\"trail/\\":2,\\"/lead\\":3}" | parseJSON | explodeMap | toJSON }}\n`,
    'explodeMap-secret': `{{ with secret "secret/data/${base}/paths" }}{{ $t := explodeMap .Data.data }}{{ $t.app.db.user }} {{ $t | toJSON }}{{ end }}\n`,
    'explode-nil': `{{ explode nil | len }} {{ explode .missing | toJSON }}\n`,
    mustEnv: `{{ mustEnv "CT_DIFF_REGION" }}\n`,
    'file-read': `{{ file "${fileFixture}" | trimSpace }} {{ file "" }}[{{ file "${fileFixture}" | len }}]\n`,
    'pkiCert-shape': `{{ with pkiCert "pki/issue/example-dot-test" "common_name=api.example.test" "ttl=1h" }}{{ if .Cert | contains "BEGIN CERTIFICATE" }}cert{{ end }} {{ if .Key | contains "PRIVATE KEY" }}key{{ end }} {{ if .CA | contains "BEGIN CERTIFICATE" }}ca{{ end }}{{ end }}\n`,
  };
}

/** Known, pinned differences: name → what each engine writes (see core's README). */
const knownDifferences = new Map<string, { consulTemplate: RegExp; ours: RegExp }>();

async function renderOurs(text: string): Promise<string> {
  const brain = new DependencyBrain();
  const template = GoTemplate.parse('in', text, {
    funcs: consulTemplateFuncs({ brain, env: templateEnv, readFile: confinedFileReader([fileDir]) }),
  });
  return renderWithDependencies(template, brain, vaultDependencyResolver(client));
}

/** All templates in ONE `consul-template -once` run (one process, one Vault login). */
async function renderConsulTemplate(templates: Record<string, string>): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctdiff-'));
  try {
    const args = [
      '-once',
      '-log-level=err',
      `-vault-addr=${stack.vaultAddr}`,
      '-vault-renew-token=false',
      '-vault-retry=false',
      '-consul-retry=false',
    ];
    for (const name of Object.keys(templates)) {
      fs.writeFileSync(path.join(dir, `${name}.tpl`), templates[name] ?? '');
      args.push('-template', `${path.join(dir, `${name}.tpl`)}:${path.join(dir, `${name}.out`)}`);
    }
    await new Promise<void>((resolve, reject) => {
      execFile(
        binaryPath('consul-template'),
        args,
        {
          timeout: 60_000,
          env: { PATH: process.env.PATH, HOME: dir, VAULT_TOKEN: stack.rootToken, ...templateEnv },
        },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`consul-template failed: ${error.message}\n${stderr}`)) : resolve(),
      );
    });
    return Object.fromEntries(
      Object.keys(templates).map((name) => [name, fs.readFileSync(path.join(dir, `${name}.out`), 'utf8')]),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Known difference: consul-template's mergeMap/mergeMapWithOverride merge INTO the first map, and when
// that map is a secret's data the cached secret changes for every later use in the same run (other
// templates included). Ours returns a new map and leaves the secret as Vault returned it.
test('known difference: mergeMapWithOverride on secret data mutates it in consul-template, not here', async () => {
  const text = `{{ with secret "secret/data/${base}/app" }}{{ $_ := mergeMapWithOverride .Data.data.nested (parseJSON "{\\"b\\":\\"over\\"}") }}{{ .Data.data.nested | toJSON }}{{ end }}\n`;
  const theirs = await renderConsulTemplate({ 'merge-mutates': text });
  expect(theirs['merge-mutates']).toBe('{"a":1,"b":"over"}\n');
  expect(await renderOurs(text)).toBe('{"a":1,"b":"two"}\n');
}, 120_000);

test('every corpus template renders byte-identical to consul-template over the same Vault', async () => {
  const templates = corpus();
  const theirs = await renderConsulTemplate(templates);
  const mismatches: string[] = [];
  for (const [name, text] of Object.entries(templates)) {
    const ours = await renderOurs(text);
    const known = knownDifferences.get(name);
    if (known) {
      expect(theirs[name]).toMatch(known.consulTemplate);
      expect(ours).toMatch(known.ours);
    } else if (ours !== theirs[name]) {
      mismatches.push(
        `${name}:\n  consul-template: ${JSON.stringify(theirs[name])}\n  ours:            ${JSON.stringify(ours)}`,
      );
    }
  }
  expect(mismatches).toEqual([]);
  // The corpus is not vacuous: every template produced something.
  for (const name of Object.keys(templates)) expect(theirs[name]?.length).toBeGreaterThan(1);
}, 120_000);

/** consul-template's error for a template that must fail: its stderr, after the file name. */
async function consulTemplateError(text: string): Promise<string> {
  try {
    await renderConsulTemplate({ fails: text });
  } catch (error) {
    return String((error as Error).message);
  }
  throw new Error(`consul-template rendered a template that should fail: ${text}`);
}

async function ourError(text: string): Promise<string> {
  try {
    await renderOurs(text);
  } catch (error) {
    return String((error as Error).message);
  }
  throw new Error(`our renderer rendered a template that should fail: ${text}`);
}

test.each([
  // Go's error for a []string given where consul-template's containsAny takes []interface{}: same position, same words.
  [
    '{{ "a,b" | split "," | containsAny (split "," "z,y") }}',
    /:1:\d+: executing "[^"]*" at <[^>]*>: wrong type for value; expected \[\]interface \{\}; got \[\]string/,
  ],
  ['{{ nope "x" }}', /:1: function "nope" not defined/],
  ['{{ with secret "secret/data/x" }}{{ end', /:1: unclosed action|:1: unexpected EOF/],
  [
    '{{ scratch.Set "s" "x" }}{{ scratch.MapSet "s" "k" 1 }}',
    /:1:\d+: executing "[^"]*" at <scratch.MapSet>: error calling MapSet: "s" is not a map/,
  ],
  ['{{ scratch.Get }}', /:1:\d+: executing "[^"]*" at <scratch>: wrong number of args for Get: want 1 got 0/],
  [
    '{{ explode "x" }}',
    /:1:\d+: executing "[^"]*" at <"x">: can't handle "x" for arg of type \[\]\*dependency.KeyPair/,
  ],
  [
    '{{ explode (split "," "a") }}',
    /:1:\d+: executing "[^"]*" at <"a">: wrong type for value; expected \[\]\*dependency.KeyPair; got \[\]string/,
  ],
  [
    '{{ parseJSON "{\\"a\\":1,\\"a/b\\":2}" | explodeMap }}',
    /:1:\d+: executing "[^"]*" at <explodeMap>: error calling explodeMap: explodeMap: not a map: "a\/b": "a" already has value %!q\(float64=1\)/,
  ],
  ['{{ explodeMap "x" }}', /:1:\d+: executing "[^"]*" at <"x">: expected map|can't handle "x" for arg of type map/],
  [
    'line one\n{{ mustEnv "CT_DIFF_ABSENT" }}',
    /:2:\d+: executing "[^"]*" at <mustEnv "CT_DIFF_ABSENT">: error calling mustEnv: required environment variable CT_DIFF_ABSENT is empty/,
  ],
])(
  'the same error as consul-template: %s',
  async (text, shape) => {
    const theirs = await consulTemplateError(text);
    const ours = await ourError(text);
    expect(theirs).toMatch(shape);
    expect(ours).toMatch(shape);
    // Same line and column when Go reports one.
    const position = (m: string): string | undefined => /:(\d+(?::\d+)?): /.exec(m.slice(m.indexOf('template:')))?.[1];
    expect(position(ours)).toBe(position(theirs));
  },
  120_000,
);
