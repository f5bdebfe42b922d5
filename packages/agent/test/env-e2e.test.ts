// Env-var secrets (agent-inject-env-*, ours) end to end on the real stack: the webhook's own decision
// for an annotated pod, `vaultbridge-agent init` run as a process with that config against the real
// Vault (copying the exec wrapper from its "image", the root's /usr/local/bin, into the pod's
// vault-exec volume), then the app container's command exactly as the webhook rewrote it (the static
// vaultbridge-exec reading the env file and exec'ing the app, no shell), with the pod's paths moved
// under a temporary root. The app is a node process that prints its environment.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { binaryPath, sharedStack, type TestStack, writePodToken } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV, EXEC_WRAPPER_IN_IMAGE, expandAgentConfig, type AgentConfig } from '../src/contract/index.ts';
import { pod } from './support/pods.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');
const WRAPPER = binaryPath('vaultbridge-exec');

/** A pod root whose agent "image" carries the exec wrapper where the Dockerfile puts it. */
function podRoot(prefix: string, withWrapper = true): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (withWrapper) {
    fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
    fs.copyFileSync(WRAPPER, path.join(root, EXEC_WRAPPER_IN_IMAGE));
    fs.chmodSync(path.join(root, EXEC_WRAPPER_IN_IMAGE), 0o755);
  }
  return root;
}

/** The app container's command as the webhook wrote it, with the pod's paths moved under root. */
function underRoot(root: string, command: string[]): string[] {
  return command.map((arg, i) => (i < 2 && arg.startsWith('/vault/') ? path.join(root, arg) : arg));
}
// A value that would run code or split if the shell ever expanded it.
const HOSTILE = `p'a$s"w\`touch PWNED\`$(touch PWNED)\nsecond line ${'\\'}n *`;

let stack: TestStack;
let ns: string;
let role: string;
let kv: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('envsec');
  role = `${ns}-app`;
  kv = `${stack.layout.kvV2Mount}/data/${ns}/db`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writePolicy(role, `path "${stack.layout.kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(kv, { data: { username: 'kv-user-7731', password: HOSTILE } });
});

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const PRINT_ENV =
  'process.stdout.write(JSON.stringify({ DB_PASSWORD: process.env.DB_PASSWORD, DB_USER: process.env.DB_USER, ARGV: process.argv.slice(1) }))';

function mutated(annotations: Record<string, string>): V1Pod {
  const app: V1Container = {
    name: 'app',
    image: 'node',
    command: [process.execPath, '-e', PRINT_ENV],
    args: ['--', '--flag', 'two words'],
    volumeMounts: [
      { name: 'kube-api-access-x1', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
  };
  const decision = decide(pod(annotations, { serviceAccountName: 'app', containers: [app] }), ns, {
    vaultAddress: stack.vaultAddr,
  });
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  return decision.pod;
}

describe('agent-inject-env', () => {
  test('the app process gets the rendered secrets as variables, byte for byte, and the pod spec holds none', async () => {
    const injectedPod = mutated({
      role,
      'agent-inject-secret-db': kv,
      'agent-inject-template-db': `{{ with secret "${kv}" }}{{ .Data.data.password }}{{ end }}`,
      'agent-inject-env-db': 'DB_PASSWORD',
      'agent-inject-template-user': `{{ with secret "${kv}" }}{{ .Data.data.username }}{{ end }}`,
      'agent-inject-env-user': 'DB_USER',
    });
    // No value anywhere in what the API server stores.
    expect(JSON.stringify(injectedPod)).not.toContain('kv-user-7731');
    expect(JSON.stringify(injectedPod)).not.toContain('PWNED');
    const init = injectedPod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
    const app = injectedPod.spec?.containers.find((c) => c.name === 'app');
    const encoded = init?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
    if (encoded === undefined || app === undefined) throw new Error('no init agent config or app container');
    const config = expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as AgentConfig;
    expect(config.envFile).toBe('/vault/secrets/.vaultbridge-env');

    const root = podRoot('env-e2e-');
    await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
    const agent = await run(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      { [AGENT_CONFIG_ENV]: encoded, VAULTBRIDGE_AGENT_ROOT: root },
      root,
    );
    expect({ code: agent.code, output: agent.stdout + agent.stderr }).toMatchObject({ code: 0 });
    expect(agent.stdout + agent.stderr).not.toContain('kv-user-7731');
    expect(agent.stdout + agent.stderr).not.toContain('PWNED');
    const envFile = path.join(root, 'vault/secrets/.vaultbridge-env');
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o644);
    // The init agent placed the wrapper in the vault-exec volume, executable by any user.
    const placed = path.join(root, 'vault/exec/vaultbridge-exec');
    expect(fs.statSync(placed).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(placed).equals(fs.readFileSync(WRAPPER))).toBe(true);

    // The app container's command as the webhook wrote it; only the pod paths are moved under root.
    const command = [...(app.command ?? []), ...(app.args ?? [])];
    expect(command.slice(0, 3)).toEqual(['/vault/exec/vaultbridge-exec', '/vault/secrets/.vaultbridge-env', '--']);
    const [wrapper, ...rest] = underRoot(root, command);
    // No shell on the way: PATH holds no directory with sh in it.
    const started = await run(wrapper ?? '', rest, { PATH: '/nonexistent' }, root);
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(started.stdout)).toEqual({
      DB_PASSWORD: HOSTILE,
      DB_USER: 'kv-user-7731',
      ARGV: ['--flag', 'two words'],
    });
    expect(fs.existsSync(path.join(root, 'PWNED'))).toBe(false);
  });

  test('without the env file the app never starts: the wrapper names the file and exits 1', async () => {
    const injectedPod = mutated({ role, 'agent-inject-secret-db': kv, 'agent-inject-env-db': 'DB_PASSWORD' });
    const app = injectedPod.spec?.containers.find((c) => c.name === 'app');
    const command = [...(app?.command ?? []), ...(app?.args ?? [])];
    const root = podRoot('env-e2e-missing-', false);
    const [, ...rest] = underRoot(root, command);
    const started = await run(WRAPPER, rest, {}, root);
    expect(started.code).toBe(1);
    expect(started.stdout).toBe('');
    expect(started.stderr).toContain(`cannot open the env file ${root}/vault/secrets/.vaultbridge-env`);
  });

  test('an agent image without the wrapper fails init, naming it, before any render', async () => {
    const injectedPod = mutated({ role, 'agent-inject-secret-db': kv, 'agent-inject-env-db': 'DB_PASSWORD' });
    const init = injectedPod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
    const encoded = init?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value ?? '';
    const root = podRoot('env-e2e-nowrapper-', false);
    const agent = await run(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      { [AGENT_CONFIG_ENV]: encoded, VAULTBRIDGE_AGENT_ROOT: root },
      root,
    );
    expect(agent.code).toBe(1);
    expect(agent.stdout + agent.stderr).toContain(
      'cannot read the exec wrapper /usr/local/bin/vaultbridge-exec (ENOENT): the app containers run their command through it',
    );
    expect(fs.existsSync(path.join(root, 'vault/secrets/.vaultbridge-env'))).toBe(false);
  });
});
