// VSO group mode and the VSO kinds that cannot work here (issue 11, item 6): HCPAuth and
// HCPVaultSecretsApp (HCP Vault Secrets, a SaaS) and CSISecrets (VSO's own CSI driver). Against the real
// kube-apiserver: with VSO's CRDs for them still installed (as `helm uninstall` leaves them) and objects
// shaped as VSO's docs write them, the operator starts, syncs what it serves, and puts a Warning Event
// on each unsupported object saying why and what to use instead. (`convert`: src/convert/convert-command.test.ts.)
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { VSO_API } from '../src/api/common.ts';
import { UNSUPPORTED_VSO_KINDS } from '../src/api/vso-unsupported.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
const namespace = stack.uniqueName('vso-unsupported');
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator | undefined;

// As VSO's docs write them (HCP Vault Secrets tutorial; the CSISecrets sample of VSO 1.4.1).
const unsupported = [
  {
    kind: 'HCPAuth',
    metadata: { name: 'default' },
    spec: { organizationID: 'org-id', projectID: 'project-id', servicePrincipal: { secretRef: 'vso-app-sp' } },
  },
  {
    kind: 'HCPVaultSecretsApp',
    metadata: { name: 'web-application' },
    spec: {
      appName: 'web-app',
      hcpAuthRef: 'default',
      refreshAfter: '1h',
      destination: { create: true, name: 'web-application' },
    },
  },
  {
    kind: 'CSISecrets',
    metadata: { name: 'csisecrets-sample' },
    spec: {
      sources: [{ kind: 'VaultStaticSecret', name: 'vault-kv-app' }],
      accessControl: { serviceAccountPattern: '^app$', namespacePatterns: [namespace] },
    },
  },
];

/** VSO's CRD for a kind it serves and we do not: only its names matter here (the schema keeps every field). */
async function installVsoCrd(kind: string, plural: string): Promise<void> {
  const name = `${plural}.${VSO_API.group}`;
  const existing = await extensions.readCustomResourceDefinition({ name }).catch(() => undefined);
  if (!existing)
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group: VSO_API.group,
          scope: 'Namespaced',
          names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
          versions: [
            {
              name: VSO_API.version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                    status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                  },
                },
              },
            },
          ],
        },
      },
    });
  await waitFor(`CRD ${name} established`, async () => {
    const crd = await extensions.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

beforeAll(async () => {
  await installCrds(kubeConfig, undefined, { vsoGroup: true });
  for (const row of UNSUPPORTED_VSO_KINDS) await installVsoCrd(row.kind, row.plural);
  await setUpAppRole(stack, namespace, vaultPath, { password: 'served' });
});

afterAll(async () => {
  for (const object of unsupported) {
    const row = UNSUPPORTED_VSO_KINDS.find((item) => item.kind === object.kind)!;
    await custom
      .deleteNamespacedCustomObject({ ...VSO_API, namespace, plural: row.plural, name: object.metadata.name })
      .catch(() => undefined);
  }
  if (operator) await deleteSyncedObjects(custom, namespace, 10_000, VSO_API);
  await operator?.stop();
});

test('objects of HCPAuth, HCPVaultSecretsApp and CSISecrets get a Warning Event with the reason and what to use instead; the rest syncs', async () => {
  for (const object of unsupported) {
    const row = UNSUPPORTED_VSO_KINDS.find((item) => item.kind === object.kind)!;
    await custom.createNamespacedCustomObject({
      ...VSO_API,
      namespace,
      plural: row.plural,
      body: { apiVersion: `${VSO_API.group}/${VSO_API.version}`, ...object },
    });
  }
  const create = (plural: string, kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      ...VSO_API,
      namespace,
      plural,
      body: { apiVersion: `${VSO_API.group}/${VSO_API.version}`, kind, metadata: { name }, spec },
    });
  await create('vaultconnections', 'VaultConnection', 'vault', { address: stack.vaultAddr });
  await create('vaultauths', 'VaultAuth', 'auth', {
    vaultConnectionRef: 'vault',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'vault-kv-app', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'secretkv', create: true },
  });

  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'vso-unsupported-e2e', level: 'error' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    serveVsoApiGroup: true,
  });

  for (const object of unsupported) {
    const events = await waitFor(`the UnsupportedKind Event on ${object.kind}`, async () => {
      const list = await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${object.metadata.name},reason=UnsupportedKind`,
      });
      const mine = list.items.filter((event) => event.involvedObject.kind === object.kind);
      return mine.length > 0 && mine;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      involvedObject: { apiVersion: 'secrets.hashicorp.com/v1beta1', kind: object.kind },
    });
    const message = events[0]!.message ?? '';
    expect(message).toContain(`${object.kind} is not supported by Vaultbridge`);
    expect(message).toContain('Use instead:');
    if (object.kind === 'CSISecrets') expect(message).toContain('Vaultbridge CSI provider');
    else expect(message).toContain('HCP Vault Secrets');
  }
  // Left alone: no Secret was made for the HCP app, and the served kinds sync as usual.
  expect(
    await core.readNamespacedSecret({ namespace, name: 'web-application' }).catch(() => undefined),
  ).toBeUndefined();
  const secret = await waitFor('secretkv synced', () =>
    core.readNamespacedSecret({ namespace, name: 'secretkv' }).catch(() => undefined),
  );
  expect(decode(secret, 'password')).toBe('served');
  expect(operator.ready()).toBe(true);
});
