// Every kind reads from the informers' caches (issue 11, item 3): a reconcile of a VaultDynamicSecret,
// a VaultPKISecret (both with a transformationRef) and a VaultConnection sends no GET to the API server
// for its object, its destination Secret or its SecretTransformation. Counted by the real
// kube-apiserver's own apiserver_request_total; the operator package's tests run one file at a time, and
// this test itself only lists while counting.
import https from 'node:https';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createMetricsRegistry } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { GROUP, VERSION } from '../src/api/common.ts';
import { installCrds } from '../src/install-crds.ts';
import type { RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { connectAndStartOperator, decode, inNamespace, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('caches');
const { create, readSecret } = inNamespace(custom, core, namespace);
const metrics = createMetricsRegistry();
let operator: RunningOperator;

/** The API server's GETs of one resource so far (every namespace; `subresource` empty: the object itself). */
async function apiServerGets(resource: string): Promise<number> {
  const options: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    const request = https.get(
      `${kubeConfig.getCurrentCluster()!.server}/metrics`,
      { ...options, timeout: 10_000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          response.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${response.statusCode}`)),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('/metrics timed out')));
    request.on('error', reject);
  });
  return text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('apiserver_request_total{') &&
        line.includes(`resource="${resource}"`) &&
        line.includes('verb="GET"') &&
        line.includes('subresource=""'),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/** A counter of the operator's registry, summed over its series. */
async function counter(name: string): Promise<number> {
  const text = await metrics.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

const touch = (plural: string, name: string, value: string) =>
  custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural, name, body: { metadata: { labels: { touched: value } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(
    namespace,
    `
path "${layout.databaseMount}/creds/${namespace}" { capabilities = ["read"] }
path "${layout.pkiMount}/issue/${layout.pkiRole}" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(`${layout.databaseMount}/roles/${namespace}`, {
    db_name: layout.databaseConnection,
    default_ttl: '1h',
    max_ttl: '2h',
    creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
  });
  operator = await connectAndStartOperator(stack, namespace, create, 'operator-caches-e2e', { metrics });
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('reconciles of dynamic, PKI and connection objects read their object, Secret and SecretTransformation from the caches', async () => {
  await create('secrettransformations', 'SecretTransformation', 'shape', {
    templates: { note: { text: 'issued for {{ .Annotations.team }}' } },
  });
  const transformation = { transformationRefs: [{ name: 'shape' }] };
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'vaultdynamicsecrets',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VaultDynamicSecret',
      metadata: { name: 'db', annotations: { team: 'payments' } },
      spec: {
        vaultAuthRef: 'auth',
        mount: layout.databaseMount,
        path: `creds/${namespace}`,
        destination: { name: 'db', create: true, transformation },
      },
    },
  });
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'vaultpkisecrets',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VaultPKISecret',
      metadata: { name: 'tls', annotations: { team: 'payments' } },
      spec: {
        vaultAuthRef: 'auth',
        mount: layout.pkiMount,
        role: layout.pkiRole,
        commonName: `cached.${layout.pkiDomain}`,
        ttl: '1h',
        destination: { name: 'tls', create: true, transformation },
      },
    },
  });
  const db = await waitFor('the database Secret', () => readSecret('db'), 30_000);
  const tls = await waitFor('the certificate Secret', () => readSecret('tls'), 30_000);
  expect(decode(db, 'note')).toBe('issued for payments');
  expect(decode(tls, 'note')).toBe('issued for payments');
  // Settle: the first syncs' status writes are back through the informers before counting starts.
  await new Promise((resolve) => setTimeout(resolve, 2000));

  const before = {
    dynamic: await apiServerGets('vaultdynamicsecrets'),
    pki: await apiServerGets('vaultpkisecrets'),
    connections: await apiServerGets('vaultconnections'),
    secrets: await apiServerGets('secrets'),
    transformations: await apiServerGets('secrettransformations'),
  };
  const reconciled = {
    dynamic: await counter('vaultbridge_operator_dynamic_reconciles_total'),
    pki: await counter('vaultbridge_operator_pki_reconciles_total'),
  };
  // A label change wakes each object (not a spec change: nothing is re-issued); three rounds each.
  for (const round of ['1', '2', '3']) {
    await touch('vaultdynamicsecrets', 'db', round);
    await touch('vaultpkisecrets', 'tls', round);
    await touch('vaultconnections', 'vault', round);
    await waitFor(
      `round ${round} reconciled`,
      async () =>
        (await counter('vaultbridge_operator_dynamic_reconciles_total')) >= reconciled.dynamic + Number(round) &&
        (await counter('vaultbridge_operator_pki_reconciles_total')) >= reconciled.pki + Number(round),
    );
  }
  // The VaultConnection's checks have no counter: give them the time the others took, and more.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = {
    dynamic: await apiServerGets('vaultdynamicsecrets'),
    pki: await apiServerGets('vaultpkisecrets'),
    connections: await apiServerGets('vaultconnections'),
    secrets: await apiServerGets('secrets'),
    transformations: await apiServerGets('secrettransformations'),
  };
  expect(after).toEqual(before);
  // Nothing was re-issued by the wake-ups: the same credentials and certificate.
  expect(decode((await readSecret('db'))!, 'password')).toBe(decode(db, 'password'));
  expect(decode((await readSecret('tls'))!, 'serial_number')).toBe(decode(tls, 'serial_number'));
});
