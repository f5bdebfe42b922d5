// The webhook registered in the real API server (url client config over HTTPS): pods created through
// the API come back mutated exactly as the pure mutation says, denied pods are refused with the
// annotation named, and pods without the annotation are left alone. Bad HTTP input never hurts it.
import * as k8s from '@kubernetes/client-node';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { decide } from '../src/admission/decide.ts';
import type { InjectorDefaults } from '../src/annotations/defaults.ts';
import { parseServeFlags } from '../src/webhook/config.ts';
import { serveWebhook, type RunningWebhook } from '../src/webhook/serve.ts';
import { postReview, servingCertificateFiles } from './support/webhook.ts';

let stack: TestStack;
let webhook: RunningWebhook;
let caPem: string;
const defaults: InjectorDefaults = { vaultAddress: 'https://vault.vault.svc:8200' };

beforeAll(async () => {
  stack = sharedStack();
  const files = await servingCertificateFiles('webhook-e2e', 'injector');
  caPem = files.caPem;
  const config = parseServeFlags({
    listen: '127.0.0.1:0',
    logLevel: 'error',
    vaultAddress: defaults.vaultAddress,
    tlsCertFile: files.certFile,
    tlsKeyFile: files.keyFile,
  });
  webhook = await serveWebhook(config);
});

afterAll(async () => {
  await webhook?.close();
});

function podWith(name: string, annotations: Record<string, string>): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations },
    spec: {
      serviceAccountName: 'web',
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          volumeMounts: [
            { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
        },
      ],
      volumes: [
        {
          name: 'kube-api-access',
          projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] },
        },
      ],
    },
  };
}

const threeSecrets = {
  'vault.hashicorp.com/agent-inject': 'true',
  'vault.hashicorp.com/role': 'web',
  'vault.hashicorp.com/agent-inject-secret-db': 'database/creds/web',
  'vault.hashicorp.com/agent-inject-secret-api': 'secret/data/web/api',
  'vault.hashicorp.com/agent-inject-template-api': '{{ secret "data.key" }}',
  'vault.hashicorp.com/agent-inject-secret-tls': 'pki/issue/web',
};

describe.each([['v1'], ['v1beta1']])('registered with admissionReviewVersions [%s]', (version) => {
  let ns: string;
  let admission: k8s.AdmissionregistrationV1Api;

  beforeAll(async () => {
    ns = stack.uniqueName(`inject-${version}`);
    await stack.createNamespace(ns);
    await stack.kube.core.patchNamespace(
      { name: ns, body: { metadata: { labels: { 'vaultbridge-e2e': ns } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: ns },
        webhooks: [
          {
            name: 'vault.hashicorp.com',
            admissionReviewVersions: [version],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            namespaceSelector: { matchLabels: { 'vaultbridge-e2e': ns } },
            clientConfig: {
              url: `https://127.0.0.1:${webhook.address.port}/mutate`,
              caBundle: Buffer.from(caPem).toString('base64'),
            },
            rules: [
              {
                operations: ['CREATE'],
                apiGroups: [''],
                apiVersions: ['v1'],
                resources: ['pods'],
                scope: 'Namespaced',
              },
            ],
          },
        ],
      },
    });
    // The API server picks webhook configurations up through an informer: wait until ours is live.
    for (let attempt = 0; attempt < 100; attempt++) {
      const probe = await stack.kube.core.createNamespacedPod({
        namespace: ns,
        body: podWith(`probe-${attempt}`, threeSecrets),
      });
      if (probe.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the webhook configuration never took effect');
  });

  afterAll(async () => {
    await admission.deleteMutatingWebhookConfiguration({ name: ns }).catch(() => undefined);
  });

  it('injects a pod with three secrets exactly as the pure mutation says', async () => {
    const pod = podWith('web', threeSecrets);
    const expected = decide(structuredClone(pod), ns, defaults);
    if (expected.kind !== 'inject')
      throw new Error(`expected an injection, got ${expected.kind}: ${JSON.stringify(expected)}`);
    const created = await stack.kube.core.createNamespacedPod({ namespace: ns, body: pod });
    // The API server adds its own defaults (imagePullPolicy, terminationMessagePath, …); everything
    // the webhook decided must be there unchanged, container for container and volume for volume.
    const serialize = (p: k8s.V1Pod) => JSON.parse(JSON.stringify(p)) as Record<string, any>;
    const got = serialize(created);
    const want = serialize(expected.pod);
    expect(got.metadata.annotations).toMatchObject(want.metadata.annotations);
    expect(got.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(
      want.spec.initContainers.map((c: { name: string }) => c.name),
    );
    expect(got.spec.initContainers).toMatchObject(want.spec.initContainers);
    expect(got.spec.containers).toMatchObject(want.spec.containers);
    expect(got.spec.volumes).toMatchObject(want.spec.volumes);
    expect(got.spec.initContainers[0].name).toBe('vault-agent-init');
    expect(got.spec.containers.map((c: { name: string }) => c.name)).toEqual(['web', 'vault-agent']);
    expect(got.spec.volumes.map((v: { name: string }) => v.name)).toEqual(
      expect.arrayContaining(['home-init', 'home-sidecar', 'vault-secrets']),
    );
  });

  it('refuses a pod with an invalid annotation, naming it and the accepted values', async () => {
    const pod = podWith('bad', { ...threeSecrets, 'vault.hashicorp.com/agent-pre-populate': 'maybe' });
    const error = await stack.kube.core.createNamespacedPod({ namespace: ns, body: pod }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(k8s.ApiException);
    const body = String((error as k8s.ApiException<unknown>).body);
    expect(body).toContain('vault.hashicorp.com/agent-pre-populate');
    expect(body).toMatch(/true|false/);
  });

  it('leaves a pod without the inject annotation alone', async () => {
    const created = await stack.kube.core.createNamespacedPod({ namespace: ns, body: podWith('plain', {}) });
    expect(created.spec?.initContainers ?? []).toEqual([]);
    expect(created.spec?.containers.map((c) => c.name)).toEqual(['web']);
    expect(created.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBeUndefined();
  });
});

describe('bad HTTP input', () => {
  const post = (body: string | Buffer, contentType = 'application/json'): Promise<number> =>
    postReview(webhook.address.port, body, { ca: caPem, contentType });

  it.each([
    ['non-JSON', '{not json', 'application/json', 400],
    ['a wrong content type', '{}', 'text/plain', 400],
    [
      'a review without a request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      'application/json',
      400,
    ],
    [
      'a review without a uid',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: {} } }),
      'application/json',
      400,
    ],
    ['a body over 4 MiB', Buffer.alloc(4 * 1024 * 1024 + 10, 'a'), 'application/json', 413],
  ])('answers %s with the right status and keeps serving', async (_label, body, contentType, status) => {
    expect(await post(body, contentType)).toBe(status);
    const ok = await post(
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'u1', namespace: 'x', object: podWith('p', {}) },
      }),
    );
    expect(ok).toBe(200);
  });
});

describe('cluster-wide annotation defaults from a ConfigMap', () => {
  it('applies them under the pod annotations', async () => {
    const ns = stack.uniqueName('defaults');
    await stack.createNamespace(ns);
    await stack.kube.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'injector-defaults' }, data: { 'agent-pre-populate-only': 'true' } },
    });
    const files = await servingCertificateFiles('defaults-e2e', 'injector');
    const withDefaults = await serveWebhook(
      parseServeFlags({
        listen: '127.0.0.1:0',
        logLevel: 'error',
        vaultAddress: defaults.vaultAddress,
        namespace: ns,
        annotationDefaultsConfigMap: 'injector-defaults',
        tlsCertFile: files.certFile,
        tlsKeyFile: files.keyFile,
      }),
      { kubeConfig: stack.kube.config },
    );
    const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
    try {
      await admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: ns },
          webhooks: [
            {
              name: 'vault.hashicorp.com',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
              clientConfig: {
                url: `https://127.0.0.1:${withDefaults.address.port}/mutate`,
                caBundle: Buffer.from(files.caPem).toString('base64'),
              },
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
            },
          ],
        },
      });
      let pod: k8s.V1Pod | undefined;
      for (let attempt = 0; attempt < 100; attempt++) {
        pod = await stack.kube.core.createNamespacedPod({ namespace: ns, body: podWith(`p-${attempt}`, threeSecrets) });
        if (pod.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // pre-populate-only from the ConfigMap: the init agent only, no sidecar.
      expect(pod?.spec?.initContainers?.map((c) => c.name)).toEqual(['vault-agent-init']);
      expect(pod?.spec?.containers.map((c) => c.name)).toEqual(['web']);
    } finally {
      await admission.deleteMutatingWebhookConfiguration({ name: ns }).catch(() => undefined);
      await withDefaults.close();
    }
  });
});
