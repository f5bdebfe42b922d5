// The agent cache against the real stack (agent-cache-enable, as vault-k8s configures Vault Agent): init
// renders and hands its token and leases to the sidecar through the persistent cache, the sidecar adopts
// them without a second login or a second credential, and an app calling the sidecar's listener as if
// it were Vault gets secrets with the auto-auth token, leased ones from the cache. Vault's requests are
// counted through the stack's counting proxy, on database roles only this test uses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { freeLoopbackPort, sharedStack, type TestStack, writePodToken } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV, expandAgentConfig, type AgentConfig } from '../src/contract/index.ts';
import { PERSIST_FILE } from '../src/cache/persist.ts';
import { startAgent, type AgentRun } from './support/agent-process.ts';
import { pod } from './support/pods.ts';

let stack: TestStack;
let ns: string;
let role: string;
let dbRole: string;
let appDbRole: string;
let tokenDbRole: string;
let userpassMount: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('cache');
  role = `${ns}-app`;
  dbRole = `${ns}-rendered`;
  appDbRole = `${ns}-app-only`;
  tokenDbRole = `${ns}-token-owned`;
  userpassMount = `${ns}-userpass`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writeDatabaseRole(dbRole, { defaultTtl: '1h', maxTtl: '2h' });
  await stack.writeDatabaseRole(appDbRole, { defaultTtl: '1h', maxTtl: '2h' });
  await stack.writeDatabaseRole(tokenDbRole, { defaultTtl: '1h', maxTtl: '2h' });
  const { kvV2Mount, databaseMount } = stack.layout;
  await stack.writePolicy(
    role,
    `
path "${kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${ns}-*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
`,
  );
  // An app that logs in by itself through the listener (userpass, on a mount only this test uses).
  await stack.vaultAdmin.write(`sys/auth/${userpassMount}`, { type: 'userpass' });
  await stack.vaultAdmin.write(`auth/${userpassMount}/users/app`, {
    password: 'app-password',
    token_policies: [role],
    token_ttl: '1h',
    token_max_ttl: '2h',
  });
  await stack.vaultAdmin.write(`auth/${userpassMount}/users/other`, {
    password: 'other-password',
    token_policies: ['default'],
  });
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(`${kvV2Mount}/data/${ns}/config`, { data: { greeting: 'hello' } });
});

function injected(annotations: Record<string, string>): {
  init: string | undefined;
  sidecar: string;
  config: AgentConfig;
} {
  const decision = decide(pod(annotations, { serviceAccountName: 'app' }), ns, { vaultAddress: stack.vaultAddr });
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const containers: V1Container[] = [
    ...(decision.pod.spec?.initContainers ?? []),
    ...(decision.pod.spec?.containers ?? []),
  ];
  const env = (name: string): string | undefined =>
    containers.find((c) => c.name === name)?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
  const sidecar = env('vault-agent');
  if (sidecar === undefined) throw new Error(`no ${AGENT_CONFIG_ENV} on vault-agent`);
  return {
    init: env('vault-agent-init'),
    sidecar,
    config: expandAgentConfig(JSON.parse(Buffer.from(sidecar, 'base64').toString('utf8'))) as AgentConfig,
  };
}

async function waitFor(what: string, check: () => boolean, run: AgentRun, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const issued = async (name: string): Promise<number> =>
  (await stack.requestCounts()).byRoute[`GET /v1/${stack.layout.databaseMount}/creds/${name}`] ?? 0;
const routeCount = async (route: string): Promise<number> => (await stack.requestCounts()).byRoute[route] ?? 0;
const kvReads = async (): Promise<number> =>
  (await stack.requestCounts()).byRoute[`GET /v1/${stack.layout.kvV2Mount}/data/${ns}/config`] ?? 0;

describe('agent cache (agent-cache-enable)', () => {
  let sidecar: AgentRun | undefined;
  afterEach(async () => {
    sidecar?.child.kill('SIGTERM');
    await sidecar?.exited;
    sidecar = undefined;
  });

  test('init hands its token and lease to the sidecar; the app gets secrets through the listener, leased ones from the cache', async () => {
    const port = await freeLoopbackPort();
    const metricsPort = await freeLoopbackPort();
    const credsPath = `${stack.layout.databaseMount}/creds/${dbRole}`;
    const {
      init,
      sidecar: sidecarConfig,
      config,
    } = injected({
      role,
      'agent-cache-enable': 'true',
      'agent-cache-listener-port': String(port),
      'agent-metrics-listener-port': String(metricsPort),
      'agent-inject-secret-db': credsPath,
      // A Go template reading the same path gets the same lease, not a second credential.
      'agent-inject-secret-dsn': credsPath,
      'agent-inject-template-dsn': `{{ with secret "${credsPath}" }}user={{ .Data.username }}{{ end }}`,
    });
    expect(config.cache).toMatchObject({
      listenerAddress: `127.0.0.1:${port}`,
      useAutoAuthToken: 'true',
      persist: { path: '/vault/agent-cache' },
    });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cache-e2e-'));
    await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });

    // init: one credential for both files, and the handover left encrypted on the cache volume.
    const initRun = startAgent(['init'], init!, root);
    expect({ code: await initRun.exited, output: initRun.output() }).toMatchObject({ code: 0 });
    const db = fs.readFileSync(path.join(root, 'vault/secrets/db'), 'utf8');
    const username = /username: (\S+)/.exec(db)?.[1];
    expect(username).toBeDefined();
    expect(fs.readFileSync(path.join(root, 'vault/secrets/dsn'), 'utf8')).toBe(`user=${username}`);
    expect(await issued(dbRole)).toBe(1);
    const initToken = fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8');
    const persisted = path.join(root, 'vault/agent-cache', PERSIST_FILE);
    const persistedText = fs.readFileSync(persisted, 'utf8');
    expect(fs.statSync(persisted).mode & 0o777).toBe(0o600);
    expect(persistedText).not.toContain(initToken);
    expect(persistedText).not.toContain(username!);

    // sidecar: adopts the token (no login) and the lease (no second credential), deletes the file.
    fs.rmSync(path.join(root, 'home/vault/.vault-token'));
    sidecar = startAgent(['sidecar'], sidecarConfig, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    expect(fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8')).toBe(initToken);
    expect(fs.readFileSync(path.join(root, 'vault/secrets/db'), 'utf8')).toBe(db);
    expect(fs.existsSync(persisted)).toBe(false);
    expect(run.output()).toContain('vault token adopted from the init agent');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/agent/v1/metrics`)).text();
    expect(metrics).toMatch(/^vaultbridge_agent_token_logins_total 0$/m);
    expect(await issued(dbRole)).toBe(1);

    // The app: no token of its own, so the listener adds the auto-auth token.
    const vault = `http://127.0.0.1:${port}/v1`;
    const get = async (apiPath: string): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${vault}/${apiPath}`);
      return { status: response.status, body: await response.json() };
    };
    const kvBefore = await kvReads();
    const kv1 = await get(`${stack.layout.kvV2Mount}/data/${ns}/config`);
    const kv2 = await get(`${stack.layout.kvV2Mount}/data/${ns}/config`);
    expect([kv1.status, kv1.body.data.data, kv2.status]).toEqual([200, { greeting: 'hello' }, 200]);
    // KV answers carry no lease: never cached, each read reaches Vault.
    expect(await kvReads()).toBe(kvBefore + 2);

    // What the agent rendered: the app gets the same lease, Vault issues nothing new.
    const rendered = await get(credsPath);
    expect([rendered.status, rendered.body.data.username]).toEqual([200, username]);
    expect(await issued(dbRole)).toBe(1);

    // A leased secret only the app asks for: issued once, then from the cache.
    const first = await get(`${stack.layout.databaseMount}/creds/${appDbRole}`);
    const second = await get(`${stack.layout.databaseMount}/creds/${appDbRole}`);
    expect(first.status).toBe(200);
    expect(second.body.lease_id).toBe(first.body.lease_id);
    expect(second.body.data.username).toBe(first.body.data.username);
    expect(await issued(appDbRole)).toBe(1);

    // cache-clear evicts: the next request is issued anew.
    const clear = await fetch(`http://127.0.0.1:${port}/agent/v1/cache-clear`, {
      method: 'POST',
      body: JSON.stringify({ type: 'request_path', value: `/v1/${stack.layout.databaseMount}/creds/${appDbRole}` }),
    });
    expect(clear.status).toBe(200);
    const third = await get(`${stack.layout.databaseMount}/creds/${appDbRole}`);
    expect(third.body.lease_id).not.toBe(first.body.lease_id);
    expect(await issued(appDbRole)).toBe(2);

    // Vault's refusals come through as Vault sent them.
    const refused = await get(`${stack.layout.kvV2Mount}/data/not-${ns}/other`);
    expect(refused.status).toBe(403);
    expect(refused.body.errors).toEqual(expect.arrayContaining([expect.stringContaining('permission denied')]));
    // Never a token or a credential in the logs.
    expect(run.output()).not.toContain(initToken);
    expect(run.output()).not.toContain(first.body.data.password);
  });

  test('a sidecar that finds no handover logs in as before; a bad one is refused with agent-cache-exit-on-err', async () => {
    const port = await freeLoopbackPort();
    const { sidecar: sidecarConfig, config } = injected({
      role,
      'agent-cache-enable': 'true',
      'agent-cache-listener-port': String(port),
      'agent-cache-exit-on-err': 'true',
      'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${ns}/config`,
    });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cache-e2e-'));
    await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });

    // A handover whose wrapped key Vault does not know: refused, the sidecar exits 1 naming it.
    fs.mkdirSync(path.join(root, 'vault/agent-cache'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'vault/agent-cache', PERSIST_FILE),
      JSON.stringify({ format: 1, wrappedKey: 'hvs.not-a-wrapping-token', iv: '', tag: '', ciphertext: '' }),
    );
    const refused = startAgent(['sidecar'], sidecarConfig, root);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('persistent cache restore failed (agent-cache-exit-on-err)');
    expect(refused.output()).not.toContain('hvs.not-a-wrapping-token');

    // No handover (the file went with the first attempt): a normal login and render.
    sidecar = startAgent(['sidecar'], sidecarConfig, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    expect(fs.readFileSync(path.join(root, 'vault/secrets/config'), 'utf8')).toBe('greeting: hello\n');
  });

  test.each([
    ['force', "the agent's token replaces the app's", 'hvs.not-the-apps-token', 200],
    ['false', "only the app's own token is used (none: Vault refuses)", undefined, 403],
  ] as const)('agent-cache-use-auto-auth-token %s: %s', async (mode, _what, appToken, status) => {
    const port = await freeLoopbackPort();
    const { sidecar: sidecarConfig, config } = injected({
      role,
      'agent-pre-populate': 'false',
      'agent-cache-enable': 'true',
      'agent-cache-use-auto-auth-token': mode,
      'agent-cache-listener-port': String(port),
      'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${ns}/config`,
    });
    expect(config).toMatchObject({ cache: { useAutoAuthToken: mode } });
    expect(config.cache?.persist).toBeUndefined();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cache-e2e-'));
    await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
    sidecar = startAgent(['sidecar'], sidecarConfig, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    const response = await fetch(`http://127.0.0.1:${port}/v1/${stack.layout.kvV2Mount}/data/${ns}/config`, {
      headers: appToken === undefined ? {} : { 'X-Vault-Token': appToken },
    });
    expect(response.status).toBe(status);
    if (status === 200) expect(((await response.json()) as any).data.data).toEqual({ greeting: 'hello' });
  });

  test('tokens from logins and token creations through the listener are cached and evicted with their leases', async () => {
    const port = await freeLoopbackPort();
    const { sidecar: sidecarConfig, config } = injected({
      role,
      'agent-pre-populate': 'false',
      'agent-cache-enable': 'true',
      'agent-cache-listener-port': String(port),
      'agent-inject-secret-config': `${stack.layout.kvV2Mount}/data/${ns}/config`,
    });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cache-e2e-'));
    await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
    sidecar = startAgent(['sidecar'], sidecarConfig, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    const call = async (
      method: string,
      apiPath: string,
      body?: unknown,
      token?: string,
    ): Promise<{ status: number; body: any }> => {
      const response = await fetch(`http://127.0.0.1:${port}/${apiPath}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headers: token === undefined ? {} : { 'X-Vault-Token': token },
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    const clear = async (type: string, value: string): Promise<number> =>
      (await call('POST', 'agent/v1/cache-clear', { type, value })).status;

    // The app logs in twice: one login at Vault, the same token back.
    const loginRoute = `POST /v1/auth/${userpassMount}/login/app`;
    const login = (): Promise<{ status: number; body: any }> =>
      call('POST', `v1/auth/${userpassMount}/login/app`, { password: 'app-password' });
    const first = await login();
    const second = await login();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.auth.client_token).toBe(first.body.auth.client_token);
    expect(second.body.auth.accessor).toBe(first.body.auth.accessor);
    expect(await routeCount(loginRoute)).toBe(1);
    // Another user's login is another request: not answered from the cache.
    const other = await call('POST', `v1/auth/${userpassMount}/login/other`, { password: 'other-password' });
    expect(other.status).toBe(200);
    expect(other.body.auth.client_token).not.toBe(first.body.auth.client_token);
    expect(await routeCount(`POST /v1/auth/${userpassMount}/login/other`)).toBe(1);

    // A refused login is relayed with Vault's own status and errors (not a gateway error), as Vault Agent does.
    const direct = await fetch(`${stack.handle.vault.directAddr}/v1/auth/${userpassMount}/login/app`, {
      method: 'POST',
      body: JSON.stringify({ password: 'wrong' }),
    });
    const directBody = (await direct.json()) as { errors: string[] };
    const refused = await call('POST', `v1/auth/${userpassMount}/login/app`, { password: 'wrong' });
    expect(refused.status).toBe(direct.status);
    expect(refused.body.errors).toEqual(directBody.errors);
    expect(await routeCount(loginRoute)).toBeGreaterThan(1);
    const loginsBeforeClear = await routeCount(loginRoute);

    // cache-clear by token: the next login reaches Vault and gets a new token.
    expect(await clear('token', first.body.auth.client_token)).toBe(200);
    const third = await login();
    expect(third.body.auth.client_token).not.toBe(first.body.auth.client_token);
    expect(await routeCount(loginRoute)).toBe(loginsBeforeClear + 1);

    // A token created through the listener with the agent's token (managed here): cached.
    const createRoute = 'POST /v1/auth/token/create';
    const creates = await routeCount(createRoute);
    const create = (): Promise<{ status: number; body: any }> =>
      call('POST', 'v1/auth/token/create', { policies: [role], ttl: '1h', meta: { test: ns } });
    const created = await create();
    const createdAgain = await create();
    expect([created.status, createdAgain.status]).toEqual([200, 200]);
    expect(createdAgain.body.auth.client_token).toBe(created.body.auth.client_token);
    expect(await routeCount(createRoute)).toBe(creates + 1);
    const childToken: string = created.body.auth.client_token;

    // A lease created with that token is cached under it ...
    const credsPath = `v1/${stack.layout.databaseMount}/creds/${tokenDbRole}`;
    const lease1 = await call('GET', credsPath, undefined, childToken);
    const lease2 = await call('GET', credsPath, undefined, childToken);
    expect(lease1.status).toBe(200);
    expect(lease2.body.lease_id).toBe(lease1.body.lease_id);
    expect(await issued(tokenDbRole)).toBe(1);
    // ... and leaves the cache with it (cache-clear by accessor): the token is created anew, the lease issued anew.
    expect(await clear('token_accessor', created.body.auth.accessor)).toBe(200);
    const lease3 = await call('GET', credsPath, undefined, childToken);
    expect(lease3.body.lease_id).not.toBe(lease1.body.lease_id);
    expect(await issued(tokenDbRole)).toBe(2);
    const recreated = await create();
    expect(recreated.body.auth.client_token).not.toBe(childToken);
    expect(await routeCount(createRoute)).toBe(creates + 2);

    // A revoke through the listener evicts the token and its leases: the same login reaches Vault again.
    const loginToken: string = third.body.auth.client_token;
    const lease4 = await call('GET', credsPath, undefined, loginToken);
    expect((await call('GET', credsPath, undefined, loginToken)).body.lease_id).toBe(lease4.body.lease_id);
    expect(await issued(tokenDbRole)).toBe(3);
    expect((await call('POST', 'v1/auth/token/revoke-self', undefined, loginToken)).status).toBe(204);
    const afterRevoke = await login();
    expect(afterRevoke.body.auth.client_token).not.toBe(loginToken);
    expect(await routeCount(loginRoute)).toBe(loginsBeforeClear + 2);
    // The revoked token's lease is no longer handed out: Vault refuses the revoked token.
    expect((await call('GET', credsPath, undefined, loginToken)).status).toBe(403);

    // Unknown cache-clear types name the accepted ones; never a token in the logs.
    const badClear = await call('POST', 'agent/v1/cache-clear', { type: 'tokens', value: 'x' });
    expect(badClear.status).toBe(400);
    expect(badClear.body.errors[0]).toContain('token_accessor');
    for (const token of [
      first.body.auth.client_token,
      other.body.auth.client_token,
      loginToken,
      childToken,
      afterRevoke.body.auth.client_token,
    ])
      expect(run.output()).not.toContain(token);
  });
});
