// The default init → sidecar handover (no agent-cache-enable) against the real stack: a pod annotated
// only with a role and a database secret, its two agents started from the webhook's own output. Init
// leaves its token and lease in the hidden file on the secrets volume; the sidecar adopts them and
// deletes the file, so the pod costs Vault one login and one credential, not two. With
// agent-handover "false", and when the app unwraps the key first, it is two (the sidecar logs in).
// Counted by the stack's counting proxy, on a database role only this file uses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { sharedStack, type TestStack, writePodToken } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV, expandAgentConfig, type AgentConfig } from '../src/contract/index.ts';
import { HANDOVER_FILE } from '../src/cache/persist.ts';
import { startAgent, type AgentRun } from './support/agent-process.ts';
import { pod } from './support/pods.ts';

let stack: TestStack;
let ns: string;
let role: string;
let dbRole: string;
/** A kubernetes auth mount of its own: other test files log in at the shared one concurrently. */
let authMount: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('handover');
  role = `${ns}-app`;
  dbRole = `${ns}-db`;
  authMount = `${ns}-k8s`;
  await stack.enableKubernetesAuth(authMount);
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writeDatabaseRole(dbRole, { defaultTtl: '1h', maxTtl: '2h' });
  await stack.writePolicy(role, `path "${stack.layout.databaseMount}/creds/${dbRole}" { capabilities = ["read"] }\n`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
    mount: authMount,
  });
});

interface Injected {
  readonly init: string;
  readonly sidecar: string;
  readonly initConfig: AgentConfig;
  readonly sidecarConfig: AgentConfig;
}

function injected(annotations: Record<string, string>): Injected {
  const original = pod({ role, 'auth-path': `auth/${authMount}`, ...annotations }, { serviceAccountName: 'app' });
  const originalVolumes = new Set((original.spec?.volumes ?? []).map((v) => v.name));
  const decision = decide(original, ns, { vaultAddress: stack.vaultAddr });
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const containers: V1Container[] = [
    ...(decision.pod.spec?.initContainers ?? []),
    ...(decision.pod.spec?.containers ?? []),
  ];
  const env = (name: string): string => {
    const value = containers.find((c) => c.name === name)?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
    if (value === undefined) throw new Error(`no ${AGENT_CONFIG_ENV} on ${name}`);
    return value;
  };
  const decode = (encoded: string): AgentConfig =>
    expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as AgentConfig;
  // The pod's shape is vault-k8s's: no volume added beyond its three.
  expect(
    (decision.pod.spec?.volumes ?? [])
      .map((v) => v.name)
      .filter((name) => !originalVolumes.has(name))
      .sort(),
  ).toEqual(['home-init', 'home-sidecar', 'vault-secrets']);
  return {
    init: env('vault-agent-init'),
    sidecar: env('vault-agent'),
    initConfig: decode(env('vault-agent-init')),
    sidecarConfig: decode(env('vault-agent')),
  };
}

async function waitFor(what: string, check: () => boolean, run: AgentRun, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Credentials issued for this file's role, and logins at this file's kubernetes auth mount. */
async function counts(): Promise<{ credentials: number; logins: number }> {
  const byRoute = (await stack.requestCounts()).byRoute;
  const login = `/v1/auth/${authMount}/login`;
  const logins = Object.entries(byRoute)
    .filter(([route]) => route.endsWith(` ${login}`))
    .reduce((sum, [, n]) => sum + n, 0);
  return { credentials: byRoute[`GET /v1/${stack.layout.databaseMount}/creds/${dbRole}`] ?? 0, logins };
}

async function podRoot(config: AgentConfig): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-handover-e2e-'));
  await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
  return root;
}

describe('init → sidecar handover without the agent cache', () => {
  let sidecar: AgentRun | undefined;
  afterEach(async () => {
    sidecar?.child.kill('SIGTERM');
    await sidecar?.exited;
    sidecar = undefined;
  });
  const secretAnnotations = (): Record<string, string> => ({
    'agent-inject-secret-db': `${stack.layout.databaseMount}/creds/${dbRole}`,
  });

  /** Runs init (the home volumes are per container, as in the pod: the sidecar's sink starts empty). */
  async function runInit(agents: Injected, root: string): Promise<{ db: string; username: string; initToken: string }> {
    const run = startAgent(['init'], agents.init, root);
    expect({ code: await run.exited, output: run.output() }).toMatchObject({ code: 0 });
    const db = fs.readFileSync(path.join(root, 'vault/secrets/db'), 'utf8');
    const username = /username: (\S+)/.exec(db)?.[1] ?? '';
    expect(username).not.toBe('');
    const initToken = fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8');
    fs.rmSync(path.join(root, 'home/vault/.vault-token'));
    expect(run.output()).not.toContain(initToken);
    return { db, username, initToken };
  }

  test('a default pod: one login and one database credential for init and sidecar; the file is gone once the sidecar started', async () => {
    const agents = injected(secretAnnotations());
    expect([agents.initConfig.handover, agents.sidecarConfig.handover, agents.sidecarConfig.cache]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const root = await podRoot(agents.sidecarConfig);
    const before = await counts();

    const { db, username, initToken } = await runInit(agents, root);
    const handover = path.join(root, 'vault/secrets', HANDOVER_FILE);
    const text = fs.readFileSync(handover, 'utf8');
    expect(fs.statSync(handover).mode & 0o777).toBe(0o600);
    expect(text).not.toContain(initToken);
    expect(text).not.toContain(username);
    expect(await counts()).toEqual({ credentials: before.credentials + 1, logins: before.logins + 1 });

    sidecar = startAgent(['sidecar'], agents.sidecar, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    expect(fs.existsSync(handover)).toBe(false);
    expect(fs.readFileSync(path.join(root, 'vault/secrets/db'), 'utf8')).toBe(db);
    expect(fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8')).toBe(initToken);
    expect(run.output()).toContain('handover from the init agent restored');
    expect(run.output()).toContain('vault token adopted from the init agent (no new login)');
    expect(await counts()).toEqual({ credentials: before.credentials + 1, logins: before.logins + 1 });
    expect(run.output()).not.toContain(initToken);
    expect(run.output()).not.toContain(username);
  });

  test('agent-handover "false": no file, and the sidecar logs in and issues its own credential (two of each)', async () => {
    const agents = injected({ ...secretAnnotations(), 'agent-handover': 'false' });
    expect([agents.initConfig.handover, agents.sidecarConfig.handover]).toEqual([false, false]);
    const root = await podRoot(agents.sidecarConfig);
    const before = await counts();
    const { username } = await runInit(agents, root);
    expect(fs.readdirSync(path.join(root, 'vault/secrets'))).toEqual(['db']);

    sidecar = startAgent(['sidecar'], agents.sidecar, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    expect(/username: (\S+)/.exec(fs.readFileSync(path.join(root, 'vault/secrets/db'), 'utf8'))?.[1]).not.toBe(
      username,
    );
    expect(await counts()).toEqual({ credentials: before.credentials + 2, logins: before.logins + 2 });
  });

  test('the app unwraps the key first: the sidecar finds it used, logs in itself and starts (no crash)', async () => {
    const agents = injected(secretAnnotations());
    const root = await podRoot(agents.sidecarConfig);
    const before = await counts();
    const { initToken } = await runInit(agents, root);
    const handover = path.join(root, 'vault/secrets', HANDOVER_FILE);
    // What an app sharing /vault/secrets can do: read the file and spend the single-use wrapping token.
    const { wrappedKey } = JSON.parse(fs.readFileSync(handover, 'utf8')) as { wrappedKey: string };
    const unwrapped = await fetch(`${stack.vaultAddr}/v1/sys/wrapping/unwrap`, {
      method: 'POST',
      headers: { 'X-Vault-Token': wrappedKey },
    });
    expect(unwrapped.status).toBe(200);

    sidecar = startAgent(['sidecar'], agents.sidecar, root);
    const run = sidecar;
    await waitFor('the sidecar ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')), run);
    expect(fs.existsSync(handover)).toBe(false);
    expect(run.output()).toContain(
      'handover not restored; logging in afresh: cannot unwrap the handover key (already used or expired)',
    );
    expect(fs.readFileSync(path.join(root, 'home/vault/.vault-token'), 'utf8')).not.toBe(initToken);
    expect(await counts()).toEqual({ credentials: before.credentials + 2, logins: before.logins + 2 });
    expect(run.output()).not.toContain(wrappedKey);
    expect(run.output()).not.toContain(initToken);
  });
});
