// The chart installed into a real node: every component runs as a pod from the locally built
// images, its probes pass and its RBAC is enough.
import http from 'node:http';
import https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { chartNamespace, clusterStack, installChart, podLog, release, waitFor, waitForPodsReady } from './support.ts';

const env = clusterStack();

describe('helm install charts/vaultbridge on a real node', () => {
  beforeAll(async () => {
    await installChart(env);
  });

  it('runs every component Ready from the locally built images', async () => {
    const pods = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
    const byComponent = new Map<string, string[]>();
    for (const pod of pods) {
      const name = pod.metadata?.labels?.['app.kubernetes.io/name'] ?? '?';
      byComponent.set(name, [...(byComponent.get(name) ?? []), pod.spec!.containers[0]!.image!]);
    }
    expect(Object.fromEntries(byComponent)).toEqual({
      'vaultbridge-injector': [env.cluster.images.injector, env.cluster.images.injector],
      'vaultbridge-csi-provider': [env.cluster.images['csi-provider']],
      'vaultbridge-operator': [env.cluster.images.operator],
    });
    // Ready through their readiness probes, and no container restarted (liveness probes pass).
    for (const pod of pods) {
      for (const status of pod.status?.containerStatuses ?? []) {
        expect({ pod: pod.metadata?.name, ready: status.ready, restarts: status.restartCount }).toEqual({
          pod: pod.metadata?.name,
          ready: true,
          restarts: 0,
        });
      }
    }
  });

  it('puts the CSI provider socket where the driver on the node looks', async () => {
    const fs = await import('node:fs');
    expect(fs.existsSync(`${env.cluster.providersDir}/vault.sock`)).toBe(true);
  });

  // The images run node with --expose-gc, and each service gives back what start-up grew once it is quiet
  // (core's runtime/idle-memory-trim.ts). Read from each pod's own /metrics, as Prometheus scrapes it.
  it('gives memory back in every component once it is quiet: its images run node with --expose-gc', async () => {
    const pods = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
    for (const pod of pods) {
      const name = pod.metadata!.name!;
      const port = pod.spec!.containers[0]!.ports![0]!.containerPort;
      const injector = pod.metadata?.labels?.['app.kubernetes.io/name'] === 'vaultbridge-injector';
      const url = `${injector ? 'https' : 'http'}://${pod.status!.podIP!}:${port}/metrics`;
      const trims = await waitFor(env, chartNamespace, `${name}: an idle memory trim on ${url}`, async () => {
        const text = await metricsText(url, injector);
        const count = Number(/^vaultbridge_idle_memory_trims_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
        return count >= 1 ? count : undefined;
      });
      // and with glibc's malloc_trim too: the image carries malloc-trim.node beside its bundle and it loads.
      const log = await podLog(env, chartNamespace, name, pod.spec!.containers[0]!.name);
      const mallocTrim = log.includes("idle memory trim on: V8's memory-reducing collection, then malloc_trim");
      expect({ pod: name, trimmed: trims >= 1, mallocTrim }).toEqual({ pod: name, trimmed: true, mallocTrim: true });
    }
  });

  it("logs no 'forbidden' in any component: the chart's RBAC is enough", async () => {
    const pods = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
    for (const pod of pods) {
      for (const container of pod.spec!.containers) {
        const log = await podLog(env, chartNamespace, pod.metadata!.name!, container.name);
        expect({
          pod: pod.metadata?.name,
          forbidden: log.split('\n').filter((line) => /forbidden/i.test(line)),
        }).toEqual({ pod: pod.metadata?.name, forbidden: [] });
      }
    }
  });

  it.each([
    ['injector', 'vaultbridge-injector'],
    ['csiProvider', 'vaultbridge-csi-provider'],
    ['operator', 'vaultbridge-operator'],
  ])('turns %s off and on again by values, the others staying Ready', async (component, label) => {
    const pods = (selector: string) =>
      env.stack.kube.core.listNamespacedPod({ namespace: chartNamespace, labelSelector: selector });
    try {
      await installChart(env, [`${component}.enabled=false`]);
      await waitFor(env, chartNamespace, `the ${label} pods gone`, async () =>
        (await pods(`app.kubernetes.io/name=${label}`)).items.length === 0 ? true : undefined,
      );
      const others = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
      expect(others.map((p) => p.metadata?.labels?.['app.kubernetes.io/name'])).not.toContain(label);
    } finally {
      await installChart(env);
    }
    expect((await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/name=${label}`)).length).toBeGreaterThan(0);
  });

  // What the API server itself answers for each component's service account (SubjectAccessReview):
  // the permissions the running pods need are granted, and neighbouring ones are not.
  it.each([
    [
      'injector',
      'patch its own MutatingWebhookConfiguration',
      true,
      {
        group: 'admissionregistration.k8s.io',
        resource: 'mutatingwebhookconfigurations',
        verb: 'patch',
        name: `${release}-vaultbridge-injector`,
      },
    ],
    [
      'injector',
      "patch someone else's MutatingWebhookConfiguration",
      false,
      {
        group: 'admissionregistration.k8s.io',
        resource: 'mutatingwebhookconfigurations',
        verb: 'patch',
        name: 'other',
      },
    ],
    [
      'injector',
      'read its certificate Secret',
      true,
      { resource: 'secrets', verb: 'get', namespace: chartNamespace, name: `${release}-vaultbridge-injector-certs` },
    ],
    [
      'injector',
      'list Secrets in its namespace',
      false,
      { resource: 'secrets', verb: 'list', namespace: chartNamespace },
    ],
    [
      'injector',
      'read Secrets of an app namespace',
      false,
      { resource: 'secrets', verb: 'get', namespace: 'default', name: 'x' },
    ],
    [
      'csi-provider',
      "request a pod's service-account token",
      true,
      { resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'default', name: 'app' },
    ],
    [
      'csi-provider',
      'read its HMAC key Secret',
      true,
      { resource: 'secrets', verb: 'get', namespace: chartNamespace, name: 'vault-csi-provider-hmac-key' },
    ],
    [
      'csi-provider',
      'read any other Secret',
      false,
      { resource: 'secrets', verb: 'get', namespace: chartNamespace, name: 'x' },
    ],
    ['csi-provider', 'list pods', false, { resource: 'pods', verb: 'list' }],
    [
      'operator',
      'write destination Secrets in app namespaces',
      true,
      { resource: 'secrets', verb: 'update', namespace: 'default' },
    ],
    [
      'operator',
      'delete Secrets in app namespaces',
      false,
      { resource: 'secrets', verb: 'delete', namespace: 'default' },
    ],
    [
      'operator',
      'restart a Deployment',
      true,
      { group: 'apps', resource: 'deployments', verb: 'patch', namespace: 'default' },
    ],
    ['operator', 'create pods', false, { resource: 'pods', verb: 'create', namespace: 'default' }],
    [
      'operator',
      'delete Deployments',
      false,
      { group: 'apps', resource: 'deployments', verb: 'delete', namespace: 'default' },
    ],
  ] as Array<[string, string, boolean, k8s.V1ResourceAttributes]>)(
    '%s may %s: %s',
    async (component, _what, allowed, attributes) => {
      const authorization = env.stack.kube.config.makeApiClient(k8s.AuthorizationV1Api);
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${chartNamespace}:${release}-vaultbridge-${component}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${chartNamespace}`, 'system:authenticated'],
            resourceAttributes: attributes,
          },
        },
      });
      expect(review.status?.allowed ?? false).toBe(allowed);
    },
  );
});

/** A pod's /metrics; the injector serves it on its webhook port, under the chart's self-signed certificate. */
async function metricsText(url: string, selfSigned: boolean): Promise<string> {
  const request = url.startsWith('https:') ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5_000, ...(selfSigned ? { rejectUnauthorized: false } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}: ${body}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}
