// Two webhook replicas share one CA through a Secret: while the leader rotates the serving leaf and
// then the CA itself, the real API server keeps admitting pods through both of them.
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { InjectorMetrics } from '../src/webhook/metrics.ts';
import type { AdmissionHandler } from '../src/webhook/admission-adapter.ts';
import { WebhookServer } from '../src/webhook/server.ts';
import { AutoCertificateSource } from '../src/webhook/tls/index.ts';
import { inClusterWebhookAccess } from './support/in-cluster.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

function labelling(replica: string): AdmissionHandler {
  return (body) => {
    const review = JSON.parse(body) as { apiVersion: string; request: { uid: string; namespace: string } };
    const patch = [{ op: 'add', path: `/metadata/labels/${replica}`, value: 'admitted' }];
    return {
      status: 200,
      namespace: review.request.namespace,
      outcome: 'injected',
      payload: JSON.stringify({
        apiVersion: review.apiVersion,
        kind: 'AdmissionReview',
        response: {
          uid: review.request.uid,
          allowed: true,
          patchType: 'JSONPatch',
          patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
        },
      }),
    };
  };
}

it('keeps admission working through leaf and CA rotation with two replicas', async () => {
  const ns = stack.uniqueName('tls');
  const secretName = `${ns}-certs`;
  await stack.createNamespace(ns);
  await stack.kube.core.patchNamespace(
    { name: ns, body: { metadata: { labels: { 'tls-test': ns } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Each replica as in its pod: the service account's projected token and CA under the chart's RBAC.
  const access = await inClusterWebhookAccess(stack, ns, secretName, ns);
  const replicas = ['replica-a', 'replica-b'].map((identity) => {
    const certificates = new AutoCertificateSource({
      kube: access.connect(),
      namespace: ns,
      secretName,
      webhookConfigName: ns,
      hosts: ['127.0.0.1', 'localhost'],
      identity,
      caValidityMs: 24_000,
      leafValidityMs: 8_000,
      rotateFraction: 0.5,
      caPropagationMs: 2_000,
      pollMs: 200,
      leaseDurationSeconds: 5,
    });
    const server = new WebhookServer({
      handler: labelling(identity),
      certificates,
      metrics: new InjectorMetrics(undefined, false),
      logger,
    });
    return { identity, certificates, server };
  });
  try {
    // Replicas start before the configuration exists; their ports are needed to write it.
    const addresses = await Promise.all(replicas.map((r) => r.server.listen(0, '127.0.0.1')));
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: ns },
        webhooks: replicas.map((r, i) => ({
          name: `${r.identity}.tls-test.vaultbridge.dev`,
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          namespaceSelector: { matchLabels: { 'tls-test': ns } },
          clientConfig: { url: `https://127.0.0.1:${addresses[i]!.port}/mutate` },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        })),
      },
    });

    const createPod = (name: string) =>
      stack.kube.core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name, labels: { app: 'demo' } },
          spec: { containers: [{ name: 'app', image: 'busybox' }] },
        },
      });
    // Wait until the leader has published the CA and the API server's webhook informer has it.
    let ready = false;
    for (let attempt = 0; attempt < 100 && !ready; attempt++) {
      try {
        await createPod(`warmup-${attempt}`);
        ready = true;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(ready).toBe(true);

    const leaves = new Set<string>();
    const caBundles = new Set<string>();
    const failures: string[] = [];
    const deadline = Date.now() + 20_000;
    for (let i = 0; Date.now() < deadline; i++) {
      for (const r of replicas) {
        const served = r.certificates.current();
        if (served) {
          leaves.add(served.certPem);
          caBundles.add(served.caPem ?? '');
        }
      }
      try {
        const pod = await createPod(`pod-${i}`);
        if (pod.metadata?.labels?.['replica-a'] !== 'admitted' || pod.metadata?.labels?.['replica-b'] !== 'admitted')
          failures.push(`pod-${i}: not admitted by both replicas`);
      } catch (error) {
        failures.push(
          `pod-${i}: ${error instanceof k8s.ApiException ? String(error.body).slice(150, 600) : String(error)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(failures).toEqual([]);
    expect(leaves.size).toBeGreaterThanOrEqual(3); // the leaf rotated at least twice
    expect(caBundles.size).toBeGreaterThanOrEqual(2); // and the CA once
    expect(replicas.filter((r) => r.certificates.isLeader)).toHaveLength(1);
    // Both serve from the one Secret: whatever one just picked up, the other has within a poll or two.
    // (Compared at one instant this can catch a replica between two polls, up to pollMs behind.)
    const converged = async (): Promise<boolean> => {
      for (let attempt = 0; attempt < 50; attempt++) {
        if (replicas[0]!.certificates.current()?.caPem === replicas[1]!.certificates.current()?.caPem) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await converged()).toBe(true);
  } finally {
    await Promise.all(replicas.map((r) => r.server.close()));
    await admission.deleteMutatingWebhookConfiguration({ name: ns }).catch(() => undefined);
    await access.cleanup();
  }
}, 90_000);
