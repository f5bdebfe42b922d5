// The operator as a confused deputy, on the real stack: a tenant who may create VaultConnections and
// VaultAuths in its namespace must not make the operator mint a token the API server accepts, nor send
// tokens to an address the cluster admin did not allow.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi, WellKnownApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('deputy');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator;
// Where an attacker would collect tokens: it records every request it gets.
const collected: http.IncomingHttpHeaders[] = [];
const collector = http.createServer((req, res) => {
  collected.push(req.headers);
  res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
});

const ready = async (name: string) => {
  const object = await objects.read<VaultStaticSecret>('vaultstaticsecrets', name);
  return object.status?.conditions?.find((item) => item.type === 'Ready');
};

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpAppRole(stack, namespace, vaultPath, { password: 'p' });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  await objects.create('vaultconnections', 'VaultConnection', 'vault', { address: stack.vaultAddr });
  await objects.create('vaultconnections', 'VaultConnection', 'elsewhere', {
    address: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
  });
  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'deputy-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    allowedVaultAddresses: [stack.vaultAddr],
  });
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

test('audiences left empty are ["vault"], and a Vault role with audience "vault" logs in', async () => {
  await objects.create('vaultauths', 'VaultAuth', 'default-audience', {
    vaultConnectionRef: 'vault',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app' },
  });
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'default-audience', {
    vaultAuthRef: 'default-audience',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'default-audience', create: true },
  });
  expect(decode(await waitFor('the Secret', () => objects.readSecret('default-audience')), 'password')).toBe('p');
});

test("the API server's own audience (its issuer) is refused naming the field, and nothing is synced", async () => {
  // Typed as a string, answered as the parsed document.
  const answer: unknown = await kubeConfig.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration();
  const { issuer } = (typeof answer === 'string' ? JSON.parse(answer) : answer) as { issuer: string };
  expect(issuer).toMatch(/^https:\/\//);
  for (const [name, audience] of [
    ['issuer-audience', issuer],
    ['well-known-audience', 'https://kubernetes.default.svc'],
  ] as const) {
    await objects.create('vaultauths', 'VaultAuth', name, {
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: stack.layout.kubernetesAuthMount,
      kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault', audience] },
    });
    await objects.create('vaultstaticsecrets', 'VaultStaticSecret', name, {
      vaultAuthRef: name,
      mount: 'secret',
      path: vaultPath,
      type: 'kv-v2',
      refreshAfter: '1h',
      destination: { name, create: true },
    });
    const condition = await waitFor(`Ready=False on ${name}`, async () => {
      const found = await ready(name);
      return found?.status === 'False' && found;
    });
    expect(condition.reason).toBe('InvalidVaultAuth');
    expect(condition.message).toContain(
      `VaultAuth ${namespace}/${name} spec.kubernetes.audiences: "${audience}" is an audience of the Kubernetes API server`,
    );
    expect(await objects.readSecret(name)).toBeUndefined();
  }
});

test("a VaultConnection outside the admin's allow-list is refused before anything is sent to it", async () => {
  await objects.create('vaultauths', 'VaultAuth', 'elsewhere', {
    vaultConnectionRef: 'elsewhere',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app' },
  });
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'elsewhere', {
    vaultAuthRef: 'elsewhere',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'elsewhere', create: true },
  });
  const condition = await waitFor('Ready=False', async () => {
    const found = await ready('elsewhere');
    return found?.status === 'False' && found;
  });
  expect(condition.reason).toBe('VaultAddressNotAllowed');
  expect(condition.message).toContain(`VaultConnection ${namespace}/elsewhere spec.address: "http://127.0.0.1:`);
  expect(condition.message).toContain(
    `is not among the Vault addresses the operator is allowed to use (${stack.vaultAddr})`,
  );
  // The VaultConnection's own status says so too.
  const connection = await waitFor('the VaultConnection status', async () => {
    const object = await objects.read<{ status?: { conditions?: { type: string; status: string; reason: string }[] } }>(
      'vaultconnections',
      'elsewhere',
    );
    const found = object.status?.conditions?.find((item) => item.type === 'Ready');
    return found?.status === 'False' && found;
  });
  expect(connection.reason).toBe('VaultAddressNotAllowed');
  expect(collected).toEqual([]);
  expect(await objects.readSecret('elsewhere')).toBeUndefined();
});
