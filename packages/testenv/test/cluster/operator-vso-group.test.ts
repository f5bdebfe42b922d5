// VSO group mode in real pods (issue 11, item 6): the chart installed with operator.serveVsoApiGroup=true
// runs the operator pod serving `secrets.hashicorp.com/v1beta1`; the manifests of VSO's Vault tutorial
// (VaultConnection, VaultAuth `static-auth`, VaultStaticSecret `vault-kv-app` into `secretkv` with
// rolloutRestartTargets) reach a Deployment that reads the Secret, and a rotation in Vault rolls it out.
// The cluster has no VSO: VSO's CRDs are stood in for by the chart's CRDs under VSO's group (what VSO's
// own CRDs hold after `helm uninstall` is the same objects). The chart is put back as it was afterwards.
import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  appNamespace,
  chartNamespace,
  clusterStack,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from './support.ts';
import { vsoGroup, vsoPlural, vsoTutorialManifests, vsoVersion } from '../../src/vso-manifests.ts';

const env: ClusterStack = clusterStack();
const crdDirectory = path.resolve(import.meta.dirname, '../../../../charts/vaultbridge/charts/operator/crds');

/** The chart's CRDs, renamed into VSO's group. */
async function installVsoGroupCrds(): Promise<string[]> {
  const extensions = env.stack.kube.config.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of fs.readdirSync(crdDirectory).filter((name) => name.endsWith('.yaml'))) {
    const text = fs.readFileSync(path.join(crdDirectory, file), 'utf8').replaceAll('secrets.vaultbridge.dev', vsoGroup);
    for (const document of parseAllDocuments(text)) {
      const body = document.toJS() as k8s.V1CustomResourceDefinition;
      const name = body.metadata!.name!;
      names.push(name);
      const existing = await extensions.readCustomResourceDefinition({ name }).catch(() => undefined);
      if (existing)
        await extensions.replaceCustomResourceDefinition({
          name,
          body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } },
        });
      else await extensions.createCustomResourceDefinition({ body });
    }
  }
  for (const name of names)
    await waitFor(env, 'default', `CRD ${name} established`, async () => {
      const crd = await extensions.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
    });
  return names;
}

let vsoGroupCrds: string[] = [];

beforeAll(async () => {
  vsoGroupCrds = await installVsoGroupCrds();
  await installChart(env, ['operator.serveVsoApiGroup=true']);
});

afterAll(async () => {
  // The other files of the tier expect the operator in our group, and a cluster without VSO's group.
  await installChart(env);
  const extensions = env.stack.kube.config.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of vsoGroupCrds) await extensions.deleteCustomResourceDefinition({ name });
});

it("VSO's tutorial manifests reach a Deployment through the operator pod, and a rotation rolls it out", async () => {
  // The operator pods run in VSO group mode (the chart passed the flag; the old pod is gone).
  const operatorPods = await waitFor(env, chartNamespace, 'only VSO-group operator pods, ready', async () => {
    const pods = await env.stack.kube.core.listNamespacedPod({
      namespace: chartNamespace,
      labelSelector: 'app.kubernetes.io/name=vaultbridge-operator',
    });
    const all = pods.items.filter((pod) => !pod.metadata?.deletionTimestamp);
    const vso = all.filter((pod) => pod.spec?.containers[0]?.args?.includes('--serve-vso-api-group'));
    const ready = vso.filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return all.length > 0 && vso.length === all.length && ready.length > 0 ? vso : undefined;
  });
  expect(operatorPods.length).toBeGreaterThan(0);

  const namespace = await appNamespace(env, 'vso');
  const kvPath = `webapp/${namespace}/config`;
  await env.stack.vaultAdmin.write(`secret/data/${kvPath}`, { data: { username: 'static-user', password: 'first' } });
  const role = `${namespace}-app`;
  await env.stack.writePolicy(role, `path "secret/data/${kvPath}" { capabilities = ["read"] }`);
  await env.stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
  });

  await env.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            serviceAccountName: 'app',
            containers: [
              {
                ...printingContainer(env.cluster.images.injector, 'echo "password=$PASSWORD"'),
                env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'secretkv', key: 'password' } } }],
              },
            ],
          },
        },
      },
    },
  });
  // VSO's tutorial (src/vso-manifests.ts; its addresses, mount and role are this cluster's, refreshAfter
  // short for the test).
  const manifests = vsoTutorialManifests({
    vaultAddress: env.cluster.vaultAddrForPods,
    authMount: env.stack.layout.kubernetesAuthMount,
    role,
    serviceAccount: 'app',
    kvMount: 'secret',
    kvPath,
    refreshAfter: '2s',
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
  });
  for (const body of manifests)
    await env.custom.createNamespacedCustomObject({
      group: vsoGroup,
      version: vsoVersion,
      namespace,
      plural: vsoPlural(body.kind),
      body,
    });

  const [first] = await waitForPodsReady(env, namespace, 'app=web');
  const firstPod = first!.metadata!.name!;
  await waitFor(env, namespace, 'the app seeing the first password', async () =>
    lastPrint(await podLog(env, namespace, firstPod, 'app')) === 'password=first\n' ? true : undefined,
  );
  const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name: 'secretkv' });
  expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({
    apiVersion: 'secrets.hashicorp.com/v1beta1',
    kind: 'VaultStaticSecret',
    name: 'vault-kv-app',
  });

  await env.stack.vaultAdmin.write(`secret/data/${kvPath}`, { data: { username: 'static-user', password: 'second' } });
  const rolled = await waitFor(env, namespace, 'a new pod seeing the rotated password', async () => {
    for (const pod of (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items) {
      const name = pod.metadata!.name!;
      if (name === firstPod || pod.status?.phase !== 'Running') continue;
      if (lastPrint(await podLog(env, namespace, name, 'app')) === 'password=second\n') return pod;
    }
    return undefined;
  });
  expect(rolled.metadata?.name).not.toBe(firstPod);
  const deployment = await env.apps.readNamespacedDeployment({ namespace, name: 'web' });
  expect(
    Object.keys(deployment.spec?.template.metadata?.annotations ?? {}).some((key) => /restartedAt/.test(key)),
  ).toBe(true);
  // Status as VSO's tools read it, written by the operator pod under VSO's group.
  const vss = (await env.custom.getNamespacedCustomObject({
    group: vsoGroup,
    version: vsoVersion,
    namespace,
    plural: 'vaultstaticsecrets',
    name: 'vault-kv-app',
  })) as { status?: { secretMAC?: string; conditions?: Array<{ type: string; status: string }> } };
  expect(vss.status?.secretMAC).toBeTruthy();
  expect(vss.status?.conditions?.find((c) => c.type === 'SecretSynced')?.status).toBe('True');
});
