// Readiness waits for the API server to trust the webhook: /health/ready stays 503 while the webhook
// configuration lacks the CA of the served certificate (a fresh install, or helm re-creating the
// configuration without the caBundle the injector patches in), since under failurePolicy Ignore a pod
// admitted then is stored without its agent. /health/live answers throughout.
import https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { KubeHttp } from '@vaultbridge/core';
import { createCertificateAuthority, issueCertificate, sharedStack, type TestStack } from '@vaultbridge/testenv';
import { InjectorMetrics } from '../src/webhook/metrics.ts';
import { WebhookServer } from '../src/webhook/server.ts';
import { AutoCertificateSource, caBundleTrusts } from '../src/webhook/tls/index.ts';

let stack: TestStack;
let admission: k8s.AdmissionregistrationV1Api;
let kube: KubeHttp;
beforeAll(() => {
  stack = sharedStack();
  admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
  kube = KubeHttp.fromKubeConfig(stack.kube.config);
});
afterAll(() => kube.close());

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 5_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
    request.on('error', reject);
  });
}

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function webhookConfiguration(name: string, caBundles: Array<string | undefined>): k8s.V1MutatingWebhookConfiguration {
  return {
    metadata: { name },
    webhooks: caBundles.map((caBundle, index) => ({
      name: `w${index}.${name}.vaultbridge.dev`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      // Matches nothing: the test is about the configuration, not reviews.
      namespaceSelector: { matchLabels: { [`never-${name}`]: 'true' } },
      clientConfig: {
        url: 'https://127.0.0.1:1/mutate',
        ...(caBundle ? { caBundle: Buffer.from(caBundle).toString('base64') } : {}),
      },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    })),
  };
}

it('is unready until the webhook configuration holds its CA, and live throughout', async () => {
  const ns = stack.uniqueName('ready');
  await stack.createNamespace(ns);
  const certificates = new AutoCertificateSource({
    kube,
    namespace: ns,
    secretName: `${ns}-certs`,
    webhookConfigName: ns,
    hosts: ['127.0.0.1'],
    identity: 'replica-a',
    pollMs: 200,
    leaseDurationSeconds: 5,
  });
  const server = new WebhookServer({
    handler: () => {
      throw new Error('no reviews in this test');
    },
    certificates,
    metrics: new InjectorMetrics(undefined, false),
    logger: pino({ level: 'silent' }),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    // Serving a certificate, but no configuration carries its CA yet: not ready, yet live.
    expect(certificates.current()).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await status(port, '/health/ready')).toBe(503);
    expect(await status(port, '/health/live')).toBe(204);

    // helm creates the configuration without caBundle; the leader patches it in, then readiness follows.
    await admission.createMutatingWebhookConfiguration({ body: webhookConfiguration(ns, [undefined, undefined]) });
    await eventually('ready once the CA is published', async () => (await status(port, '/health/ready')) === 204);
    const stored = await admission.readMutatingWebhookConfiguration({ name: ns });
    for (const webhook of stored.webhooks ?? [])
      expect(Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString()).toBe(certificates.current()!.caPem);

    // The configuration re-created without it (helm uninstall/install of the injector): unready until
    // the leader publishes again.
    await admission.deleteMutatingWebhookConfiguration({ name: ns });
    await eventually(
      'unready once the configuration is gone',
      async () => (await status(port, '/health/ready')) === 503,
    );
    await admission.createMutatingWebhookConfiguration({ body: webhookConfiguration(ns, [undefined, undefined]) });
    await eventually('ready again', async () => (await status(port, '/health/ready')) === 204);
  } finally {
    await server.close();
    await admission.deleteMutatingWebhookConfiguration({ name: ns }).catch(() => undefined);
  }
});

it('trusts a configuration only when every webhook holds a CA that signed the leaf', async () => {
  const name = stack.uniqueName('trust');
  const ours = await createCertificateAuthority('ours');
  const other = await createCertificateAuthority('other');
  const leaf = await issueCertificate(ours, { commonName: 'w', usage: 'server', ipAddresses: ['127.0.0.1'] });
  expect(await caBundleTrusts(kube, name, leaf.certPem)).toBe(false);
  try {
    await admission.createMutatingWebhookConfiguration({
      body: webhookConfiguration(name, [other.certPem, ours.certPem]),
    });
    expect(await caBundleTrusts(kube, name, leaf.certPem)).toBe(false);
    await admission.replaceMutatingWebhookConfiguration({
      name,
      body: {
        ...webhookConfiguration(name, [other.certPem + ours.certPem, ours.certPem]),
        metadata: {
          name,
          resourceVersion: (await admission.readMutatingWebhookConfiguration({ name })).metadata?.resourceVersion,
        },
      },
    });
    expect(await caBundleTrusts(kube, name, leaf.certPem)).toBe(true);
  } finally {
    await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
  }
});
