// A VaultAuth's `headers` reach Vault on every request of its client, the login included, as VSO sends
// them: the VaultConnection points at a forwarder in front of the real Vault that records what it passes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('headers');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
const vault = new URL(stack.vaultAddr);
let operator: RunningOperator;

/** Each request the forwarder passed to Vault: method, path and the two headers under test. */
const seen: { method: string; path: string; team?: string; tier?: string }[] = [];
const forwarder = http.createServer((request, response) => {
  seen.push({
    method: request.method ?? '',
    path: request.url ?? '',
    team: request.headers['x-team'] as string | undefined,
    tier: request.headers['x-tier'] as string | undefined,
  });
  const upstream = http.request(
    {
      host: vault.hostname,
      port: vault.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: vault.host },
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', () => response.writeHead(502).end());
  request.pipe(upstream);
});

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpAppRole(stack, namespace, vaultPath, { password: 'p' });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  await objects.create('vaultconnections', 'VaultConnection', 'forwarded', {
    address: `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`,
    headers: { 'X-Team': 'from-connection', 'X-Tier': 'gold' },
  });
  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'headers-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  });
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
  forwarder.closeAllConnections();
  await new Promise<void>((resolve) => forwarder.close(() => resolve()));
});

test("the login and the read carry the VaultAuth's headers, over the VaultConnection's of the same name", async () => {
  await objects.create('vaultauths', 'VaultAuth', 'with-headers', {
    vaultConnectionRef: 'forwarded',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app' },
    headers: { 'X-Team': 'blue' },
  });
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    vaultAuthRef: 'with-headers',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'app', create: true },
  });
  expect(decode(await waitFor('the Secret', () => objects.readSecret('app')), 'password')).toBe('p');

  const login = seen.find((entry) => entry.method === 'POST' && entry.path.endsWith('/login'));
  const read = seen.find((entry) => entry.method === 'GET' && entry.path.startsWith(`/v1/secret/data/${vaultPath}`));
  expect(login).toMatchObject({ team: 'blue', tier: 'gold' });
  expect(read).toMatchObject({ team: 'blue', tier: 'gold' });
});
