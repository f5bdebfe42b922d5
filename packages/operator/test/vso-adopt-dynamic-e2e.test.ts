// VSO group mode, switch-over without new credentials (issue 11, item 6): a VaultDynamicSecret VSO synced
// (its Secret, its lease from VSO's own Vault token, its status as VSO writes it, `secretMAC` keyed with
// VSO's HMAC key in a Secret shaped as VSO's `vso-cc-storage-hmac-key`) is taken over with zero new
// database credentials, counted at the stack's counting proxy. A twin whose MAC VSO's key does not
// verify gets new credentials (one request), so the check is what decides. The same for a VaultPKISecret:
// VSO's certificate is kept. Real kube-apiserver, Vault 1.13 and PostgreSQL; the operator in-process.
import { randomBytes, createHmac } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import { createLogger, goJsonString } from '@vaultbridge/core';
import { sharedStack, VaultAdmin } from '@vaultbridge/testenv';
import { VSO_API, type Condition } from '../src/api/common.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { VSO_HMAC_KEY_SECRET } from '../src/sync/vso-mac-key.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('vso-adopt');
// Where VSO ran: its HMAC key Secret stays there after `helm uninstall`.
const vsoNamespace = `${namespace}-vso`;
const role = namespace;
const credsRoute = `GET /v1/${layout.databaseMount}/creds/${role}`;
const credsRequests = async (): Promise<number> => (await stack.requestCounts()).byRoute[credsRoute] ?? 0;
let operator: RunningOperator | undefined;

/** VSO's MAC (helpers/hmac.go): HMAC-SHA256 over Go's json.Marshal of map[string][]byte, base64. Written out here on purpose, not taken from src/. */
function vsoMac(key: Buffer, base64Data: Record<string, string>): string {
  const message = `{${Object.keys(base64Data)
    .sort()
    .map((name) => `${goJsonString(name)}:${goJsonString(base64Data[name]!)}`)
    .join(',')}}`;
  return createHmac('sha256', key).update(message).digest('base64');
}

const vsoKey = randomBytes(16);

interface Vds {
  metadata: { uid: string; generation: number; resourceVersion: string; name: string };
  status?: {
    secretMAC?: string;
    lastRenewalTime?: number;
    secretLease?: { id: string; duration: number; renewable: boolean };
    vaultClientMeta?: { cacheKey?: string; id?: string };
    conditions?: Condition[];
  };
}

/** What VSO left for one VaultDynamicSecret: the object with VSO's status, its Secret with VSO's labels and owner. */
async function leftByVso(name: string, macKey: Buffer): Promise<{ username: string; leaseId: string }> {
  // VSO's own Vault token (VSO logs in once and keeps its token; the lease is that token's child).
  const login = await stack.vaultAdmin.write<{ auth: { client_token: string } }>('auth/token/create', {
    policies: [namespace],
    ttl: '2h',
  });
  const vso = new VaultAdmin(stack.vaultAdmin.addr, login.auth.client_token);
  const issued = await vso.read<{
    request_id: string;
    lease_id: string;
    lease_duration: number;
    renewable: boolean;
    data: Record<string, string>;
  }>(`${layout.databaseMount}/creds/${role}`);
  const plain = { ...issued.data, _raw: JSON.stringify(issued.data) };
  const data = Object.fromEntries(
    Object.entries(plain).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  const created = (await custom.createNamespacedCustomObject({
    ...VSO_API,
    namespace,
    plural: 'vaultdynamicsecrets',
    body: {
      apiVersion: `${VSO_API.group}/${VSO_API.version}`,
      kind: 'VaultDynamicSecret',
      metadata: { name },
      spec: {
        vaultAuthRef: 'auth',
        mount: layout.databaseMount,
        path: `creds/${role}`,
        destination: { create: true, name },
      },
    },
  })) as Vds;
  const now = Math.floor(Date.now() / 1000);
  await custom.replaceNamespacedCustomObjectStatus({
    ...VSO_API,
    namespace,
    plural: 'vaultdynamicsecrets',
    name,
    body: {
      ...created,
      status: {
        lastGeneration: created.metadata.generation,
        lastRenewalTime: now - 60,
        secretMAC: vsoMac(macKey, data),
        secretLease: {
          id: issued.lease_id,
          duration: issued.lease_duration,
          renewable: issued.renewable,
          requestID: issued.request_id,
        },
        vaultClientMeta: { cacheKey: 'kubernetes-5e2f0c1a9b7d3e4f6a8c02', id: '8a1f0e2d3c4b5a69' },
        lastRuntimePodUID: 'vso-pod-uid',
      },
    },
  });
  const secret: V1Secret = {
    metadata: {
      name,
      labels: {
        'app.kubernetes.io/component': 'secret-sync',
        'app.kubernetes.io/managed-by': 'hashicorp-vso',
        'app.kubernetes.io/name': 'vault-secrets-operator',
        'secrets.hashicorp.com/vso-ownerRefUID': created.metadata.uid,
      },
      ownerReferences: [
        { apiVersion: 'secrets.hashicorp.com/v1beta1', kind: 'VaultDynamicSecret', name, uid: created.metadata.uid },
      ],
    },
    data,
  };
  await core.createNamespacedSecret({ namespace, body: secret });
  return { username: issued.data.username!, leaseId: issued.lease_id };
}

const readVds = (name: string) =>
  custom.getNamespacedCustomObject({ ...VSO_API, namespace, plural: 'vaultdynamicsecrets', name }) as Promise<Vds>;

beforeAll(async () => {
  await installCrds(kubeConfig, undefined, { vsoGroup: true });
  await stack.createNamespace(namespace);
  await stack.createNamespace(vsoNamespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(
    namespace,
    `path "${layout.databaseMount}/creds/${role}" { capabilities = ["read"] }\npath "${layout.pkiMount}/issue/${layout.pkiRole}" { capabilities = ["update"] }`,
  );
  await stack.vaultAdmin.write(`${layout.databaseMount}/roles/${role}`, {
    db_name: layout.databaseConnection,
    default_ttl: '1h',
    max_ttl: '4h',
    creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
  });
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  // VSO's HMAC key Secret as VSO creates it (helpers/hmac.go): its labels, immutable, 16 bytes under `key`.
  await core.createNamespacedSecret({
    namespace: vsoNamespace,
    body: {
      metadata: {
        name: VSO_HMAC_KEY_SECRET,
        labels: {
          'app.kubernetes.io/name': 'vault-secrets-operator',
          'app.kubernetes.io/managed-by': 'hashicorp-vso',
          'app.kubernetes.io/component': 'client-cache-storage-verification',
        },
      },
      immutable: true,
      data: { key: vsoKey.toString('base64') },
    },
  });
  for (const [kind, plural, name, spec] of [
    ['VaultConnection', 'vaultconnections', 'vault', { address: stack.vaultAddr }],
    [
      'VaultAuth',
      'vaultauths',
      'auth',
      {
        vaultConnectionRef: 'vault',
        method: 'kubernetes',
        mount: layout.kubernetesAuthMount,
        kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
      },
    ],
  ] as const)
    await custom.createNamespacedCustomObject({
      ...VSO_API,
      namespace,
      plural,
      body: { apiVersion: `${VSO_API.group}/${VSO_API.version}`, kind, metadata: { name }, spec },
    });
});

afterAll(async () => {
  // Found by its labels: another run's key must not be there to make two.
  await core.deleteNamespacedSecret({ namespace: vsoNamespace, name: VSO_HMAC_KEY_SECRET }).catch(() => undefined);
  if (operator) await deleteSyncedObjects(custom, namespace, 10_000, VSO_API);
  await operator?.stop();
});

test("a VaultDynamicSecret VSO synced is taken over with its lease and zero new credentials; one VSO's key does not verify is re-issued", async () => {
  const adopted = await leftByVso('vso-db', vsoKey);
  // Its MAC made with another key (not VSO's, not ours): the Secret cannot be vouched for.
  const unverified = await leftByVso('vso-db-unverified', randomBytes(16));
  const before = await credsRequests();

  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'vso-adopt-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    serveVsoApiGroup: true,
  });

  const taken = await waitFor('vso-db adopted', async () => {
    const object = await readVds('vso-db');
    return object.status?.conditions?.find((c) => c.type === 'SecretSynced')?.reason === 'Adopted' && object;
  });
  const reissued = await waitFor(
    'vso-db-unverified re-issued',
    async () => {
      const secret = await core.readNamespacedSecret({ namespace, name: 'vso-db-unverified' });
      return decode(secret, 'username') !== unverified.username && secret;
    },
    30_000,
  );
  expect(decode(reissued, 'username')).toMatch(/^v-/);

  // Exactly one credential was issued: the unverified twin's. The adopted one kept VSO's.
  expect((await credsRequests()) - before).toBe(1);
  const secret = await core.readNamespacedSecret({ namespace, name: 'vso-db' });
  expect(decode(secret, 'username')).toBe(adopted.username);
  // Relabelled as ours (so drift is watched), same owner, same data.
  expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-operator');
  expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'VaultDynamicSecret', uid: taken.metadata.uid });
  // The same lease, renewed through this operator's token; status now carries our MAC and our client.
  expect(taken.status?.secretLease?.id).toBe(adopted.leaseId);
  expect(taken.status?.secretMAC).not.toBe(vsoMac(vsoKey, secret.data ?? {}));
  expect(taken.status?.vaultClientMeta?.id).not.toBe('8a1f0e2d3c4b5a69');
  expect(taken.status?.lastRenewalTime).toBeGreaterThan(Math.floor(Date.now() / 1000) - 60);
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vso-db' });
  expect(events.items.map((event) => event.reason)).toContain('SecretAdopted');
});

test('a VaultPKISecret VSO synced keeps its certificate: no request to issue one', async () => {
  const issueRequests = async (): Promise<number> =>
    Object.entries((await stack.requestCounts()).byRoute)
      .filter(([route]) => route.includes(`/${layout.pkiMount}/issue/${layout.pkiRole}`))
      .reduce((sum, [, count]) => sum + count, 0);
  // VSO left the object with its status long before this operator starts: the first test's one is stopped.
  await operator?.stop();
  operator = undefined;
  const before = await issueRequests();
  // VSO's certificate (issued with the root token, bypassing the counting proxy) and its Secret.
  const issued = await stack.vaultAdmin.write<{ data: Record<string, unknown> }>(
    `${layout.pkiMount}/issue/${layout.pkiRole}`,
    { common_name: `vso.${layout.pkiDomain}`, ttl: '1h' },
  );
  const fields = issued.data as { certificate: string; private_key: string; serial_number: string; expiration: number };
  const data = Object.fromEntries(
    Object.entries({
      certificate: fields.certificate,
      private_key: fields.private_key,
      serial_number: fields.serial_number,
      expiration: String(fields.expiration),
      _raw: JSON.stringify(issued.data),
    }).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  const created = (await custom.createNamespacedCustomObject({
    ...VSO_API,
    namespace,
    plural: 'vaultpkisecrets',
    body: {
      apiVersion: `${VSO_API.group}/${VSO_API.version}`,
      kind: 'VaultPKISecret',
      metadata: { name: 'vso-pki' },
      spec: {
        vaultAuthRef: 'auth',
        mount: layout.pkiMount,
        role: layout.pkiRole,
        commonName: `vso.${layout.pkiDomain}`,
        ttl: '1h',
        destination: { create: true, name: 'vso-pki' },
      },
    },
  })) as Vds;
  await custom.replaceNamespacedCustomObjectStatus({
    ...VSO_API,
    namespace,
    plural: 'vaultpkisecrets',
    name: 'vso-pki',
    body: {
      ...created,
      status: {
        lastGeneration: created.metadata.generation,
        serialNumber: fields.serial_number,
        expiration: fields.expiration,
        lastRotation: Math.floor(Date.now() / 1000) - 60,
        secretMAC: vsoMac(vsoKey, data),
        valid: true,
        error: '',
      },
    },
  });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: 'vso-pki',
        labels: {
          'app.kubernetes.io/managed-by': 'hashicorp-vso',
          'secrets.hashicorp.com/vso-ownerRefUID': created.metadata.uid,
        },
        ownerReferences: [
          {
            apiVersion: 'secrets.hashicorp.com/v1beta1',
            kind: 'VaultPKISecret',
            name: 'vso-pki',
            uid: created.metadata.uid,
          },
        ],
      },
      data,
    },
  });
  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'vso-adopt-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    serveVsoApiGroup: true,
  });
  const taken = await waitFor('vso-pki adopted', async () => {
    const object = (await custom.getNamespacedCustomObject({
      ...VSO_API,
      namespace,
      plural: 'vaultpkisecrets',
      name: 'vso-pki',
    })) as Vds & { status?: { serialNumber?: string } };
    return object.status?.conditions?.find((c) => c.type === 'SecretSynced')?.reason === 'Adopted' && object;
  });
  expect(await issueRequests()).toBe(before);
  expect(taken.status?.serialNumber).toBe(fields.serial_number);
  const secret = await core.readNamespacedSecret({ namespace, name: 'vso-pki' });
  expect(decode(secret, 'serial_number')).toBe(fields.serial_number);
  expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-operator');
});
