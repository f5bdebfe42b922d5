// `vaultbridge-agent template`: a template rendered without a pod, against the real Vault of the stack
// for consul-template's secret calls, and over --data for the operator's (VSO's) set.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, sharedStack, type TestStack } from '@vaultbridge/testenv';
import { runAgentCli } from '../src/cli/agent.ts';

let stack: TestStack;
let dir: string;
let kvPath: string;

beforeAll(async () => {
  stack = sharedStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-template-'));
  kvPath = `${stack.uniqueName('tpl')}/db`;
  await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${kvPath}`, {
    data: { username: 'app', password: 'pw-1' },
  });
});

function file(name: string, text: string): string {
  const at = path.join(dir, name);
  fs.writeFileSync(at, text);
  return at;
}

async function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAgentCli(['template', ...argv], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
  });
  return { code, stdout, stderr };
}

test('consul-template (default): secret calls go to VAULT_ADDR with VAULT_TOKEN', async () => {
  const template = file(
    'db.tmpl',
    `{{- with secret "${stack.layout.kvV2Mount}/data/${kvPath}" -}}\n{{ .Data.data.username }}:{{ .Data.data.password }}\n{{- end }}`,
  );
  const result = await run([template], { VAULT_ADDR: stack.vaultAddr, VAULT_TOKEN: stack.rootToken });
  expect(result).toEqual({ code: 0, stdout: 'app:pw-1', stderr: '' });
});

test('vso: --data is the template\'s ".", numbers decoded as float64', async () => {
  const data = file('vso.json', JSON.stringify({ Secrets: { password: 'p', port: 5432, big: 1000000 } }));
  const template = file(
    'vso.tmpl',
    '{{- printf "password=%s" (get .Secrets "password") }} {{ .Secrets.port }} {{ .Secrets.big }} {{ .Secrets.password | b64enc }}',
  );
  expect(await run(['--functions', 'vso', '--data', data, template])).toEqual({
    code: 0,
    stdout: 'password=p 5432 1e+06 cA==',
    stderr: '',
  });
});

test("an error prints Go's message with the line and column, exit 1", async () => {
  const template = file('bad.tmpl', 'line one\n{{ .Secrets.x.y }}');
  const data = file('bad.json', '{"Secrets":{"x":"s"}}');
  const result = await run(['--functions', 'vso', '--data', data, template]);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(
    `template: ${template}:2:11: executing "${template}" at <.Secrets.x.y>: can't evaluate field y in type interface {}\n`,
  );
  const syntax = await run([file('syntax.tmpl', 'a\n{{ if .x }}')]);
  expect(syntax).toMatchObject({ code: 1, stderr: `template: ${path.join(dir, 'syntax.tmpl')}:2: unexpected EOF\n` });
});

test('a bad --functions value is a usage error, exit 2', async () => {
  expect((await run(['--functions', 'jinja', file('x.tmpl', 'x')])).code).toBe(2);
});

test('the CLI prints what the real consul-template writes, byte for byte, over the same Vault', async () => {
  const secret = `${stack.layout.kvV2Mount}/data/${kvPath}`;
  const templates = [
    `{{- with secret "${secret}" -}}\npostgresql://{{ .Data.data.username }}:{{ .Data.data.password }}@db/app\n{{- end }}\n`,
    `{{ with secret "${secret}" }}{{ range $k, $v := .Data.data }}export {{ $k | toUpper }}={{ $v | base64Encode }}\n{{ end }}{{ .Data.data | toJSONPretty }}\n{{ .Data.data | toYAML }}\n{{ .Data.data | toTOML }}{{ end }}\n`,
  ];
  const args = [
    '-once',
    '-log-level=err',
    `-vault-addr=${stack.vaultAddr}`,
    '-vault-renew-token=false',
    '-vault-retry=false',
  ];
  const files = templates.map((text, i) => ({ in: file(`ct-${i}.tmpl`, text), out: path.join(dir, `ct-${i}.out`) }));
  for (const f of files) args.push('-template', `${f.in}:${f.out}`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      binaryPath('consul-template'),
      args,
      { timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir, VAULT_TOKEN: stack.rootToken } },
      (error, _o, stderr) =>
        error ? reject(new Error(`consul-template failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
  for (const f of files) {
    const theirs = fs.readFileSync(f.out, 'utf8');
    expect(theirs).toContain('app');
    expect(await run([f.in], { VAULT_ADDR: stack.vaultAddr, VAULT_TOKEN: stack.rootToken })).toEqual({
      code: 0,
      stdout: theirs,
      stderr: '',
    });
  }
}, 120_000);
