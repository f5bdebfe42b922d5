// agent-kind vault (issue 10): the webhook injects HashiCorp's Vault Agent with the config vault-k8s
// generates. Proof: the init container the webhook writes for an annotated pod is run as the kubelet would
// run it, with the stack's own Vault binary (`vault agent -config=<file>`), a real TokenRequest token at
// the pod's token path, against the real Vault; the rendered files are checked. Absolute pod paths are
// moved under a temporary root with testenv's inPodRoot, as the agent's e2e tests do (VAULTBRIDGE_AGENT_ROOT).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { binaryPath, inPodRoot, sharedStack, writePodToken, type TestStack } from '@vaultbridge/testenv';
import { decide } from '../src/admission/decide.ts';
import type { InjectorDefaults } from '../src/annotations/defaults.ts';
import { VAULT_AGENT_CONFIG_FILE, VAULT_CONFIG_ENV } from '../src/mutate/vault-agent-config.ts';
import { pod } from './support/pods.ts';

let stack: TestStack;
let ns: string;
let role: string;
let kvPath: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('hcagent');
  role = `${ns}-app`;
  kvPath = `${ns}/config`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writePolicy(role, `path "${stack.layout.kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${kvPath}`, {
    data: { username: 'app-user', password: 'first-password' },
  });
});

type Json = Record<string, unknown>;

function injected(
  annotations: Record<string, string>,
  defaults: InjectorDefaults,
): { init: V1Container; sidecar?: V1Container } {
  const decision = decide(pod(annotations, { serviceAccountName: 'app' }), ns, {
    vaultAddress: stack.vaultAddr,
    ...defaults,
  });
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const containers = [...(decision.pod.spec?.initContainers ?? []), ...(decision.pod.spec?.containers ?? [])];
  const init = containers.find((c) => c.name === 'vault-agent-init');
  if (init === undefined) throw new Error('no vault-agent-init container');
  const sidecar = containers.find((c) => c.name === 'vault-agent');
  return sidecar === undefined ? { init } : { init, sidecar };
}

function vaultConfig(container: V1Container): Json {
  const encoded = container.env?.find((e) => e.name === VAULT_CONFIG_ENV)?.value;
  if (encoded === undefined) throw new Error(`no ${VAULT_CONFIG_ENV} on ${container.name}`);
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Json;
}

/** The service-account token path (in the pod) the config's auto-auth reads. */
function podTokenPath(config: Json): string {
  return (config.auto_auth as { method: { config: { token_path: string } } }).method.config.token_path;
}

/** The config with every absolute pod path moved under `root` (directories created, as volumes would be). */
function underRoot(config: Json, root: string): Json {
  const move = (p: string): string => inPodRoot(root, p);
  const autoAuth = config.auto_auth as { method: { config: Json }; sink: { config: { path: string } }[] };
  return {
    ...config,
    pid_file: move(config.pid_file as string),
    auto_auth: {
      ...autoAuth,
      method: {
        ...autoAuth.method,
        config: { ...autoAuth.method.config, token_path: move(autoAuth.method.config.token_path as string) },
      },
      sink: autoAuth.sink.map((s) => ({ ...s, config: { ...s.config, path: move(s.config.path) } })),
    },
    template: (config.template as { destination: string }[]).map((t) => ({ ...t, destination: move(t.destination) })),
  };
}

/** Polls `check` until it holds; fails naming `what` after 60 s (a deadline, not a timed assertion). */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs `vault agent -config=<file>` until it exits (60 s deadline: then it is killed and the test fails). */
function runVaultAgent(
  configFile: string,
  started?: (child: ReturnType<typeof spawn>, output: () => string) => void,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binaryPath('vault'), ['agent', `-config=${configFile}`], {
      // As testenv starts the server: Vault 1.13's bundled gosnowflake rejects a CA cert in Go's newer x509 without it.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: path.dirname(configFile),
        GODEBUG: 'x509negativeserial=1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(
      () => {
        output += '\n[test] vault agent did not exit within 60 s; killed';
        child.kill('SIGKILL');
      },
      started === undefined ? 60_000 : 120_000,
    );
    started?.(child, () => output);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('agent-kind vault', () => {
  test('the per-pod annotation injects Vault Agent, whose init config renders the secrets with the real Vault', async () => {
    const kv = `${stack.layout.kvV2Mount}/data/${kvPath}`;
    const { init, sidecar } = injected(
      {
        role,
        'agent-kind': 'vault',
        'agent-inject-secret-config': kv,
        'agent-inject-template-config': `{{ with secret "${kv}" }}user={{ .Data.data.username }}\npassword={{ .Data.data.password }}\n{{ end }}`,
        'agent-inject-perms-config': '0400',
        'agent-inject-secret-plain': kv,
      },
      {},
    );
    // The containers vault-k8s writes: upstream's image, shell decoding VAULT_CONFIG, `vault agent -config`.
    expect(init.image).toBe('hashicorp/vault:1.13.3');
    expect(init.command).toEqual(['/bin/sh', '-ec']);
    expect(init.args).toEqual([
      `echo \${VAULT_CONFIG?} | base64 -d > ${VAULT_AGENT_CONFIG_FILE} && vault agent -config=${VAULT_AGENT_CONFIG_FILE}`,
    ]);
    expect(vaultConfig(init).exit_after_auth).toBe(true);
    expect(sidecar).toBeDefined();
    expect(vaultConfig(sidecar!).exit_after_auth).toBe(false);

    const config = vaultConfig(init);
    expect(config.auto_auth).toEqual({
      method: {
        type: 'kubernetes',
        mount_path: 'auth/kubernetes',
        config: { role, token_path: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
      },
      sink: [{ type: 'file', config: { path: '/home/vault/.vault-token' } }],
    });

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hcagent-e2e-'));
    const local = underRoot(config, root);
    await writePodToken(stack, root, podTokenPath(config), ns, 'app', { audiences: ['vault'] });
    const configFile = path.join(root, 'home/vault/config.json');
    fs.writeFileSync(configFile, JSON.stringify(local));

    const run = await runVaultAgent(configFile);
    // The agent's output on failure says why (it carries no secret: the test checks that below).
    expect(run.code === 0 ? 'exit 0' : run.output).toBe('exit 0');
    const rendered = path.join(root, 'vault/secrets/config');
    expect(fs.readFileSync(rendered, 'utf8')).toBe('user=app-user\npassword=first-password\n');
    expect(fs.statSync(rendered).mode & 0o777).toBe(0o400);
    // vault-k8s's default template: every key of .Data, Go's map formatting (KV v2: data and metadata).
    const plain = fs.readFileSync(path.join(root, 'vault/secrets/plain'), 'utf8');
    expect(plain).toMatch(/^data: map\[password:first-password username:app-user\]\nmetadata: map\[/);
    expect(fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8')).toMatch(/^(hv[sb]|s)\./);
    expect(run.output).not.toContain('first-password');
  });

  test('the webhook setting makes it the default; a pod can still ask for ours', () => {
    const kv = `${stack.layout.kvV2Mount}/data/${kvPath}`;
    const viaFlag = injected({ role, 'agent-inject-secret-config': kv }, { agentKind: 'vault' });
    expect(viaFlag.init.image).toBe('hashicorp/vault:1.13.3');
    expect(viaFlag.init.env?.some((e) => e.name === VAULT_CONFIG_ENV)).toBe(true);
    const ours = injected(
      { role, 'agent-kind': 'vaultbridge', 'agent-inject-secret-config': kv },
      { agentKind: 'vault' },
    );
    expect(ours.init.command).toEqual(['vaultbridge-agent']);
    expect(ours.init.env?.some((e) => e.name === VAULT_CONFIG_ENV)).toBe(false);
  });

  test("the sidecar config keeps secrets fresh with the real Vault Agent, and vault-k8s's preStop hook revokes its token", async () => {
    const sidecarPath = `${ns}/sidecar`;
    const kv = `${stack.layout.kvV2Mount}/data/${sidecarPath}`;
    await stack.vaultAdmin.write(kv, { data: { password: 'sidecar-one' } });
    const { sidecar } = injected(
      {
        role,
        'agent-kind': 'vault',
        'agent-inject-secret-app': kv,
        'agent-inject-template-app': `{{ with secret "${kv}" }}password={{ .Data.data.password }}{{ end }}`,
        'agent-inject-command-app': 'echo rendered >> /vault/secrets/commands',
        'template-static-secret-render-interval': '1s',
        'agent-revoke-on-shutdown': 'true',
        'agent-revoke-grace': '1',
      },
      {},
    );
    if (sidecar === undefined) throw new Error('no vault-agent sidecar');
    expect(sidecar.command).toEqual(['/bin/sh', '-ec']);
    const config = vaultConfig(sidecar);
    expect(config.exit_after_auth).toBe(false);
    expect(config.template_config).toEqual({ exit_on_retry_failure: true, static_secret_render_interval: '1s' });
    const hook = sidecar.lifecycle?.preStop?.exec?.command;
    expect(hook).toEqual([
      '/bin/sh',
      '-c',
      `/bin/sleep 1 && /bin/vault token revoke -address=${stack.vaultAddr} -self`,
    ]);

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hcagent-sidecar-'));
    const local = underRoot(config, root);
    // The command runs in the agent's container: its /vault/secrets is the volume, here under root.
    const templates = local.template as { command?: string }[];
    for (const t of templates)
      if (t.command !== undefined) t.command = t.command.replace('/vault/secrets', path.join(root, 'vault/secrets'));
    await writePodToken(stack, root, podTokenPath(config), ns, 'app', { audiences: ['vault'] });
    const configFile = path.join(root, 'home/vault/config.json');
    fs.writeFileSync(configFile, JSON.stringify(local));
    const rendered = path.join(root, 'vault/secrets/app');
    const sink = path.join(root, 'home/vault/.vault-token');

    let agent: ReturnType<typeof spawn> | undefined;
    let agentOutput: () => string = () => '';
    const run = runVaultAgent(configFile, (child, output) => {
      agent = child;
      agentOutput = output;
    });
    try {
      await until('first render', () => readIfExists(rendered) === 'password=sidecar-one');
      await stack.vaultAdmin.write(kv, { data: { password: 'sidecar-two' } });
      // The sidecar re-reads KV on the static interval and rewrites the file, then runs the command.
      await until('re-render after a KV write', () => readIfExists(rendered) === 'password=sidecar-two');
      await until('the template command ran', () =>
        (readIfExists(path.join(root, 'vault/secrets/commands')) ?? '').includes('rendered'),
      );
      const token = fs.readFileSync(sink, 'utf8').trim();
      const lookup = async () =>
        fetch(`${stack.vaultAddr}/v1/auth/token/lookup-self`, {
          headers: { 'X-Vault-Token': token },
          signal: AbortSignal.timeout(10_000),
        });
      expect((await lookup()).status).toBe(200);

      // The kubelet runs the preStop hook in the container before SIGTERM: here its exact shell text,
      // with the image's /bin/vault being the stack's Vault binary and HOME the agent's home (the CLI's
      // token helper reads ~/.vault-token, the agent's sink).
      const text = (hook?.[2] ?? '').replace('/bin/vault ', `${binaryPath('vault')} `);
      const revoke = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn('/bin/sh', ['-c', text], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: path.join(root, 'home/vault'),
            GODEBUG: 'x509negativeserial=1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => resolve({ code, output }));
      });
      expect(revoke.code === 0 ? 'exit 0' : revoke.output).toBe('exit 0');
      expect(revoke.output).toContain('Success! Revoked token');
      expect((await lookup()).status).toBe(403);
    } finally {
      agent?.kill('SIGTERM');
    }
    const exited = await run;
    expect(exited.output).not.toContain('sidecar-one');
    expect(exited.output).not.toContain('sidecar-two');
    expect(agentOutput()).toContain('starting template server');
  });
});
