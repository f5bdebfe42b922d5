// The agent against the real stack, as the kubelet would run it (DESIGN §7): the AgentConfig comes from
// the webhook's own decision on an annotated pod, the service-account token is a real TokenRequest token
// (audience vault) at the pod's token path under a temporary root, and the agent runs as a process.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import pg from 'pg';
import { freeLoopbackPort, sharedStack, startConnectProxy, type TestStack, writePodToken } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV, expandAgentConfig, type AgentConfig } from '../src/contract/index.ts';
import { AGENT_CLI, startAgent, type AgentRun } from './support/agent-process.ts';
import { pod } from './support/pods.ts';

let stack: TestStack;
let ns: string;
let role: string;
let kvPath: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('agent');
  role = `${ns}-app`;
  kvPath = `${ns}/config`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  const { kvV2Mount, databaseMount, databaseRole } = stack.layout;
  await stack.writePolicy(
    role,
    `
path "${kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await writeKv({ username: 'app-user', password: 'first-password' });
});

async function writeKv(data: Record<string, string>): Promise<void> {
  await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${kvPath}`, { data });
}

/** What the webhook would inject for these annotations: the container's decoded AgentConfig and its env value. */
function injectedAgent(
  annotations: Record<string, string>,
  container: 'vault-agent-init' | 'vault-agent',
): { config: AgentConfig; encoded: string } {
  const decision = decide(pod(annotations, { serviceAccountName: 'app' }), ns, { vaultAddress: stack.vaultAddr });
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const containers: V1Container[] = [
    ...(decision.pod.spec?.initContainers ?? []),
    ...(decision.pod.spec?.containers ?? []),
  ];
  const agent = containers.find((c) => c.name === container);
  const encoded = agent?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
  if (encoded === undefined) throw new Error(`no ${AGENT_CONFIG_ENV} on ${container}`);
  return {
    config: expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as AgentConfig,
    encoded,
  };
}

/** A fresh root with the pod's service-account token in place, as the kubelet projects it. */
async function podRoot(config: AgentConfig): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-e2e-'));
  await placeToken(root, config);
  return root;
}

function placeToken(root: string, config: AgentConfig): Promise<void> {
  return writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

async function waitFor(what: string, check: () => boolean, run: AgentRun, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('vaultbridge-agent init', () => {
  test('renders a KV v2 secret with a template and a database secret with the default template, then exits 0', async () => {
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
        'agent-inject-template-config': 'user={{secret "username"}}\npassword={{password}}\n',
        'agent-inject-perms-config': '0400',
        'agent-inject-secret-db': `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`,
        'agent-inject-perms-db': '0440',
      },
      'vault-agent-init',
    );
    expect(config.mode).toBe('init');
    const root = await podRoot(config);
    const run = startAgent(['init'], encoded, root);
    const code = await run.exited;
    expect({ code, output: run.output() }).toMatchObject({ code: 0 });

    const configFile = path.join(root, '/vault/secrets/config');
    expect(fs.readFileSync(configFile, 'utf8')).toBe('user=app-user\npassword=first-password\n');
    expect(mode(configFile)).toBe(0o400);

    const dbFile = path.join(root, '/vault/secrets/db');
    const db = Object.fromEntries(
      fs
        .readFileSync(dbFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    expect(Object.keys(db).sort()).toEqual(['password', 'username']);
    expect(mode(dbFile)).toBe(0o440);

    const tokenSink = path.join(root, '/home/vault/.vault-token');
    expect(fs.readFileSync(tokenSink, 'utf8')).toMatch(/^(hv[sb]|s)\./);
    expect(mode(tokenSink)).toBe(0o600);
    // Never a value or a token in the logs.
    expect(run.output()).not.toContain('first-password');
    expect(run.output()).not.toContain(db.password);
    expect(run.output()).not.toContain(fs.readFileSync(tokenSink, 'utf8'));

    // The rendered database credentials are real.
    const client = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      database: stack.postgres.database,
      user: db.username,
      password: db.password,
    });
    await client.connect();
    try {
      const result = await client.query<{ user: string }>('select current_user as user');
      expect(result.rows[0]?.user).toBe(db.username);
    } finally {
      await client.end();
    }
  });

  test('exits non-zero with a message naming the role when Vault refuses the login', async () => {
    const { config, encoded } = injectedAgent(
      {
        role: `${ns}-not-a-role`,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    const started = Date.now();
    // The budget is a deadline for attempts too: it must leave room for one login on a loaded machine.
    const run = startAgent(['init'], encoded, root, { VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '8000' });
    const code = await run.exited;
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const failure = run
      .output()
      .split('\n')
      .filter((line) => line.includes('init failed'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(failure).toHaveLength(1);
    expect(failure[0]?.level).toBe('error');
    expect(failure[0]?.msg).toContain(`role "${ns}-not-a-role"`);
    expect(failure[0]?.msg).toContain('auth/kubernetes');
    expect(fs.existsSync(path.join(root, '/vault/secrets/config'))).toBe(false);
  });

  test('exits non-zero naming the secret and its Vault path when the policy does not allow it', async () => {
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-other': `${stack.layout.kvV2Mount}/data/not-${ns}/other`,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    const run = startAgent(['init'], encoded, root, { VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '8000' });
    expect(await run.exited).toBe(1);
    const failure = run
      .output()
      .split('\n')
      .find((line) => line.includes('init failed'));
    expect(failure).toContain(`secret \\"other\\" (Vault path ${stack.layout.kvV2Mount}/data/not-${ns}/other)`);
  });
});

describe('vault-k8s templates, unchanged (Go, consul-template dialect)', () => {
  test('five templates in the shapes of the vault-k8s and Vault Agent documentation render as consul-template renders them', async () => {
    const { kvV2Mount, databaseMount, databaseRole, pkiMount, pkiRole, pkiDomain } = stack.layout;
    const kv = `${kvV2Mount}/data/${kvPath}`;
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-db-url': `${databaseMount}/creds/${databaseRole}`,
        'agent-inject-template-db-url': `{{- with secret "${databaseMount}/creds/${databaseRole}" -}}\npostgresql://{{ .Data.username }}:{{ .Data.password }}@db/app\n{{- end }}`,
        'agent-inject-secret-env': kv,
        'agent-inject-template-env': `{{ with secret "${kv}" -}}\n{{ range $k, $v := .Data.data }}export {{ $k }}="{{ $v }}"\n{{ end }}\n{{- end }}`,
        'agent-inject-secret-b64': kv,
        'agent-inject-template-b64': `{{- with secret "${kv}" -}}{{ .Data.data.password | base64Encode }}{{- end }}`,
        'agent-inject-secret-my.cnf': kv,
        'agent-inject-template-my.cnf': `[client]\n{{ with secret "${kv}" -}}\nuser={{ .Data.data.username }}\npassword={{ .Data.data.password }}\n{{ end -}}`,
        'agent-inject-secret-cert.pem': `${pkiMount}/issue/${pkiRole}`,
        'agent-inject-template-cert.pem': `{{- with secret "${pkiMount}/issue/${pkiRole}" "common_name=web.${pkiDomain}" "ttl=1h" -}}\n{{ .Data.certificate }}\n{{ .Data.private_key }}\n{{- end }}`,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    const run = startAgent(['init'], encoded, root);
    expect({ code: await run.exited, output: run.output() }).toMatchObject({ code: 0 });
    const file = (name: string) => fs.readFileSync(path.join(root, '/vault/secrets', name), 'utf8');

    const url = /^postgresql:\/\/([^:]+):([^@]+)@db\/app$/.exec(file('db-url'));
    expect(url).not.toBeNull();
    const client = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      database: stack.postgres.database,
      user: url![1],
      password: url![2],
    });
    await client.connect();
    await client.end();

    const current = await stack.vaultAdmin.read<{ data: { data: Record<string, string> } }>(
      `${kvV2Mount}/data/${kvPath}`,
    );
    const { username, password } = current.data.data;
    expect(file('env')).toBe(`export password="${password}"\nexport username="${username}"\n`);
    expect(file('b64')).toBe(Buffer.from(password!).toString('base64'));
    expect(file('my.cnf')).toBe(`[client]\nuser=${username}\npassword=${password}\n`);
    const [certificate] = file('cert.pem').split(/(?<=-----END CERTIFICATE-----)\n/);
    expect(new crypto.X509Certificate(certificate!).subject).toContain(`CN=web.${pkiDomain}`);
    expect(file('cert.pem')).toContain('PRIVATE KEY-----');
    expect(run.output()).not.toContain(password!);
  });

  test('pkiCert reuses the certificate in its file until it nears expiry, as consul-template does', async () => {
    const { pkiMount, pkiRole, pkiDomain } = stack.layout;
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-template-tls.pem': `{{- with pkiCert "${pkiMount}/issue/${pkiRole}" "common_name=tls.${pkiDomain}" "ttl=1h" -}}\n{{ .Cert }}{{ .Key }}{{ .CA }}\n{{- end }}`,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    const first = startAgent(['init'], encoded, root);
    expect({ code: await first.exited, output: first.output() }).toMatchObject({ code: 0 });
    const file = path.join(root, '/vault/secrets/tls.pem');
    const issued = fs.readFileSync(file, 'utf8');
    expect(new crypto.X509Certificate(issued).subject).toContain(`CN=tls.${pkiDomain}`);
    // A second agent on the same volume (a restarted pod's init) keeps the certificate: no new issue.
    const second = startAgent(['init'], encoded, root);
    expect({ code: await second.exited, output: second.output() }).toMatchObject({ code: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe(issued);
    // A certificate near its end is replaced.
    const { certificate, private_key: key } = (
      await stack.vaultAdmin.write<{ data: { certificate: string; private_key: string } }>(
        `${pkiMount}/issue/${pkiRole}`,
        { common_name: `tls.${pkiDomain}`, ttl: '3s' },
      )
    ).data;
    fs.writeFileSync(file, `${certificate}\n${key}\n`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const third = startAgent(['init'], encoded, root);
    expect({ code: await third.exited, output: third.output() }).toMatchObject({ code: 0 });
    expect(fs.readFileSync(file, 'utf8')).not.toContain(certificate);
  });

  test('a Go template error names the secret and the line, and never a value', async () => {
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-bad': `${stack.layout.kvV2Mount}/data/${kvPath}`,
        'agent-inject-template-bad': `{{ with secret "${stack.layout.kvV2Mount}/data/${kvPath}" }}\n{{ range .Data.data.password }}{{ end }}{{ end }}`,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    const run = startAgent(['init'], encoded, root, { VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '8000' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('secret \\"bad\\"');
    expect(run.output()).toContain("range can't iterate over <redacted>");
    expect(run.output()).not.toContain('first-password');
  });
});

describe('vaultbridge-agent sidecar', () => {
  test('writes the ready file, re-renders a changed KV secret, runs its command, and stops on SIGTERM', async () => {
    await writeKv({ username: 'app-user', password: 'sidecar-1' });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-e2e-'));
    const changed = path.join(root, 'changed');
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
        'agent-inject-template-config': 'password={{secret "password"}}\n',
        'template-static-secret-render-interval': '1s',
        'agent-inject-command-config': `touch ${changed}`,
        'agent-revoke-on-shutdown': 'true',
        'agent-revoke-grace': '0',
      },
      'vault-agent',
    );
    expect(config.mode).toBe('sidecar');
    expect(config.templateConfig.staticSecretRenderIntervalMs).toBe(1000);
    await placeToken(root, config);
    const run = startAgent(['sidecar'], encoded, root);
    try {
      const readyFile = path.join(root, config.readyFile ?? '/home/vault/.vaultbridge-ready');
      const secretFile = path.join(root, '/vault/secrets/config');
      await waitFor('the ready file', () => fs.existsSync(readyFile), run);
      expect(fs.readFileSync(secretFile, 'utf8')).toBe('password=sidecar-1\n');

      // The startup probe agrees.
      const probe = startAgent(['probe', '--ready-file', config.readyFile ?? ''], encoded, root);
      expect(await probe.exited).toBe(0);
      // A first render of a new file runs no command.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(fs.existsSync(changed)).toBe(false);

      await writeKv({ username: 'app-user', password: 'sidecar-2' });
      await waitFor(
        'the re-rendered secret',
        () => fs.readFileSync(secretFile, 'utf8') === 'password=sidecar-2\n',
        run,
      );
      await waitFor('the command after the change', () => fs.existsSync(changed), run);
      expect(run.output()).not.toContain('sidecar-2');

      const token = fs.readFileSync(path.join(root, '/home/vault/.vault-token'), 'utf8');
      await expect(stack.vaultAdmin.write('auth/token/lookup', { token })).resolves.toBeDefined();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('vault token revoked');
      // revokeOnShutdown: the token is dead once the sidecar has stopped.
      await expect(stack.vaultAdmin.write('auth/token/lookup', { token })).rejects.toThrow(/failed with (400|403)/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  test('serves its metrics on localhost and stops, exit 0, on POST /agent/v1/quit (agent-enable-quit)', async () => {
    await writeKv({ username: 'app-user', password: 'quit-1' });
    const [quitPort, metricsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
        'agent-enable-quit': 'true',
        'agent-cache-listener-port': String(quitPort),
        'agent-metrics-listener-port': String(metricsPort),
      },
      'vault-agent',
    );
    expect(config.quit).toEqual({ listenerAddress: `127.0.0.1:${quitPort}` });
    expect(config.metrics).toEqual({ listenerAddress: `127.0.0.1:${metricsPort}` });
    const root = await podRoot(config);
    const run = startAgent(['sidecar'], encoded, root);
    try {
      await waitFor(
        'the ready file',
        () => fs.existsSync(path.join(root, config.readyFile ?? '/home/vault/.vaultbridge-ready')),
        run,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/agent/v1/metrics`)).text();
      expect(metrics).toContain('vaultbridge_agent_renders_total{secret="config",result="created"} 1');
      expect(metrics).toContain('vaultbridge_agent_ready 1');
      expect(metrics).toContain('vaultbridge_agent_token_logins_total 1');
      expect(metrics).not.toContain('quit-1');
      expect((await fetch(`http://127.0.0.1:${quitPort}/agent/v1/quit`)).status).toBe(405);
      expect((await fetch(`http://127.0.0.1:${quitPort}/agent/v1/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${quitPort}/agent/v1/quit`, { method: 'POST' })).status).toBe(200);
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('quit requested');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  test('re-renders with new credentials when a short database lease is re-issued, and they log in', async () => {
    // A role of its own with seconds-long TTLs: the LeaseManager re-issues rather than renew a lease that short.
    const dbRole = `${ns}-short`;
    const { databaseMount, databaseConnection, kvV2Mount } = stack.layout;
    await stack.vaultAdmin.write(`${databaseMount}/roles/${dbRole}`, {
      db_name: databaseConnection,
      default_ttl: '4s',
      max_ttl: '9s',
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
    });
    await stack.writePolicy(
      role,
      `
path "${kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${stack.layout.databaseRole}" { capabilities = ["read"] }
path "${databaseMount}/creds/${dbRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
`,
    );
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-inject-secret-db': `${databaseMount}/creds/${dbRole}`,
        'agent-inject-template-db': '{{username}}:{{password}}',
      },
      'vault-agent',
    );
    const root = await podRoot(config);
    const run = startAgent(['sidecar'], encoded, root);
    try {
      const file = path.join(root, '/vault/secrets/db');
      await waitFor('the first render', () => fs.existsSync(file), run);
      const first = fs.readFileSync(file, 'utf8');
      await waitFor('a re-render with new credentials', () => fs.readFileSync(file, 'utf8') !== first, run, 25_000);
      const [user, password] = fs.readFileSync(file, 'utf8').split(':');
      expect(user).not.toBe(first.split(':')[0]);
      const { host, port, database } = stack.postgres;
      const db = new pg.Client({ host, port, database, user, password });
      await db.connect();
      await db.end();
      expect(run.output()).toContain('lease re-issued; re-rendering');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  test('probe exits 1 when there is no ready file', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-probe-'));
    const run = startAgent(['probe', '--ready-file', '/home/vault/.vaultbridge-ready'], '', root);
    expect(await run.exited).toBe(1);
  });
});

describe('agent-inject proxy-address', () => {
  test('the agent reaches Vault through the annotated proxy (CONNECT), not around it', async () => {
    // A forward proxy as in a locked-down cluster: CONNECT host:port, then bytes both ways.
    const proxy = await startConnectProxy();
    const proxyPort = proxy.port;
    try {
      const { config, encoded } = injectedAgent(
        {
          role,
          'agent-pre-populate-only': 'true',
          'proxy-address': `http://127.0.0.1:${proxyPort}`,
          'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
          'agent-inject-template-config': 'user={{secret "username"}}\n',
        },
        'vault-agent-init',
      );
      expect(config.vault.proxyAddress).toBe(`http://127.0.0.1:${proxyPort}`);
      const root = await podRoot(config);
      const run = startAgent(['init'], encoded, root);
      expect({ code: await run.exited, output: run.output() }).toMatchObject({ code: 0 });
      expect(fs.readFileSync(path.join(root, '/vault/secrets/config'), 'utf8')).toBe('user=app-user\n');
      const vault = new URL(stack.vaultAddr);
      expect(proxy.tunnels.length).toBeGreaterThan(0);
      expect(new Set(proxy.tunnels)).toEqual(new Set([`${vault.hostname}:${vault.port}`]));
    } finally {
      await proxy.close();
    }
  });
});

describe('auto-auth methods besides kubernetes (auth-type, auth-config-*)', () => {
  const template = { 'agent-inject-secret-config': '', 'agent-inject-template-config': 'user={{secret "username"}}\n' };

  async function runInit(
    annotations: Record<string, string>,
    prepare: (root: string) => void = () => undefined,
  ): Promise<{ code: number | null; output: string; root: string }> {
    const { config, encoded } = injectedAgent(
      {
        'agent-pre-populate-only': 'true',
        ...template,
        'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${kvPath}`,
        ...annotations,
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    prepare(root);
    const run = startAgent(['init'], encoded, root, { VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '8000' });
    return { code: await run.exited, output: run.output(), root };
  }

  test("jwt: the pod's service-account token, validated by Vault with the API server's keys", async () => {
    const mount = `jwt-${ns}`;
    await stack.enableJwtAuth(mount);
    await stack.vaultAdmin.write(`auth/${mount}/role/jwt-app`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['vault'],
      bound_subject: `system:serviceaccount:${ns}:app`,
      token_policies: [role],
      token_ttl: '1h',
    });
    const ok = await runInit({ 'auth-type': 'jwt', 'auth-path': `auth/${mount}`, role: 'jwt-app' });
    expect({ code: ok.code, output: ok.output }).toMatchObject({ code: 0 });
    expect(fs.readFileSync(path.join(ok.root, '/vault/secrets/config'), 'utf8')).toBe('user=app-user\n');
    // A role bound to another subject refuses the same token.
    await stack.vaultAdmin.write(`auth/${mount}/role/other`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['vault'],
      bound_subject: `system:serviceaccount:${ns}:other`,
      token_policies: [role],
    });
    const refused = await runInit({ 'auth-type': 'jwt', 'auth-path': `auth/${mount}`, role: 'other' });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(
      `at auth/${mount} failed (400: error validating token: invalid subject (sub) claim)`,
    );
  });

  test('approle: role_id and secret_id from files (as an agent-extra-secret mounts them)', async () => {
    const mount = `approle-${ns}`;
    await stack.vaultAdmin.write(`sys/auth/${mount}`, { type: 'approle' });
    await stack.vaultAdmin.write(`auth/${mount}/role/app`, {
      token_policies: [role],
      token_ttl: '1h',
      secret_id_ttl: '1h',
    });
    const roleId = (await stack.vaultAdmin.read<{ data: { role_id: string } }>(`auth/${mount}/role/app/role-id`)).data
      .role_id;
    const secretId = (
      await stack.vaultAdmin.write<{ data: { secret_id: string } }>(`auth/${mount}/role/app/secret-id`, {})
    ).data.secret_id;
    const annotations = {
      'auth-type': 'approle',
      'auth-path': `auth/${mount}`,
      role: '',
      'agent-extra-secret': 'approle-ids',
      'auth-config-role-id-file-path': '/vault/custom/role-id',
      'auth-config-secret-id-file-path': '/vault/custom/secret-id',
    };
    const place = (secret: string) => (root: string) => {
      fs.mkdirSync(path.join(root, 'vault/custom'), { recursive: true });
      fs.writeFileSync(path.join(root, 'vault/custom/role-id'), `${roleId}\n`);
      fs.writeFileSync(path.join(root, 'vault/custom/secret-id'), `${secret}\n`);
    };
    const ok = await runInit(annotations, place(secretId));
    expect({ code: ok.code, output: ok.output }).toMatchObject({ code: 0 });
    expect(fs.readFileSync(path.join(ok.root, '/vault/secrets/config'), 'utf8')).toBe('user=app-user\n');
    expect(ok.output).not.toContain(secretId);
    const refused = await runInit(annotations, place('not-the-secret-id'));
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(`AppRole login to Vault at auth/${mount} failed`);
  });
});

describe('agent-configmap: a hand-written config file, with the env the webhook sets', () => {
  test("VAULT_ADDR and the pod's log-level reach the agent through the container env, as vault-k8s passes them", async () => {
    const decision = decide(
      pod(
        {
          role,
          'agent-pre-populate-only': 'true',
          'agent-configmap': 'agent-config',
          'log-level': 'Warning',
        },
        { serviceAccountName: 'app' },
      ),
      ns,
      { vaultAddress: stack.vaultAddr },
    );
    if (decision.kind !== 'inject') throw new Error(`expected an injection, got ${decision.kind}`);
    const init = (decision.pod.spec?.initContainers ?? []).find((c) => c.name === 'vault-agent-init');
    const env = Object.fromEntries(
      (init?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
    expect(env).toMatchObject({
      VAULT_ADDR: stack.vaultAddr,
      VAULT_LOG_LEVEL: 'warn',
      VAULTBRIDGE_AGENT_CONFIG_FILE: '/vault/configs/config-init.json',
    });

    // What a user puts in the ConfigMap: no vault section and no log section; info-level lines would show.
    const { config } = injectedAgent({ role, 'agent-pre-populate-only': 'true' }, 'vault-agent-init');
    const root = await podRoot(config);
    const file = path.join(root, 'config-init.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        mode: 'init',
        auth: {
          type: 'kubernetes',
          mountPath: config.auth.mountPath,
          role,
          serviceAccountTokenPath: config.auth.serviceAccountTokenPath,
        },
        secrets: [
          {
            name: 'config',
            path: `${stack.layout.kvV2Mount}/data/${kvPath}`,
            destination: '/vault/secrets/config',
            template: 'user={{secret "username"}}\n',
          },
        ],
      }),
    );
    const child = spawn(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...env,
          VAULTBRIDGE_AGENT_CONFIG_FILE: file,
          VAULTBRIDGE_AGENT_ROOT: root,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(fs.readFileSync(path.join(root, '/vault/secrets/config'), 'utf8')).toBe('user=app-user\n');
    // VAULT_LOG_LEVEL=warn from the pod's log-level: the info lines of a successful run are not written.
    expect(output).not.toContain('"level":"info"');
  });
});

describe('the retry budget is a deadline', () => {
  test('a Vault dripping its answer (1 byte/s) cannot hold init past its budget: exit 1 naming the budget', async () => {
    const dripPath = `${stack.layout.kvV2Mount}/data/${ns}/drip`;
    await stack.vaultAdmin.write(dripPath, { data: { username: 'slow' } });
    const { config, encoded } = injectedAgent(
      {
        role,
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-slow': dripPath,
        'agent-inject-template-slow': '{{secret "username"}}',
      },
      'vault-agent-init',
    );
    const root = await podRoot(config);
    await stack.setVaultFault('drip', { pathPrefix: dripPath });
    try {
      // The per-request timeout is Vault's default 60 s; the budget 3 s. Before the budget was a
      // deadline, init sat in the first attempt for a minute (this test's own limit is 45 s).
      const run = startAgent(['init'], encoded, root, { VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '3000' });
      const code = await run.exited;
      expect(code).toBe(1);
      expect(run.output()).toContain(
        'did not finish within the retry budget of 3000 ms (VAULTBRIDGE_AGENT_RETRY_BUDGET_MS)',
      );
      expect(fs.existsSync(path.join(root, '/vault/secrets/slow'))).toBe(false);
    } finally {
      await stack.setVaultFault('none');
    }
  }, 45_000);
});
