import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { agentConfigOf } from '../../test/support/pods.ts';
import { runInjectorCli } from './injector.ts';
import { runRender } from './render.ts';

const FIXTURES = path.join(import.meta.dirname, '../../test/fixtures');
const fixture = (name: string): string => path.join(FIXTURES, name);
const read = (name: string): string => readFileSync(fixture(name), 'utf8');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function render(argv: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runRender(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    ...(options.stdin === undefined ? {} : { stdin: [options.stdin] }),
  });
  return { code, stdout, stderr };
}

function containerNamed(p: V1Pod, name: string) {
  return [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].find((c) => c.name === name);
}

describe('render prints the mutated pod', () => {
  test("the reference's worked example renders as the golden file", async () => {
    expect(await render([fixture('pod.yaml')])).toEqual({ code: 0, stdout: read('pod.rendered.yaml'), stderr: '' });
  });

  test("a Deployment's pod template is mutated; the Service beside it is left alone", async () => {
    const run = await render([fixture('deployment.yaml')]);
    expect(run).toEqual({ code: 0, stdout: read('deployment.rendered.yaml'), stderr: '' });
    const [service] = parseAllDocuments(run.stdout).map((d) => d.toJS() as unknown);
    expect(service).toEqual(parseAllDocuments(read('deployment.yaml'))[0]?.toJS());
  });

  test('-o json prints the same object as JSON', async () => {
    const run = await render(['-o', 'json', fixture('pod.yaml')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(parse(read('pod.rendered.yaml')));
  });

  test('-o json with several documents prints a List', async () => {
    const run = await render(['--output', 'json', fixture('deployment.yaml')]);
    expect(
      (JSON.parse(run.stdout) as { kind: string; items: Array<{ kind: string }> }).items.map((i) => i.kind),
    ).toEqual(['Service', 'Deployment']);
  });

  test('FILE - reads standard input', async () => {
    expect(await render(['-'], { stdin: read('pod.yaml') })).toEqual({
      code: 0,
      stdout: read('pod.rendered.yaml'),
      stderr: '',
    });
  });

  test.each<[string, string[], Record<string, string>, (p: V1Pod) => unknown, unknown]>([
    [
      '--vault-addr sets the Vault address',
      ['--vault-addr', 'http://vault.example:8200'],
      {},
      (p) => (agentConfigOf(containerNamed(p, 'vault-agent')).vault as { address: string }).address,
      'http://vault.example:8200',
    ],
    [
      'AGENT_INJECT_VAULT_ADDR sets it too',
      [],
      { AGENT_INJECT_VAULT_ADDR: 'http://from-env:8200' },
      (p) => (agentConfigOf(containerNamed(p, 'vault-agent')).vault as { address: string }).address,
      'http://from-env:8200',
    ],
    [
      '--agent-image sets the agent image',
      ['--agent-image', 'registry.local/vaultbridge:dev'],
      {},
      (p) => containerNamed(p, 'vault-agent-init')?.image,
      'registry.local/vaultbridge:dev',
    ],
    [
      '--native-sidecar injects native sidecars',
      ['--native-sidecar'],
      {},
      (p) => p.spec?.initContainers?.map((c) => [c.name, c.restartPolicy]),
      [['vault-agent', 'Always']],
    ],
    ['--namespace is the request namespace', ['--namespace', 'team-a'], {}, (p) => p.metadata?.namespace, 'app'],
  ])('%s', async (...[, flags, env, pick, expected]) => {
    const run = await render([...flags, fixture('pod.yaml')], { env });
    expect(run.code).toBe(0);
    expect(pick(parse(run.stdout) as V1Pod)).toEqual(expected);
  });
});

describe('denials and skips', () => {
  test('a denied pod prints each reason to stderr, nothing to stdout, and exits 1', async () => {
    expect(await render([fixture('denied.yaml')])).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        'render: Pod broken: denied: vault.hashicorp.com/role: required: the Vault role to log in with (or vault.hashicorp.com/auth-config-role)',
        'render: Pod broken: denied: vault.hashicorp.com/agent-pre-populate "yes": expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
        'render: Pod broken: denied: vault.hashicorp.com/agent-inject-file-config "../../etc/passwd": expected a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
        '',
      ].join('\n'),
    });
  });

  test('kube-system is denied', async () => {
    expect(await render(['-n', 'kube-system', fixture('pod.yaml')])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'render: Pod web: denied: error with request namespace: cannot inject into system namespaces: kube-system\n',
    });
  });

  test('a pod without agent-inject is printed unchanged, with a note on stderr', async () => {
    const run = await render([fixture('not-injected.yaml')]);
    expect([run.code, run.stderr]).toEqual([
      0,
      'render: Pod plain: not injected: vault.hashicorp.com/agent-inject is not set\n',
    ]);
    expect(parse(run.stdout)).toEqual(parse(read('not-injected.yaml')));
  });

  test('without the simulated ServiceAccount admission a pod with no token mount is denied', async () => {
    const run = await render(['--no-service-account-admission', fixture('pod.yaml')]);
    expect([run.code, run.stderr]).toEqual([
      1,
      'render: Pod web: denied: vault.hashicorp.com/agent-service-account-token-volume-name: no app container mounts a service-account token (automountServiceAccountToken is off?); name a projected volume with a serviceAccountToken source in this annotation\n',
    ]);
  });
});

describe('bad input exits 2', () => {
  test.each<[string, string[], string | undefined, string]>([
    [
      'a missing file',
      [fixture('missing.yaml')],
      undefined,
      `render: cannot read ${fixture('missing.yaml')}: ENOENT: no such file or directory, open '${fixture('missing.yaml')}'\n`,
    ],
    [
      'an unknown output format',
      ['-o', 'xml', fixture('pod.yaml')],
      undefined,
      'render: --output must be yaml or json, not "xml"\n',
    ],
    ['an empty manifest', ['-'], '# nothing\n', 'render: the manifest holds no documents\n'],
    [
      'invalid YAML',
      ['-'],
      'kind: Pod\nkind: Pod\n',
      'render: invalid YAML: Map keys must be unique at line 2, column 1:\n\nkind: Pod\nkind: Pod\n^\n\n',
    ],
    ['an unknown option', ['--frobnicate', fixture('pod.yaml')], undefined, "error: unknown option '--frobnicate'\n"],
    ['no file', [], undefined, "error: missing required argument 'file'\n"],
  ])('%s', async (...[, argv, stdin, stderr]) => {
    expect(await render(argv, stdin === undefined ? {} : { stdin })).toEqual({ code: 2, stdout: '', stderr });
  });
});

test('vaultbridge-injector --help lists render and exits 0', async () => {
  let stdout = '';
  const code = await runInjectorCli(['--help'], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => undefined },
  });
  expect(code).toBe(0);
  expect(stdout).toMatch(/render \[options\] <file>/);
});
