// Issue 11 (CSI) and 12 (CSI) on the real stack, through the provider's socket: every new pod proves
// its own JWT with a Vault login; the provider's own TokenRequest is bound to the pod, has the
// configured audience and goes only to allowed addresses; LIST; YAML scalars as strings; the whole
// MountRequest validated; Vault's error text kept out of the driver's error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { loadProviderService, ProviderServer, withheldVaultText } from '../src/index.ts';
import { createAppPod } from './support/app-pod.ts';

const stack = sharedStack();
const { layout } = stack;

interface MountResponse {
  object_version: Array<{ id: string; version: string }>;
  files: Array<{ path: string; mode: number; contents: Buffer }>;
}
type Client = grpc.Client & {
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

const namespace = stack.uniqueName('csi-pods');
const serviceAccount = 'api';
const authMount = stack.uniqueName('k8s-csi-pods');
const role = stack.uniqueName('csi-pods');
const appPath = stack.uniqueName('csi-pods-app');
let dir: string;
const servers: ProviderServer[] = [];
const clients: Client[] = [];
const logLines: string[] = [];

async function startProvider(name: string, options: { allowedVaultAddresses?: string[] } = {}): Promise<Client> {
  const server = new ProviderServer({
    logger: createLogger({
      name: `csi-pods-${name}`,
      level: 'debug',
      destination: { write: (line: string) => logLines.push(line) },
    }),
    flags: {
      vaultAddr: stack.vaultAddr,
      vaultMount: 'kubernetes',
      tls: {},
      ...(options.allowedVaultAddresses ? { allowedVaultAddresses: options.allowedVaultAddresses } : {}),
    },
    kubeConfig: stack.kube.config,
    env: {},
  });
  const socketPath = path.join(dir, name, 'vault.sock');
  await server.listen(socketPath);
  servers.push(server);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  const client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Client;
  clients.push(client);
  return client;
}

let provider: Client;

beforeAll(async () => {
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, serviceAccount);
  await stack.enableKubernetesAuth(authMount);
  await stack.writePolicy(
    role,
    `
path "${layout.kvV2Mount}/data/${appPath}" { capabilities = ["read"] }
path "${layout.kvV2Mount}/metadata/${appPath}" { capabilities = ["list"] }
`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: [serviceAccount],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
    mount: authMount,
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}`, {
    data: { username: 'pod-user', 2024: 'year-key' },
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}/one`, { data: { a: '1' } });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}/two`, { data: { b: '2' } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-pods-'));
  provider = await startProvider('default');
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => server.close(1000)));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function kubeletTokens(): Promise<string> {
  const { token, expiresAt } = await stack.requestToken(namespace, serviceAccount, { audiences: ['vault'] });
  return JSON.stringify({ vault: { token, expirationTimestamp: expiresAt.toISOString() } });
}

const usernameObject = `- objectName: username\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`;

function attributes(pod: { uid: string; name?: string }, objects: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({
    roleName: role,
    vaultKubernetesMountPath: authMount,
    objects,
    'csi.storage.k8s.io/pod.name': pod.name ?? `pod-${pod.uid.slice(-4)}`,
    'csi.storage.k8s.io/pod.namespace': namespace,
    'csi.storage.k8s.io/pod.uid': pod.uid,
    'csi.storage.k8s.io/serviceAccount.name': serviceAccount,
    ...extra,
  });
}

function mount(
  client: Client,
  attrs: string,
  fields: { targetPath?: string; permission?: string; secrets?: string } = {},
): Promise<MountResponse> {
  return new Promise((resolve, reject) => {
    client.Mount(
      {
        attributes: attrs,
        secrets: fields.secrets ?? 'null',
        target_path: fields.targetPath ?? path.join(dir, 'target'),
        permission: fields.permission ?? '420',
        current_object_version: [],
      },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

function refusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => {
      throw new Error('the mount was served; expected a refusal');
    },
    (error: grpc.ServiceError) => error,
  );
}

const text = (response: MountResponse, name: string): string | undefined => {
  const file = response.files.find((entry) => entry.path === name);
  return file ? Buffer.from(file.contents).toString('utf8') : undefined;
};

async function logins<T>(work: () => Promise<T>): Promise<{ result: T; logins: number }> {
  const route = `POST /v1/auth/${authMount}/login`;
  const before = (await stack.requestCounts()).byRoute[route] ?? 0;
  const result = await work();
  return { result, logins: ((await stack.requestCounts()).byRoute[route] ?? 0) - before };
}

const uid = (n: number) => `7a1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('every new pod proves its own JWT', () => {
  it('a pod logs in once; its rotation polls reuse its token; a new pod of the same account with a garbage JWT is refused', async () => {
    const first = await logins(async () =>
      mount(
        provider,
        attributes({ uid: uid(1) }, usernameObject, {
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
      ),
    );
    expect(first.logins).toBe(1);
    expect(text(first.result, 'username')).toBe('pod-user');

    const poll = await logins(async () =>
      mount(
        provider,
        attributes({ uid: uid(1) }, usernameObject, {
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
      ),
    );
    expect(poll.logins).toBe(0);

    const garbage = JSON.stringify({
      vault: { token: 'not-a-jwt', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const refused = await logins(() =>
      refusal(
        mount(
          provider,
          attributes({ uid: uid(2) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': garbage }),
        ),
      ),
    );
    expect(refused.logins).toBe(1);
    expect(refused.result.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(refused.result.details).toContain(`Kubernetes login to Vault as role "${role}"`);
  });

  it("a mount naming another service account never rides on a pod's token, even with the same pod uid", async () => {
    await stack.createServiceAccount(namespace, 'intruder');
    const tokens = await kubeletTokens();
    expect(
      text(
        await mount(
          provider,
          attributes({ uid: uid(5) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
        ),
        'username',
      ),
    ).toBe('pod-user');
    const garbage = JSON.stringify({
      vault: { token: 'not-a-jwt', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const other = await logins(() =>
      refusal(
        mount(
          provider,
          attributes({ uid: uid(5) }, usernameObject, {
            'csi.storage.k8s.io/serviceAccount.name': 'intruder',
            'csi.storage.k8s.io/serviceAccount.tokens': garbage,
          }),
        ),
      ),
    );
    expect(other.logins).toBe(1);
    expect(other.result.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('concurrent mounts of one new pod share one login; ten new pods make ten', async () => {
    const tokens = await kubeletTokens();
    const one = await logins(() =>
      Promise.all(
        Array.from({ length: 5 }, () =>
          mount(
            provider,
            attributes({ uid: uid(10) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
          ),
        ),
      ),
    );
    expect(one.logins).toBe(1);
    const ten = await logins(() =>
      Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          mount(
            provider,
            attributes({ uid: uid(20 + index) }, usernameObject, {
              'csi.storage.k8s.io/serviceAccount.tokens': tokens,
            }),
          ),
        ),
      ),
    );
    expect(ten.logins).toBe(10);
    expect(ten.result.map((response) => text(response, 'username'))).toEqual(
      Array.from({ length: 10 }, () => 'pod-user'),
    );
  });

  it('deleting the Vault role stops new pods at once, while a pod already mounted keeps its rotation polls', async () => {
    const otherRole = stack.uniqueName('csi-pods-revoked');
    await stack.writeKubernetesRole(otherRole, {
      serviceAccounts: [serviceAccount],
      namespaces: [namespace],
      policies: [role],
      audience: 'vault',
      mount: authMount,
    });
    const withRole = (podUid: string, tokens: string) =>
      attributes({ uid: podUid }, usernameObject, {
        roleName: otherRole,
        'csi.storage.k8s.io/serviceAccount.tokens': tokens,
      });
    expect(text(await mount(provider, withRole(uid(40), await kubeletTokens())), 'username')).toBe('pod-user');
    await stack.vaultAdmin.delete(`auth/${authMount}/role/${otherRole}`);
    const refused = await refusal(mount(provider, withRole(uid(41), await kubeletTokens())));
    expect(refused.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(text(await mount(provider, withRole(uid(40), await kubeletTokens())), 'username')).toBe('pod-user');
  });
});

describe('a pod whose cached Vault token was revoked', () => {
  it('logs in again once on its next poll (403, lookup-self says the token is gone) and is served', async () => {
    const tokens = await kubeletTokens();
    expect(
      text(
        await mount(
          provider,
          attributes({ uid: uid(90) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
        ),
        'username',
      ),
    ).toBe('pod-user');
    // Every token this auth mount issued, the pod's included.
    await stack.vaultAdmin.request('PUT', `sys/leases/revoke-prefix/auth/${authMount}/login`);
    const lookups = 'GET /v1/auth/token/lookup-self';
    const before = (await stack.requestCounts()).byRoute[lookups] ?? 0;
    const poll = await logins(() =>
      mount(
        provider,
        attributes({ uid: uid(90) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
      ),
    );
    expect(poll.logins).toBe(1);
    expect(text(poll.result, 'username')).toBe('pod-user');
    expect((await stack.requestCounts()).byRoute[lookups]).toBe(before + 1);
  });

  it("a 403 that is the policy's answer stands (lookup-self says the token lives): no new login", async () => {
    const forbidden = `- objectName: x\n  secretPath: ${layout.kvV2Mount}/data/${stack.uniqueName('csi-pods-denied')}\n`;
    const tokens = await kubeletTokens();
    await mount(
      provider,
      attributes({ uid: uid(91) }, usernameObject, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
    );
    const denied = await logins(() =>
      refusal(
        mount(
          provider,
          attributes({ uid: uid(91) }, forbidden, { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
        ),
      ),
    );
    expect(denied.result.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.logins).toBe(0);
  });
});

describe("the provider's own TokenRequest (the driver sent no token)", () => {
  const podName = 'no-token-pod';
  let podUid = '';

  beforeAll(async () => {
    podUid = await createAppPod(stack, namespace, podName, serviceAccount);
  });

  it('is bound to the pod and has the configured audience: a login with it works, and a pod uid that does not match is refused by the API server', async () => {
    const served = await logins(() => mount(provider, attributes({ uid: podUid, name: podName }, usernameObject)));
    expect(served.logins).toBe(1);
    expect(text(served.result, 'username')).toBe('pod-user');
    const wrongUid = await refusal(mount(provider, attributes({ uid: uid(50), name: podName }, usernameObject)));
    expect(wrongUid.code).toBe(grpc.status.FAILED_PRECONDITION);
    // The API server checks the bound object reference against the pod: the token is bound to it.
    expect(wrongUid.details).toMatch(
      /TokenRequest for service account .* failed .*the UID in the bound object reference \(7a1e0000-0000-4000-8000-000000000050\) does not match/,
    );
  });

  it('is never sent to a Vault address the admin did not allow; with the address allowed, it is', async () => {
    const elsewhere = { vaultAddress: stack.handle.vault.directAddr };
    const refused = await refusal(
      mount(provider, attributes({ uid: podUid, name: podName }, usernameObject, elsewhere)),
    );
    expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused.details).toContain(`${stack.handle.vault.directAddr} is not one of them`);
    const allowing = await startProvider('allowing', { allowedVaultAddresses: [stack.handle.vault.directAddr] });
    expect(
      text(await mount(allowing, attributes({ uid: podUid, name: podName }, usernameObject, elsewhere)), 'username'),
    ).toBe('pod-user');
  });

  it('with an allow-list, a SecretProviderClass naming another address is refused before any token leaves', async () => {
    const strict = await startProvider('strict', { allowedVaultAddresses: ['https://vault.example.internal:8200'] });
    const refused = await refusal(
      mount(
        strict,
        attributes({ uid: uid(60) }, usernameObject, {
          vaultAddress: stack.handle.vault.directAddr,
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
      ),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toContain('vaultAddress:');
    expect(refused.details).toContain('--allowed-vault-addresses');
    // The default address stays allowed.
    expect(
      text(
        await mount(
          strict,
          attributes({ uid: uid(61) }, usernameObject, {
            'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
          }),
        ),
        'username',
      ),
    ).toBe('pod-user');
  });
});

describe('SecretProviderClass and MountRequest as upstream reads them', () => {
  it('method LIST reaches Vault as LIST and writes the key list', async () => {
    const objects = `- objectName: keys\n  secretPath: ${layout.kvV2Mount}/metadata/${appPath}\n  method: LIST\n  secretKey: keys\n`;
    const before = (await stack.requestCounts()).byRoute[`LIST /v1/${layout.kvV2Mount}/metadata/${appPath}`] ?? 0;
    const response = await mount(
      provider,
      attributes({ uid: uid(70) }, objects, { 'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens() }),
    );
    expect(text(response, 'keys')).toBe('["one","two"]');
    expect((await stack.requestCounts()).byRoute[`LIST /v1/${layout.kvV2Mount}/metadata/${appPath}`]).toBe(before + 1);
  });

  it('YAML integers in objectName and secretKey are read as their text', async () => {
    const objects = `- objectName: 1234\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: 2024\n`;
    const response = await mount(
      provider,
      attributes({ uid: uid(71) }, objects, { 'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens() }),
    );
    expect(text(response, '1234')).toBe('year-key');
  });

  it.each([
    ['an empty target path', { targetPath: '' }, 'targetPath: missing target path field'],
    ['an empty permission', { permission: '' }, 'permission:'],
    ['secrets that are not JSON', { secrets: 'x' }, 'secrets:'],
  ])('a MountRequest with %s is refused naming the field', async (_name, fields, message) => {
    const refused = await refusal(
      mount(
        provider,
        attributes({ uid: uid(72) }, usernameObject, {
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
        fields,
      ),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toContain(message);
  });

  it.each(['.', 'a/'])('objectName %j is refused', async (objectName) => {
    const refused = await refusal(
      mount(
        provider,
        attributes(
          { uid: uid(73) },
          `- objectName: "${objectName}"\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n`,
          { 'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens() },
        ),
      ),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toContain('objects[0].objectName');
  });

  it("Vault's errors[] text stays out of the driver's error (it is in the provider log)", async () => {
    const forbidden = `${layout.kvV2Mount}/data/${stack.uniqueName('csi-pods-forbidden')}`;
    logLines.length = 0;
    const refused = await refusal(
      mount(
        provider,
        attributes({ uid: uid(74) }, `- objectName: x\n  secretPath: ${forbidden}\n`, {
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
      ),
    );
    expect(refused.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(refused.details).toContain(`couldn't read secret "x" from ${forbidden}`);
    expect(refused.details).toContain(withheldVaultText);
    expect(refused.details).not.toMatch(/permission denied/);
    expect(logLines.join('\n')).toMatch(/permission denied/);
  });
});

describe('a mount that would be too large', () => {
  it('150 objects naming one 3 MiB value are refused at the second object (RESOURCE_EXHAUSTED), not after building 450 MiB', async () => {
    const bigPath = stack.uniqueName('csi-pods-big');
    await stack.writePolicy(`${role}-big`, `path "${layout.kvV2Mount}/data/${bigPath}" { capabilities = ["read"] }`);
    await stack.writeKubernetesRole(`${role}-big`, {
      serviceAccounts: [serviceAccount],
      namespaces: [namespace],
      policies: [`${role}-big`],
      audience: 'vault',
      mount: authMount,
    });
    await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${bigPath}`, {
      data: { blob: 'x'.repeat(3 * 1024 * 1024) },
    });
    const objects = Array.from(
      { length: 150 },
      (_, index) => `- objectName: o${index}\n  secretPath: ${layout.kvV2Mount}/data/${bigPath}\n  secretKey: blob`,
    ).join('\n');
    const refused = await refusal(
      mount(
        provider,
        attributes({ uid: uid(80) }, objects, {
          roleName: `${role}-big`,
          'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
        }),
      ),
    );
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain('at object "o1"');
  });
});
